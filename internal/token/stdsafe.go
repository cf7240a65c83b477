package token

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// SignStdCompatible is Sign for tokens whose payload segment some client
// decodes with the standard base64 alphabet instead of base64url (the
// Azure SDK for Go reads an ACR refresh token's exp that way: it pads the
// segment with '=' and calls base64.StdEncoding).
//
// The token is an ordinary compact JWS that Verify accepts; only the
// payload's JSON text is chosen so that its base64url encoding is also
// its standard encoding, without padding:
//
//   - The two alphabets differ only in the characters for the sextets 62
//     and 63 ('-' and '_' against '+' and '/'). In 7-bit ASCII text those
//     arise only from the bytes '>', '?', '~' and DEL (low six bits
//     111110 or 111111) in the last position of a 3-byte group; every
//     other sextet of an ASCII group stays below 62. So every byte that is
//     not ASCII, and every '>', '?', '~' and DEL, is written as a JSON
//     \uXXXX escape (they can occur only inside strings, where escapes
//     mean the same characters).
//   - The payload is padded with trailing spaces (insignificant JSON
//     whitespace) to a multiple of three bytes, so that the segment needs
//     no '=' padding and a decoder that pads it wrongly still succeeds.
func (s *Signer) SignStdCompatible(claims any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("token: encode claims: %w", err)
	}
	if len(payload) == 0 || payload[0] != '{' {
		return "", fmt.Errorf("token: claims must encode as a JSON object, got %.20s", payload)
	}
	jws, err := s.signer.Sign(stdSafeJSON(payload))
	if err != nil {
		return "", fmt.Errorf("token: sign: %w", err)
	}
	return jws.CompactSerialize()
}

// stdSafeJSON rewrites valid JSON text so that it holds only ASCII bytes
// other than '>', '?', '~' and DEL, and pads it with spaces to a multiple
// of three bytes (see SignStdCompatible).
func stdSafeJSON(in []byte) []byte {
	out := make([]byte, 0, len(in)+len(in)/8+2)
	for i := 0; i < len(in); {
		c := in[i]
		if c < utf8.RuneSelf {
			if c == '>' || c == '?' || c == '~' || c == 0x7f {
				out = appendEscape(out, rune(c))
			} else {
				out = append(out, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(in[i:])
		i += n
		if r1, r2 := utf16.EncodeRune(r); r1 != utf8.RuneError {
			out = appendEscape(appendEscape(out, r1), r2)
			continue
		}
		out = appendEscape(out, r)
	}
	for len(out)%3 != 0 {
		out = append(out, ' ')
	}
	return out
}

// appendEscape appends the JSON escape \uXXXX of a UTF-16 code unit, with
// lower-case hex digits (all safe bytes).
func appendEscape(out []byte, r rune) []byte {
	out = append(out, '\\', 'u')
	h := strconv.FormatInt(int64(r), 16)
	for i := len(h); i < 4; i++ {
		out = append(out, '0')
	}
	return append(out, h...)
}
