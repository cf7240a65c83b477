package token

import (
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// sdkDecode decodes a token's payload the way the Azure SDK for Go's
// container registry client reads a refresh token's exp: split on '.',
// pad with '=' to a multiple of four, base64.StdEncoding.
func sdkDecode(t *testing.T, tok string) []byte {
	t.Helper()
	seg := strings.Split(tok, ".")[1]
	if p := len(seg) % 4; p > 0 {
		seg += strings.Repeat("=", 4-p)
	}
	data, err := base64.StdEncoding.DecodeString(seg)
	if err != nil {
		t.Fatalf("StdEncoding.DecodeString(payload): %v", err)
	}
	return data
}

func TestSignStdCompatible(t *testing.T) {
	s := New(testKey())
	type claims struct {
		Sub   string         `json:"sub"`
		Exp   int64          `json:"exp"`
		Names []string       `json:"names"`
		More  map[string]any `json:"more,omitempty"`
	}
	tests := []claims{
		{Sub: "plain", Exp: 1},
		// Every byte that would put '-' or '_' into base64url, at each of
		// the three positions of a 3-byte group.
		{Sub: "?>~\x7f", Exp: 1700000000, Names: []string{"a?", "ab?", "abc?", "~~~", ">>>", "???"}},
		{Sub: "oOo_/?/o", Exp: 1, Names: []string{"ünïcödé", "日本語", "emoji 😀", "\u2028", "<&>"}},
		{Sub: "", Exp: 99, More: map[string]any{"k?": "v~", "n": 1.5}},
	}
	for i, c := range tests {
		tok, err := s.SignStdCompatible(c)
		if err != nil {
			t.Fatal(err)
		}
		payload := strings.Split(tok, ".")[1]
		if strings.ContainsAny(payload, "-_=") {
			t.Errorf("%d: payload segment %q holds a character outside the standard alphabet", i, payload)
		}
		if len(payload)%4 != 0 {
			t.Errorf("%d: payload segment length %d needs padding", i, len(payload))
		}
		var got claims
		if err := json.Unmarshal(sdkDecode(t, tok), &got); err != nil {
			t.Fatalf("%d: SDK-style decode: %v", i, err)
		}
		if !reflect.DeepEqual(got, c) {
			t.Errorf("%d: SDK-style decode = %+v, want %+v", i, got, c)
		}
		var verified claims
		if err := s.Verify(tok, &verified); err != nil {
			t.Fatalf("%d: Verify: %v", i, err)
		}
		if !reflect.DeepEqual(verified, c) {
			t.Errorf("%d: Verify = %+v, want %+v", i, verified, c)
		}
	}
}

func TestSignStdCompatibleErrors(t *testing.T) {
	s := New(testKey())
	if _, err := s.SignStdCompatible([]int{1}); err == nil {
		t.Error("a JSON array was signed")
	}
	if _, err := s.SignStdCompatible(func() {}); err == nil {
		t.Error("an unencodable value was signed")
	}
}

// TestStdSafeJSONBytes checks the byte-level claim behind
// SignStdCompatible exhaustively: for every ASCII byte the rewrite keeps,
// at every position of a 3-byte group, base64url and standard base64 agree.
func TestStdSafeJSONBytes(t *testing.T) {
	var safe []byte
	for c := 0; c < 0x80; c++ {
		if out := stdSafeJSON([]byte{byte(c)}); out[0] == byte(c) {
			safe = append(safe, byte(c))
		}
	}
	if len(safe) != 128-4 {
		t.Fatalf("%d bytes kept, want 124", len(safe))
	}
	buf := make([]byte, 3)
	for _, a := range safe {
		for _, b := range safe {
			for _, c := range safe {
				buf[0], buf[1], buf[2] = a, b, c
				if url, std := base64.RawURLEncoding.EncodeToString(buf), base64.RawStdEncoding.EncodeToString(buf); url != std {
					t.Fatalf("%q encodes as %q in base64url", buf, url)
				}
			}
			if url, std := base64.RawURLEncoding.EncodeToString(buf[:2]), base64.RawStdEncoding.EncodeToString(buf[:2]); url != std {
				t.Fatalf("%q encodes as %q in base64url", buf[:2], url)
			}
		}
	}
}

func TestStdSafeJSONEscapes(t *testing.T) {
	for in, want := range map[string]string{
		`{"a":"?"}`:  `{"a":"\u003f"} `,
		`{"a":"é"}`:  `{"a":"\u00e9"} `,
		`{"a":"😀"}`:  `{"a":"\ud83d\ude00"} `,
		`{"a":"~>"}`: `{"a":"\u007e\u003e"} `,
		`{}`:         `{} `,
		`{"a":1}`:    `{"a":1}  `,
	} {
		got := string(stdSafeJSON([]byte(in)))
		if got != want {
			t.Errorf("stdSafeJSON(%s) = %q, want %q", in, got, want)
		}
		var a, b any
		if err := json.Unmarshal([]byte(in), &a); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(got), &b); err != nil || !reflect.DeepEqual(a, b) {
			t.Errorf("stdSafeJSON(%s) decodes to %v (%v), want %v", in, b, err, a)
		}
	}
}
