package registry

import (
	"crypto/rand"
	"regexp"
	"testing"
)

func TestNewPassword(t *testing.T) {
	shape := regexp.MustCompile(`^[A-Za-z0-9+/]{42}\+ACR[A-Za-z0-9]{6}$`)
	seen := map[string]bool{}
	for range 200 {
		p, err := newPassword(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if !shape.MatchString(p) {
			t.Fatalf("password %q does not have ACR's shape", p)
		}
		if seen[p] {
			t.Fatalf("password %q repeated", p)
		}
		seen[p] = true
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errFail }

var errFail = ErrUnsupported

func TestNewPasswordReaderError(t *testing.T) {
	if _, err := newPassword(failingReader{}); err == nil {
		t.Error("newPassword ignored a failing reader")
	}
}
