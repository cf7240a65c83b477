package cli

import (
	"strings"
	"testing"
)

func TestRedactArgsHidesEverySecret(t *testing.T) {
	args := []string{"container", "create", "--registry-password", "pw1", "--secure-environment-variables", "A=s1", "B=s2",
		"--secrets", "k=s3", "--image", "x", "--registry-password=pw2", "-p", "pw3", "--client-secret", "pw4"}
	got := strings.Join(redactArgs(args), " ")
	for _, secret := range []string{"pw1", "s1", "s2", "s3", "pw2", "pw3", "pw4"} {
		if strings.Contains(got, secret) {
			t.Fatalf("%q shows %s", got, secret)
		}
	}
	if !strings.Contains(got, "--image x") {
		t.Fatalf("%q lost an ordinary argument", got)
	}
}
