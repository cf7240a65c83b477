package identity

import (
	"crypto/sha256"
	"crypto/subtle"
	"io"
)

// secretAlphabet is the character set of Entra client secrets; its first 62
// characters are the alphanumerics used for the hint.
const secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.~-"

// newSecret returns a 40-character secret shaped like Entra's: three
// alphanumerics (the hint), a "8Q~" marker, then 34 characters of the full
// alphabet — about 220 bits of entropy. Characters are drawn by rejection
// sampling, so there is no modulo bias.
func newSecret(r io.Reader) (string, error) {
	out := make([]byte, 0, 40)
	var buf [64]byte
	for len(out) < 40 {
		if _, err := io.ReadFull(r, buf[:]); err != nil {
			return "", err
		}
		for _, b := range buf {
			if len(out) == 3 {
				out = append(out, "8Q~"...)
			}
			if len(out) == 40 {
				break
			}
			n := len(secretAlphabet)
			if len(out) < 3 {
				n = 62
			}
			if limit := 256 - 256%n; int(b) >= limit {
				continue
			}
			out = append(out, secretAlphabet[int(b)%n])
		}
	}
	return string(out), nil
}

// hashSecret returns SHA-256(salt || secret).
func hashSecret(salt []byte, secret string) []byte {
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte(secret))
	return h.Sum(nil)
}

// matches reports, in constant time, whether secret is the credential's.
func (c PasswordCredential) matches(secret string) bool {
	return subtle.ConstantTimeCompare(hashSecret(c.Salt, secret), c.Hash) == 1
}
