package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/runner/runnertest"
	"github.com/cerulean/cerulean/internal/task"
)

// patience bounds waits so that a broken executor fails rather than hangs;
// no assertion depends on it.
const execPatience = 60 * time.Second

type execOut struct {
	code           int
	err            error
	stdout, stderr string
}

func newUpper(t *testing.T) string {
	t.Helper()
	upper := filepath.Join(t.TempDir(), "upper")
	if err := os.Mkdir(upper, 0o755); err != nil {
		t.Fatal(err)
	}
	return upper
}

func run(t *testing.T, r *Runner, req task.ExecRequest) execOut {
	t.Helper()
	var stdout, stderr bytes.Buffer
	req.Stdout, req.Stderr = &stdout, &stderr
	if req.Upper == "" {
		req.Upper = newUpper(t)
	}
	if req.Env == nil {
		req.Env = []string{"PATH=/bin"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), execPatience)
	defer cancel()
	code, err := r.Execute(ctx, req)
	assertExecReleased(t, r, req.ID, req.Upper)
	return execOut{code, err, stdout.String(), stderr.String()}
}

// assertExecReleased checks that nothing of the execution is left but
// Upper: no mount, bundle, runtime state, cgroup, overlay workdir.
func assertExecReleased(t *testing.T, r *Runner, id, upper string) {
	t.Helper()
	if mps, _ := mountsUnder(r.base); len(mps) > 0 {
		t.Errorf("mounts left under %s: %v", r.base, mps)
	}
	if mps, _ := mountsUnder(upper); len(mps) > 0 {
		t.Errorf("mounts left on %s: %v", upper, mps)
	}
	if _, err := os.Stat(r.execDir(id)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("bundle left: %v", err)
	}
	cid := execContainerID(id)
	if _, err := os.Stat(filepath.Join(r.runtimeRoot, cid)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("runtime state left: %v", err)
	}
	if d := cgroupDirs(cgroupName(r.runtimeRoot, cid)); len(d) > 0 {
		t.Errorf("cgroups left: %v", d)
	}
	if entries, err := os.ReadDir(filepath.Dir(upper)); err != nil || len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("next to upper: %v (%v), want only upper", names, err)
	}
}

func cgroupDirs(name string) []string {
	var out []string
	if unifiedCgroups() {
		if _, err := os.Stat(filepath.Join("/sys/fs/cgroup/cerulean", name)); err == nil {
			out = append(out, filepath.Join("/sys/fs/cgroup/cerulean", name))
		}
		return out
	}
	entries, _ := os.ReadDir("/sys/fs/cgroup")
	for _, e := range entries {
		p := filepath.Join("/sys/fs/cgroup", e.Name(), "cerulean", name)
		if _, err := os.Stat(p); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// cgroupPids lists the host pids in the execution's cgroup.
func cgroupPids(r *Runner, id string) []int {
	name := cgroupName(r.runtimeRoot, execContainerID(id))
	p := filepath.Join("/sys/fs/cgroup/pids/cerulean", name, "cgroup.procs")
	if unifiedCgroups() {
		p = filepath.Join("/sys/fs/cgroup/cerulean", name, "cgroup.procs")
	}
	b, _ := os.ReadFile(p)
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		if n, err := strconv.Atoi(f); err == nil {
			pids = append(pids, n)
		}
	}
	return pids
}

func newExecRunner(t *testing.T) (*Runner, []string) {
	t.Helper()
	requireRoot(t, "runc")
	img := runnertest.BusyboxImage(t)
	return newTestRunner(t, "runc", t.TempDir()), img.Layers
}

func sh(script string) []string { return []string{"/bin/sh", "-c", script} }

func TestExecuteOutputAndExitCodes(t *testing.T) {
	r, layers := newExecRunner(t)
	for _, tc := range []struct {
		name, stdout, stderr string
		args                 []string
		code                 int
	}{
		{"echo", "out\n", "err\n", sh("echo out; echo err >&2"), 0},
		{"exit code", "partial\n", "", sh("echo partial; exit 3"), 3},
		{"pid 1", "1\n", "", sh("echo $$"), 0},
		// HOME is the runtime's, from passwd, as Docker's.
		{"env as given", "A=1\nPATH=/bin\nHOME=/root\n", "", []string{"/bin/env"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := run(t, r, task.ExecRequest{ID: "out-" + strings.ReplaceAll(tc.name, " ", "-"), Layers: layers, Args: tc.args, Env: []string{"A=1", "PATH=/bin"}})
			if got.err != nil || got.code != tc.code || got.stdout != tc.stdout || got.stderr != tc.stderr {
				t.Errorf("got %d %v stdout %q stderr %q; want %d stdout %q stderr %q", got.code, got.err, got.stdout, got.stderr, tc.code, tc.stdout, tc.stderr)
			}
		})
	}
}

// TestExecuteIsolation checks what the hardened spec gives the process.
func TestExecuteIsolation(t *testing.T) {
	r, layers := newExecRunner(t)
	got := run(t, r, task.ExecRequest{ID: "iso", Layers: layers, User: "app", Args: sh(strings.Join([]string{
		"grep -E '^(NoNewPrivs|Seccomp|CapBnd|CapEff):' /proc/self/status",
		"ulimit -n",
		"cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max",
		"cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max",
		"hostname", "grep -c ' /proc/timer_list ' /proc/self/mounts", "grep -c ' /proc/sys .* ro,' /proc/self/mounts",
	}, "; "))})
	fields := strings.Fields(got.stdout)
	want := []string{
		"CapEff:", "0000000000000000", "CapBnd:", "00000000a80425fb", // Docker's default set; none for a user
		"NoNewPrivs:", "1", "Seccomp:", "2",
		strconv.FormatUint(hostNoFile(), 10),
		strconv.FormatInt(DefaultExecLimits.Pids, 10), strconv.FormatInt(DefaultExecLimits.MemoryBytes, 10),
		"iso", "1", "1", // masked, read-only
	}
	if got.err != nil || !slices.Equal(fields, want) {
		t.Errorf("got %+v\n%q\nwant %q", got, fields, want)
	}
}

// readyWriter records output and closes ready at the first "ready".
type readyWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	ready chan struct{}
	once  sync.Once
}

func (w *readyWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(b)
	if strings.Contains(w.buf.String(), "ready") {
		w.once.Do(func() { close(w.ready) })
	}
	return len(b), nil
}

func waitReady(t *testing.T, w *readyWriter, errc <-chan error) {
	t.Helper()
	select {
	case <-w.ready:
	case err := <-errc:
		t.Fatalf("ended before ready: %v", err)
	case <-time.After(execPatience):
		t.Fatal("not ready")
	}
}

// waitGone waits (pidfd) until pid has exited.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	fd, err := unix.PidfdOpen(pid, 0)
	if errors.Is(err, unix.ESRCH) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = unix.Close(fd) }()
	n, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, int(execPatience.Milliseconds()))
	if err != nil || n != 1 {
		t.Fatalf("process %d still runs (%v)", pid, err)
	}
}

func TestExecuteSignalExit(t *testing.T) {
	r, layers := newExecRunner(t)
	w := &readyWriter{ready: make(chan struct{})}
	upper := newUpper(t)
	errc := make(chan error, 1)
	var code int
	go func() {
		var err error
		code, err = r.Execute(context.Background(), task.ExecRequest{ID: "signal", Layers: layers, Upper: upper, Args: sh("echo ready; exec sleep 1000"), Env: []string{"PATH=/bin"}, Stdout: w})
		errc <- err
	}()
	waitReady(t, w, errc)
	pids := cgroupPids(r, "signal")
	if len(pids) != 1 {
		t.Fatalf("cgroup pids %v, want the sleep", pids)
	}
	// The container's init ignores signals it has no handler for, but
	// for SIGKILL and SIGSTOP from an ancestor namespace.
	if err := unix.Kill(pids[0], unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil || code != 128+9 {
		t.Fatalf("Execute = %d, %v; want 137", code, err)
	}
	assertExecReleased(t, r, "signal", upper)
}

func TestExecuteCancel(t *testing.T) {
	r, layers := newExecRunner(t)
	w := &readyWriter{ready: make(chan struct{})}
	upper := newUpper(t)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := r.Execute(ctx, task.ExecRequest{ID: "cancel", Layers: layers, Upper: upper, Args: sh("echo ready; exec sleep 1000"), Env: []string{"PATH=/bin"}, Stdout: w})
		errc <- err
	}()
	waitReady(t, w, errc)
	pids := cgroupPids(r, "cancel")
	if len(pids) != 1 {
		t.Fatalf("cgroup pids %v, want the sleep", pids)
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Execute = %v, want context.Canceled", err)
	}
	waitGone(t, pids[0])
	assertExecReleased(t, r, "cancel", upper)
	if entries, _ := os.ReadDir(upper); len(entries) != 0 {
		t.Errorf("upper holds %d entries, want none", len(entries))
	}
}

// TestExecuteServerDies kills a process that runs Execute (a server) and
// checks that its container dies with it and Recover cleans up after it.
func TestExecuteServerDies(t *testing.T) {
	requireRoot(t, "runc")
	img := runnertest.BusyboxImage(t)
	dir := t.TempDir()
	upper := newUpper(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, "exec-child", dir, upper, img.Layers[0])
	w := &readyWriter{ready: make(chan struct{})}
	cmd.Stdout = w
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- cmd.Wait() }()
	waitReady(t, w, errc)
	r := newTestRunner(t, "runc", dir)
	pids := cgroupPids(r, "orphan")
	if len(pids) != 1 {
		t.Fatalf("cgroup pids %v, want the sleep", pids)
	}
	_ = cmd.Process.Kill()
	<-errc
	waitGone(t, pids[0])
	if _, err := os.Stat(r.execDir("orphan")); err != nil {
		t.Fatalf("the dead server left no bundle (%v): the test proves nothing", err)
	}
	if _, err := r.Recover(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Recover releases what it found; the tmpfs goes with the next
	// release (Remove, Execute), so check everything but it.
	if _, err := os.Stat(r.execDir("orphan")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("bundle left: %v", err)
	}
	if mps, _ := mountsUnder(filepath.Join(r.base, "exec")); len(mps) > 0 {
		t.Errorf("mounts left: %v", mps)
	}
	cid := execContainerID("orphan")
	if _, err := os.Stat(filepath.Join(r.runtimeRoot, cid)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("runtime state left: %v", err)
	}
	if d := cgroupDirs(cgroupName(r.runtimeRoot, cid)); len(d) > 0 {
		t.Errorf("cgroups left: %v", d)
	}
	r.releaseBase()
	assertExecReleased(t, r, "orphan", upper)
}

// execChild is the test binary's "exec-child <dir> <upper> <layer>" mode:
// a server running one long execution (see TestMain).
func execChild(args []string) int {
	r, err := New(Config{Dir: args[0]})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	_, err = r.Execute(context.Background(), task.ExecRequest{ID: "orphan", Layers: args[2:], Upper: args[1],
		Args: sh("echo ready; exec sleep 1000"), Env: []string{"PATH=/bin"}, Stdout: os.Stdout, Stderr: os.Stderr})
	fmt.Fprintln(os.Stderr, "execute:", err)
	return 1
}

func TestExecuteUpper(t *testing.T) {
	r, layers := newExecRunner(t)
	second := t.TempDir()
	for _, d := range []string{"data", "dir/sub"} {
		must(t, os.MkdirAll(filepath.Join(second, d), 0o755))
	}
	for _, f := range []string{"data/keep", "data/gone", "dir/old", "dir/sub/old"} {
		must(t, os.WriteFile(filepath.Join(second, f), []byte(f), 0o644))
	}
	upper := newUpper(t)
	got := run(t, r, task.ExecRequest{ID: "upper", Layers: append(layers, second), Upper: upper, Args: sh(strings.Join([]string{
		"echo new > /new",
		"rm /data/gone",
		"rm -rf /dir && mkdir -p /dir && echo n > /dir/n",
		"echo mounted > /run/x && echo shm > /dev/shm/x",
		"cat /data/keep",
	}, " && "))})
	if got.err != nil || got.code != 0 || got.stdout != "data/keep" {
		t.Fatalf("got %+v", got)
	}
	want := map[string]string{
		"new":       "file new\n",
		"data":      "dir",
		"data/gone": "whiteout",
		"dir":       "dir opaque",
		"dir/n":     "file n\n",
	}
	if have := describeTree(t, upper); !mapsEqual(have, want) {
		t.Errorf("upper:\n%v\nwant\n%v", have, want)
	}
}

// TestExecuteStubs: the mount points the runtime makes in a root
// filesystem that lacks them leave Upper, but what the process writes
// next to them stays.
func TestExecuteStubs(t *testing.T) {
	r, layers := newExecRunner(t)
	must(t, os.RemoveAll(filepath.Join(layers[0], "etc")))
	upper := newUpper(t)
	got := run(t, r, task.ExecRequest{ID: "stubs", Layers: layers, Upper: upper, Args: sh("echo x > /etc/mine && ls /etc")})
	if got.err != nil || got.code != 0 || got.stdout != "hosts\nmine\nresolv.conf\n" {
		t.Fatalf("got %+v", got)
	}
	want := map[string]string{"etc": "dir", "etc/mine": "file x\n"}
	if have := describeTree(t, upper); !mapsEqual(have, want) {
		t.Errorf("upper: %v, want %v", have, want)
	}
}

func TestExecuteNoRuntimeMode(t *testing.T) {
	requireRoot(t, "runc")
	img := runnertest.BusyboxImage(t)
	r, err := New(Config{Dir: t.TempDir(), ShimPath: "/bin/false"})
	if err != nil {
		t.Fatal(err)
	}
	got := run(t, r, task.ExecRequest{ID: "noshim", Layers: img.Layers, Args: sh("exit 1")})
	if got.err == nil || !strings.Contains(got.err.Error(), "did not start") {
		t.Errorf("got %+v, want an error: the shim binary cannot become the runtime", got)
	}
}

// describeTree describes each entry below root: "file <content>", "dir"
// (+ " opaque"), "whiteout", "symlink <target>"; any other
// trusted.overlay xattr is reported too.
func describeTree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		var desc string
		fi, err := d.Info()
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		switch {
		case fi.IsDir():
			desc = "dir"
			if v, err := lgetxattr(p, "trusted.overlay.opaque"); err == nil && v == "y" {
				desc += " opaque"
			}
		case fi.Mode().IsRegular():
			b, _ := os.ReadFile(p)
			desc = "file " + string(b)
		case fi.Mode()&fs.ModeCharDevice != 0 && st.Rdev == 0:
			desc = "whiteout"
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			desc = "symlink " + target
		default:
			desc = fi.Mode().String()
		}
		for _, x := range listXattrs(p) {
			if strings.HasPrefix(x, "trusted.overlay.") && x != "trusted.overlay.opaque" {
				desc += " +" + x
			}
		}
		if rel == "." {
			if desc != "dir" {
				out["."] = desc
			}
			return nil
		}
		out[rel] = desc
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func lgetxattr(p, name string) (string, error) {
	buf := make([]byte, 256)
	n, err := unix.Lgetxattr(p, name, buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestExecuteNetwork(t *testing.T) {
	r, layers := newExecRunner(t)
	hostIfs, err := os.ReadDir("/sys/class/net")
	if err != nil {
		t.Fatal(err)
	}
	var host []string
	for _, e := range hostIfs {
		host = append(host, e.Name())
	}
	if len(host) < 2 {
		t.Skipf("the host has no interface but lo: %v", host)
	}
	hostHosts, _ := os.ReadFile("/etc/hosts")
	hostResolv, _ := os.ReadFile("/etc/resolv.conf")
	for _, tc := range []struct {
		name    string
		network bool
		ifs     []string
		hosts   string
		resolv  string
	}{
		{"none", false, []string{"lo"}, "127.0.0.1\tlocalhost net-none\n::1\tlocalhost ip6-localhost ip6-loopback\n", "# no network\n"},
		{"host", true, host, string(hostHosts), string(hostResolv)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			upper := newUpper(t)
			got := run(t, r, task.ExecRequest{ID: "net-" + tc.name, Layers: layers, Upper: upper, Network: tc.network,
				Args: sh("ls /sys/class/net; echo --; cat /etc/hosts; echo --; cat /etc/resolv.conf; echo x >> /etc/hosts")})
			parts := strings.Split(got.stdout, "--\n")
			if got.err != nil || got.code == 0 || len(parts) != 3 {
				// /etc/hosts is read-only: the append fails.
				t.Fatalf("got %+v", got)
			}
			if ifs := strings.Fields(parts[0]); !slices.Equal(ifs, tc.ifs) {
				t.Errorf("interfaces %v, want %v", ifs, tc.ifs)
			}
			if parts[1] != tc.hosts || parts[2] != tc.resolv {
				t.Errorf("hosts %q resolv.conf %q; want %q %q", parts[1], parts[2], tc.hosts, tc.resolv)
			}
			if have := describeTree(t, upper); len(have) != 0 {
				t.Errorf("upper: %v, want nothing", have)
			}
		})
	}
}

func TestExecuteUser(t *testing.T) {
	r, layers := newExecRunner(t)
	for _, tc := range []struct {
		user, want string
	}{
		{"", "0 0 0"},
		{"app", "1000 1000 1000 2000"},
		{"app:extra", "1000 2000 2000"},
		{"app:3000", "1000 3000 3000"},
		{"1000", "1000 1000 1000 2000"},
		{"1000:65534", "1000 65534 65534"},
		{"nobody", "65534 65534 65534"},
		{"4242", "4242 0 0"},
	} {
		t.Run(tc.user, func(t *testing.T) {
			got := run(t, r, task.ExecRequest{ID: "user", Layers: layers, User: tc.user, Args: sh(`echo $(id -u) $(id -g) $(id -G)`)})
			if got.err != nil || got.code != 0 || strings.TrimSpace(got.stdout) != tc.want {
				t.Errorf("got %+v, want %q", got, tc.want)
			}
		})
	}
	for _, user := range []string{"nosuch", "app:nogroup-here"} {
		got := run(t, r, task.ExecRequest{ID: "user", Layers: layers, User: user, Args: sh("true")})
		if !errors.Is(got.err, &errdefs.Error{Kind: errdefs.InvalidArgument}) || !strings.Contains(got.err.Error(), "unable to find") {
			t.Errorf("%s: got %+v, want an invalid argument naming the lookup", user, got)
		}
	}
}

func TestExecuteUserLookupStaysInRoot(t *testing.T) {
	r, layers := newExecRunner(t)
	evil := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(evil, "etc"), 0o755))
	// The host's passwd has a root entry with uid 0; an escaping lookup
	// would find "daemon" there (Debian: uid 1).
	must(t, os.Remove(filepath.Join(layers[0], "etc", "passwd")))
	must(t, os.Symlink("/etc/passwd", filepath.Join(evil, "etc", "passwd")))
	got := run(t, r, task.ExecRequest{ID: "evil", Layers: append(layers, evil), User: "daemon", Args: sh("id -u")})
	if got.err == nil {
		t.Errorf("user resolved through a symlink out of the root: %+v", got)
	}
}

func TestExecuteWorkingDir(t *testing.T) {
	r, layers := newExecRunner(t)
	upper := newUpper(t)
	got := run(t, r, task.ExecRequest{ID: "wd", Layers: layers, Upper: upper, User: "app", WorkingDir: "/work/dir", Args: sh("pwd; touch f")})
	if got.err != nil || got.code != 1 || got.stdout != "/work/dir\n" {
		// The directory is root's (Docker's rule): the user cannot write in it.
		t.Fatalf("got %+v", got)
	}
	for _, d := range []string{"work", "work/dir"} {
		fi, err := os.Stat(filepath.Join(upper, d))
		if err != nil {
			t.Fatal(err)
		}
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != 0 || st.Gid != 0 || fi.Mode().Perm() != 0o755 {
			t.Errorf("%s: %v %d:%d, want root's 0755", d, fi.Mode(), st.Uid, st.Gid)
		}
	}
	got = run(t, r, task.ExecRequest{ID: "wd", Layers: layers, WorkingDir: "/www", Args: sh("pwd; ls")})
	if got.err != nil || got.stdout != "/www\nindex.html\n" {
		t.Errorf("existing dir: got %+v", got)
	}
}

func TestExecuteNoLayers(t *testing.T) {
	r, _ := newExecRunner(t)
	upper := newUpper(t)
	got := run(t, r, task.ExecRequest{ID: "scratch", Upper: upper, Args: []string{"/bin/sh"}})
	if !errors.Is(got.err, &errdefs.Error{Kind: errdefs.InvalidArgument}) || !strings.Contains(got.err.Error(), "/bin/sh") {
		t.Errorf("got %+v, want an error: no /bin/sh in an empty root", got)
	}
	if have := describeTree(t, upper); len(have) != 0 {
		t.Errorf("upper: %v, want nothing", have)
	}
}

func TestExecuteManyLayers(t *testing.T) {
	r, layers := newExecRunner(t)
	// Long paths: the lowerdir list is longer than mount(2)'s page.
	base := filepath.Join(t.TempDir(), strings.Repeat("l", 60))
	for i := 1; i < 60; i++ {
		l := filepath.Join(base, fmt.Sprintf("layer-%03d", i))
		must(t, os.MkdirAll(filepath.Join(l, "l"), 0o755))
		must(t, os.WriteFile(filepath.Join(l, "l", strconv.Itoa(i)), nil, 0o644))
		must(t, os.WriteFile(filepath.Join(l, "order"), []byte(strconv.Itoa(i)), 0o644))
		layers = append(layers, l)
	}
	if n := len(strings.Join(layers, ":")); n <= os.Getpagesize() {
		t.Fatalf("lowerdir list of %d bytes: the test proves nothing", n)
	}
	got := run(t, r, task.ExecRequest{ID: "many", Layers: layers, Args: sh("ls /l | wc -l; cat /order")})
	if got.err != nil || got.stdout != "59\n59" {
		t.Errorf("got %+v", got)
	}
}

func TestExecuteConcurrent(t *testing.T) {
	r, layers := newExecRunner(t)
	var wg sync.WaitGroup
	uppers := make([]string, 4)
	results := make([]execOut, 4)
	for i := range uppers {
		uppers[i] = newUpper(t)
	}
	for i := range uppers {
		wg.Go(func() {
			var out bytes.Buffer
			code, err := r.Execute(context.Background(), task.ExecRequest{ID: "c" + strconv.Itoa(i), Layers: layers, Upper: uppers[i],
				Env: []string{"PATH=/bin"}, Args: sh(fmt.Sprintf("echo %d > /mine; ls /", i)), Stdout: &out})
			results[i] = execOut{code: code, err: err, stdout: out.String()}
		})
	}
	wg.Wait()
	for i, res := range results {
		if res.err != nil || res.code != 0 {
			t.Errorf("%d: %d %v stdout %q", i, res.code, res.err, res.stdout)
		}
		want := map[string]string{"mine": fmt.Sprintf("file %d\n", i)}
		if have := describeTree(t, uppers[i]); !mapsEqual(have, want) {
			t.Errorf("%d: upper %v, want %v", i, have, want)
		}
		assertExecReleased(t, r, "c"+strconv.Itoa(i), uppers[i])
	}
}

func TestExecuteInvalid(t *testing.T) {
	r, layers := newExecRunner(t)
	full := newUpper(t)
	must(t, os.WriteFile(filepath.Join(full, "x"), nil, 0o644))
	for name, req := range map[string]task.ExecRequest{
		"bad id":        {ID: "Bad/ID", Layers: layers, Upper: newUpper(t), Args: []string{"true"}},
		"no args":       {ID: "a", Layers: layers, Upper: newUpper(t)},
		"upper in use":  {ID: "a", Layers: layers, Upper: full, Args: []string{"true"}},
		"no upper":      {ID: "a", Layers: layers, Upper: "/nonexistent/upper", Args: []string{"true"}},
		"relative":      {ID: "a", Layers: []string{"layer"}, Upper: newUpper(t), Args: []string{"true"}},
		"missing layer": {ID: "a", Layers: []string{"/nonexistent"}, Upper: newUpper(t), Args: []string{"true"}},
		"too many":      {ID: "a", Layers: slices.Repeat(layers, maxExecLayers+1), Upper: newUpper(t), Args: []string{"true"}},
	} {
		if _, err := r.Execute(context.Background(), req); !errors.Is(err, &errdefs.Error{Kind: errdefs.InvalidArgument}) {
			t.Errorf("%s: %v, want an invalid argument", name, err)
		}
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestExecuteStubCleanupStaysInUpper: a process that moves the runtime's
// /etc stub away and puts a symlink to a host directory in its place must
// not make the cleanup of the stubs (after the container is gone) remove
// or touch anything through that symlink on the host.
func TestExecuteStubCleanupStaysInUpper(t *testing.T) {
	r, layers := newExecRunner(t)
	must(t, os.RemoveAll(filepath.Join(layers[0], "etc")))
	victim := t.TempDir()
	for _, f := range []string{"hosts", "resolv.conf"} {
		must(t, os.WriteFile(filepath.Join(victim, f), nil, 0o644))
	}
	upper := newUpper(t)
	got := run(t, r, task.ExecRequest{ID: "stub-escape", Layers: layers, Upper: upper, Args: sh(
		"mv /etc /etc.moved && ln -s " + victim + " /etc && ls -l /etc")})
	if got.err != nil {
		t.Fatalf("got %+v", got)
	}
	for _, f := range []string{"hosts", "resolv.conf"} {
		if _, err := os.Lstat(filepath.Join(victim, f)); err != nil {
			t.Errorf("the host's %s/%s was removed through the process's symlink: %v (run %+v)", victim, f, err, got)
		}
	}
}

// TestExecuteHostNetworkNoRawSockets: a process given the host's network
// namespace (RUN --network=host, quick runs) runs without CAP_NET_RAW: in
// the host's namespace it would sniff and forge the host's traffic
// (packet sockets on its interfaces).
func TestExecuteHostNetworkNoRawSockets(t *testing.T) {
	r, layers := newExecRunner(t)
	for _, tc := range []struct {
		network bool
		want    string
	}{
		{false, "00000000a80425fb"}, // Docker's default set
		{true, "00000000a80405fb"},  // without CAP_NET_RAW (bit 13)
	} {
		got := run(t, r, task.ExecRequest{ID: "netraw-" + strconv.FormatBool(tc.network), Layers: layers, Network: tc.network,
			Args: sh("grep -E '^CapBnd:' /proc/self/status")})
		if f := strings.Fields(got.stdout); got.err != nil || len(f) != 2 || f[1] != tc.want {
			t.Errorf("network %v: got %+v, want CapBnd %s", tc.network, got, tc.want)
		}
	}
}

// TestExecuteDaemonDiesWithStep: a process the step daemonized (its own
// session, reparented) does not outlive the step.
func TestExecuteDaemonDiesWithStep(t *testing.T) {
	r, layers := newExecRunner(t)
	secs := strconv.Itoa(100000 + os.Getpid()%100000)
	got := run(t, r, task.ExecRequest{ID: "daemon", Layers: layers, Args: sh(
		"(setsid sleep " + secs + " </dev/null >/dev/null 2>&1 &) ; " +
			"until cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' ' | grep -q 'sleep " + secs + "'; do :; done; echo started")})
	if got.err != nil || got.code != 0 || got.stdout != "started\n" {
		t.Fatalf("got %+v", got)
	}
	out, _ := exec.Command("pgrep", "-f", "sleep "+secs).Output()
	if len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("the daemon outlived its step: pids %s", out)
	}
}

// TestExecuteDeviceNodesUnusable: a process may create a device node (as
// Docker's RUN may, CAP_MKNOD), but the device cgroup keeps it from
// opening one, a host disk's included.
func TestExecuteDeviceNodesUnusable(t *testing.T) {
	r, layers := newExecRunner(t)
	got := run(t, r, task.ExecRequest{ID: "mknod", Layers: layers, Args: sh(
		"mknod /disk b 8 0 && mknod /mem c 1 1 && chmod 666 /disk /mem && echo made; " +
			"head -c1 /disk >/dev/null 2>&1 && echo disk-open; head -c1 /mem >/dev/null 2>&1 && echo mem-open; echo done")})
	if got.err != nil || got.stdout != "made\ndone\n" {
		t.Errorf("got %+v, want devices made but none opened", got)
	}
}
