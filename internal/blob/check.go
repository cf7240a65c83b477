package blob

import (
	"crypto/subtle"
	"encoding/hex"
	"fmt"

	"github.com/opencontainers/go-digest"
)

// Checks every backend makes the same way.

// MaxUploadIDLen bounds an upload session id; ids are [A-Za-z0-9_-]{1,128}.
const MaxUploadIDLen = 128

// ValidUploadID reports whether id is a well-formed session id. Backends
// report anything else as ErrUploadNotFound and never let it become part
// of a path or key.
func ValidUploadID(id string) bool {
	if len(id) == 0 || len(id) > MaxUploadIDLen {
		return false
	}
	for i := range len(id) {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

// VerifySum checks a computed hash against d's encoded part, in constant
// time: ErrDigestMismatch, naming both, if they differ.
func VerifySum(d digest.Digest, sum []byte) error {
	want, err := hex.DecodeString(d.Encoded())
	if err != nil || subtle.ConstantTimeCompare(sum, want) != 1 {
		return ErrDigestMismatch.WithCause(fmt.Errorf("content is %s:%x, want %s", d.Algorithm(), sum, d))
	}
	return nil
}

// SizeMismatch is ErrSizeMismatch for content of got bytes where want were
// declared; qualifier ("at least ", "declared ") says how got is known.
func SizeMismatch(got, want int64, qualifier string) error {
	return ErrSizeMismatch.WithCause(fmt.Errorf("content is %s%d bytes, want %d", qualifier, got, want))
}
