package cli

import (
	"bytes"
	"context"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cerulean/cerulean/internal/bootstrap"
)

// testEnv runs the CLI in-process against a fakeAzure, with its own HOME.
type testEnv struct {
	t       *testing.T
	fake    *fakeAzure
	home    string
	env     map[string]string
	uuidSeq int
	stdin   string
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	fake := newFakeAzure()
	t.Cleanup(fake.close)
	home := t.TempDir()
	dataDir := filepath.Join(home, ".cerulean")
	if err := os.MkdirAll(filepath.Join(dataDir, "tls"), 0o700); err != nil {
		t.Fatal(err)
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: fake.srv.Certificate().Raw})
	if err := os.WriteFile(filepath.Join(dataDir, "tls", "ca.pem"), caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := bootstrap.Save(bootstrap.Path(dataDir), bootstrap.Credentials{
		TenantID: fakeTenant, TenantDomain: "cerulean.onmicrosoft.com", SubscriptionID: fakeSubscription,
		SubscriptionName: "Cerulean", AppID: fakeOwnerAppID, ObjectID: fakeOwnerObject,
		DisplayName: "cerulean-bootstrap-owner", Password: fakeOwnerSecret,
	}); err != nil {
		t.Fatal(err)
	}
	return &testEnv{t: t, fake: fake, home: home, env: map[string]string{
		"HOME":              home,
		"CERULEAN_ENDPOINT": fake.srv.URL,
	}}
}

func (e *testEnv) getenv(k string) string { return e.env[k] }

// run runs one az command line and returns stdout, stderr and the exit code.
func (e *testEnv) run(args ...string) (string, string, int) {
	var out, errb bytes.Buffer
	a := newApp(strings.NewReader(e.stdin), &out, &errb, e.getenv)
	a.now = func() time.Time { return fakeTime }
	a.uuid = func() string {
		e.uuidSeq++
		return fmt.Sprintf("bbbbbbbb-0000-0000-0000-%012d", e.uuidSeq)
	}
	a.sleep = func(context.Context, time.Duration) error { return nil }
	a.pollInterval = time.Millisecond
	code := a.run(context.Background(), args)
	return out.String(), errb.String(), code
}

// mustRun runs a command that must succeed.
func (e *testEnv) mustRun(args ...string) string {
	e.t.Helper()
	out, errs, code := e.run(args...)
	if code != 0 {
		e.t.Fatalf("az %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

// normalize replaces run-specific values (server URL, temp dir) by stable
// placeholders.
func (e *testEnv) normalize(s string) string {
	s = strings.ReplaceAll(s, e.fake.srv.URL, "https://SERVER")
	return strings.ReplaceAll(s, e.home, "$HOME")
}

// splitShell splits a command line like a POSIX shell does for simple
// quoting ('...', "...", backslash escapes).
func splitShell(line string) ([]string, error) {
	var args []string
	var cur strings.Builder
	inArg := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unterminated quote in %q", line)
			}
			cur.WriteString(line[i+1 : i+1+j])
			i += j + 1
			inArg = true
		case c == '"':
			i++
			for ; i < len(line) && line[i] != '"'; i++ {
				if line[i] == '\\' && i+1 < len(line) {
					i++
				}
				cur.WriteByte(line[i])
			}
			if i >= len(line) {
				return nil, fmt.Errorf("unterminated quote in %q", line)
			}
			inArg = true
		case c == '\\' && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
			inArg = true
		case c == ' ' || c == '\t':
			if inArg {
				args = append(args, cur.String())
				cur.Reset()
				inArg = false
			}
		default:
			cur.WriteByte(c)
			inArg = true
		}
	}
	if inArg {
		args = append(args, cur.String())
	}
	return args, nil
}
