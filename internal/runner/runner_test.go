package runner

import (
	"errors"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/cerulean/cerulean/internal/containergroup"
	"github.com/cerulean/cerulean/internal/runner/runnertest"
)

// The test binary is also the shim: Start runs `<test binary> shim <dir>`.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "shim" {
		os.Exit(ShimMain(os.Args[2:]))
	}
	if len(os.Args) > 1 && os.Args[1] == "exec-child" {
		os.Exit(execChild(os.Args[2:]))
	}
	os.Exit(m.Run())
}

func requireRoot(t testing.TB, runtime string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the runner needs root")
	}
	if _, err := exec.LookPath(runtime); err != nil {
		if os.Getenv("CERULEAN_E2E_REQUIRE") == "1" && runtime == "runc" {
			t.Fatalf("%s is required: %v", runtime, err)
		}
		t.Skipf("no %s: %v", runtime, err)
	}
}

func newTestRunner(t testing.TB, runtime, dir string) *Runner {
	t.Helper()
	r, err := New(Config{Dir: dir, Runtime: runtime, BackoffBase: 10 * time.Millisecond, BackoffMax: 40 * time.Millisecond, StopGrace: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestConformanceRunc(t *testing.T) {
	requireRoot(t, "runc")
	runnertest.RunSuite(t, func(t *testing.T, dir string) containergroup.Runner { return newTestRunner(t, "runc", dir) })
}

func TestConformanceCrun(t *testing.T) {
	requireRoot(t, "crun")
	if _, err := New(Config{Dir: t.TempDir(), Runtime: "crun"}); errors.Is(err, ErrRuntimeUnsupported) {
		t.Skip(err)
	}
	runnertest.RunSuite(t, func(t *testing.T, dir string) containergroup.Runner { return newTestRunner(t, "crun", dir) })
}
