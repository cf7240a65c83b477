// Package binary builds the cerulean binary once per test process, for the
// tests that drive it as users do (test/e2e, test/azureclients), with a
// link named az beside it (the binary is the CLI under that name).
package binary

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
)

var (
	once sync.Once
	dir  string
	err  error
)

// Dir builds cerulean (and the az link) on the first call and returns the
// directory that holds them.
func Dir() (string, error) {
	once.Do(func() {
		dir, err = os.MkdirTemp("", "cerulean-bin-")
		if err != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "cerulean"), "./cmd/cerulean")
		cmd.Dir = moduleRoot()
		if out, buildErr := cmd.CombinedOutput(); buildErr != nil {
			err = fmt.Errorf("go build: %w\n%s", buildErr, out)
			return
		}
		err = os.Symlink("cerulean", filepath.Join(dir, "az"))
	})
	return dir, err
}

// Remove deletes what Dir built; TestMain calls it after the tests.
func Remove() {
	if dir != "" {
		_ = os.RemoveAll(dir)
	}
}

// moduleRoot is the repository root, two levels above this file.
func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}
