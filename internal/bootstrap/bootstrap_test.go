package bootstrap

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestParseMarshal: what Marshal writes, Parse and Load read back; Parse
// refuses incomplete or malformed credentials.
func TestParseMarshal(t *testing.T) {
	c := Credentials{TenantID: "t", TenantDomain: "d", SubscriptionID: "s", SubscriptionName: "n", AppID: "a", ObjectID: "o", DisplayName: "x", Password: "p"}
	got, err := Parse(Marshal(c))
	if err != nil || got != c {
		t.Fatalf("Parse(Marshal): %+v, %v", got, err)
	}
	path := filepath.Join(t.TempDir(), FileName)
	if err := Save(path, c); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("file mode: %v, %v", fi, err)
	}
	if got, err := Load(path); err != nil || got != c {
		t.Fatalf("Load: %+v, %v", got, err)
	}
	for name, in := range map[string]string{
		"not JSON":        "{",
		"no password":     `{"tenantId":"t","subscriptionId":"s","appId":"a"}`,
		"no subscription": `{"tenantId":"t","appId":"a","password":"p"}`,
		"a JSON string":   `"x"`,
		"empty":           ``,
	} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
	if err := os.WriteFile(path, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Load of an incomplete file: %v, want an error naming it", err)
	}
}
