package registry

import (
	"io"

	"github.com/cerulean/cerulean/internal/errdefs"
)

const (
	// passwordAlphabet is the base64 alphabet ACR admin passwords use.
	passwordAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	// passwordRandom is how many random characters start a password.
	passwordRandom = 42
	// passwordMarker follows them, as in ACR's passwords.
	passwordMarker = "+ACR"
	// passwordTail is how many random alphanumerics end a password.
	passwordTail = 6
)

// newPassword returns a 52-character password shaped like ACR's current
// admin passwords: 42 characters of the base64 alphabet, "+ACR", and 6
// alphanumerics (about 288 bits of entropy). Characters are drawn by
// rejection sampling, so there is no modulo bias.
func newPassword(r io.Reader) (string, error) {
	out := make([]byte, 0, passwordRandom+len(passwordMarker)+passwordTail)
	var buf [64]byte
	for len(out) < cap(out) {
		if _, err := io.ReadFull(r, buf[:]); err != nil {
			return "", err
		}
		for _, b := range buf {
			if len(out) == passwordRandom {
				out = append(out, passwordMarker...)
			}
			if len(out) == cap(out) {
				break
			}
			n := len(passwordAlphabet)
			if len(out) > passwordRandom {
				n = 62 // the tail is alphanumeric
			}
			if int(b) >= 256-256%n {
				continue
			}
			out = append(out, passwordAlphabet[int(b)%n])
		}
	}
	return string(out), nil
}

// newAdminPassword makes and seals a password.
func (s *Service) newAdminPassword(name string) (AdminPassword, error) {
	if s.sealer == nil {
		return AdminPassword{}, errdefs.Internalf(nil, "registry: no sealer configured")
	}
	v, err := newPassword(s.rand)
	if err != nil {
		return AdminPassword{}, errdefs.Internalf(err, "registry: generate admin password")
	}
	sealed, err := s.sealer.Seal([]byte(v))
	if err != nil {
		return AdminPassword{}, errdefs.Internalf(err, "registry: seal admin password")
	}
	return AdminPassword{Name: name, Sealed: sealed, CreatedAt: s.clock()}, nil
}
