package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/cerulean/cerulean/internal/containergroup"
	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/task"
)

// ExecLimits bound the cgroup of each Execute.
type ExecLimits struct {
	CPU         float64 // cores (CFS quota)
	MemoryBytes int64   // memory, swap forbidden
	Pids        int64   // tasks (processes and threads): a fork bomb stops here
}

// DefaultExecLimits are ACR Tasks' default agent (2 CPUs, 3 GiB) and
// a pids bound.
var DefaultExecLimits = ExecLimits{CPU: 2, MemoryBytes: 3 << 30, Pids: 4096}

func (l ExecLimits) withDefaults() ExecLimits {
	if l.CPU <= 0 {
		l.CPU = DefaultExecLimits.CPU
	}
	if l.MemoryBytes <= 0 {
		l.MemoryBytes = DefaultExecLimits.MemoryBytes
	}
	if l.Pids <= 0 {
		l.Pids = DefaultExecLimits.Pids
	}
	return l
}

var _ task.Executor = (*Runner)(nil)

// maxExecLayers is overlayfs' bound on lower layers (OVL_MAX_STACK). With
// fsconfig's "lowerdir+" (Linux ≥ 6.8) it is the only bound; on older
// kernels mountOverlay falls back to mount(2), whose page-sized option
// string fails clearly sooner (some 40 to 80 layers, by path length).
const maxExecLayers = 500

var execIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// execOverlayOptions keep Upper in the plain overlayfs form the contract
// promises (whiteouts and opaque directories only): no redirect xattrs for
// renamed directories (the kernel answers EXDEV and mv copies), no
// metadata-only copy-ups (a chown must copy the data up), no index.
var execOverlayOptions = []string{"redirect_dir=off", "index=off", "metacopy=off"}

// mountStubs are the mount points of an execution's spec in its root
// filesystem, parents first. The runtime creates those that are missing;
// Execute removes them from Upper afterwards (as BuildKit does), so that
// they do not end up in a layer.
var mountStubs = []struct {
	path string
	dir  bool
}{
	{"proc", true}, {"dev", true}, {"sys", true}, {"run", true},
	{"etc", true}, {"etc/hosts", false}, {"etc/resolv.conf", false},
}

func (r *Runner) execDir(id string) string { return filepath.Join(r.base, "exec", id) }

// execContainerID is an execution's runtime id: never 64 hex, so never a
// group container's.
func execContainerID(id string) string { return "exec-" + id }

// execution is one Execute.
type execution struct {
	r       *Runner
	req     task.ExecRequest
	dir     string // bundle on the runner's tmpfs: config.json, hosts, resolv.conf, rootfs/, empty/
	cid     string
	cgroup  string
	rootfs  string
	work    string // the overlay workdir, next to Upper
	mounted bool
	// stubs are the mountStubs that were missing before the run, and
	// times the atime/mtime of their existing parents ("" = the root).
	stubs map[string]bool
	times map[string][2]unix.Timespec
	modes map[string]*unix.Stat_t
}

// Execute implements task.Executor. The process runs under `runc run` in
// the foreground; runc itself is started as the init of a PID namespace
// of its own with a parent-death signal, so that when the server dies (or
// ctx ends and Execute kills runc) the kernel kills everything the
// container started. See doc.go, "Executions".
func (r *Runner) Execute(ctx context.Context, req task.ExecRequest) (int, error) {
	if err := validateExec(req); err != nil {
		return -1, err
	}
	if err := ctx.Err(); err != nil {
		return -1, err
	}
	if _, dup := r.execs.LoadOrStore(req.ID, struct{}{}); dup {
		return -1, errdefs.Newf(errdefs.Conflict, "", "execution %q is running", req.ID)
	}
	defer r.execs.Delete(req.ID)
	x := &execution{r: r, req: req, dir: r.execDir(req.ID), cid: execContainerID(req.ID)}
	x.cgroup = cgroupName(r.runtimeRoot, x.cid)
	x.rootfs = filepath.Join(x.dir, "rootfs")
	defer x.release()
	if err := x.prepare(); err != nil {
		return -1, err
	}
	return x.run(ctx)
}

func validateExec(req task.ExecRequest) error {
	bad := func(format string, a ...any) error { return errdefs.Newf(errdefs.InvalidArgument, "", format, a...) }
	if !execIDPattern.MatchString(req.ID) {
		return bad("invalid execution id %q", req.ID)
	}
	if len(req.Args) == 0 {
		return bad("execution %s: no command", req.ID)
	}
	if len(req.Layers) > maxExecLayers {
		return bad("execution %s: %d layers; overlayfs stacks at most %d", req.ID, len(req.Layers), maxExecLayers)
	}
	if !filepath.IsAbs(req.Upper) {
		return bad("execution %s: the upper directory %q is not an absolute path", req.ID, req.Upper)
	}
	entries, err := os.ReadDir(req.Upper)
	if err != nil {
		return bad("execution %s: upper directory: %v", req.ID, err)
	}
	if len(entries) > 0 {
		return bad("execution %s: the upper directory %s is not empty", req.ID, req.Upper)
	}
	for _, l := range req.Layers {
		if fi, err := os.Stat(l); !filepath.IsAbs(l) || err != nil || !fi.IsDir() {
			return bad("execution %s: layer %q is not a directory", req.ID, l)
		}
	}
	return nil
}

func (x *execution) prepare() error {
	r := x.r
	// Under the read lock, so that releaseBase cannot unmount the tmpfs
	// between its mount and the creation of this execution's directory.
	r.baseMu.RLock()
	err := ensureTmpfs(r.base)
	if err == nil {
		err = os.MkdirAll(r.runtimeRoot, 0o700)
	}
	if err == nil {
		if _, serr := os.Stat(x.dir); serr == nil {
			// Left by a server that died; nothing of this process runs it.
			r.releaseExec(x.req.ID)
		}
		err = os.MkdirAll(x.dir, 0o700)
	}
	r.baseMu.RUnlock()
	if err != nil {
		return errdefs.Internalf(err, "runner: execution dir")
	}

	// The overlay's workdir must be on Upper's filesystem: next to it.
	work, err := os.MkdirTemp(filepath.Dir(x.req.Upper), "."+filepath.Base(x.req.Upper)+"-work-")
	if err != nil {
		return errdefs.Internalf(err, "runner: overlay workdir")
	}
	x.work = work
	if err := os.WriteFile(filepath.Join(x.dir, "workdir"), []byte(work), 0o600); err != nil {
		return errdefs.Internalf(err, "runner: execution dir")
	}
	lower := x.req.Layers
	if len(lower) == 0 {
		empty := filepath.Join(x.dir, "empty")
		if err := os.Mkdir(empty, 0o755); err != nil {
			return errdefs.Internalf(err, "runner: empty root")
		}
		lower = []string{empty}
	}
	if err := os.Mkdir(x.rootfs, 0o755); err != nil {
		return errdefs.Internalf(err, "runner: rootfs")
	}
	if err := mountOverlay(lower, x.req.Upper, work, x.rootfs, execOverlayOptions...); err != nil {
		return errdefs.Internalf(err, "runner: execution %s", x.req.ID)
	}
	x.mounted = true

	user, err := resolveUser(x.rootfs, x.req.User)
	if err != nil {
		return errdefs.Newf(errdefs.InvalidArgument, "", "execution %s: %v", x.req.ID, err)
	}
	if err := x.recordStubs(); err != nil {
		return errdefs.Internalf(err, "runner: execution %s: inspect the root filesystem", x.req.ID)
	}

	hosts := filepath.Join(x.dir, "hosts")
	resolv := filepath.Join(x.dir, "resolv.conf")
	hostsData := []byte("127.0.0.1\tlocalhost " + x.req.ID + "\n::1\tlocalhost ip6-localhost ip6-loopback\n")
	resolvData := []byte("# no network\n")
	if x.req.Network {
		// Copies of the host's, so the process can neither change them nor
		// pin a host inode that the host replaces (systemd-resolved).
		if b, err := os.ReadFile("/etc/hosts"); err == nil {
			hostsData = b
		}
		if b, err := os.ReadFile("/etc/resolv.conf"); err == nil {
			resolvData = b
		}
	}
	if err := os.WriteFile(hosts, hostsData, 0o644); err != nil {
		return errdefs.Internalf(err, "runner: hosts")
	}
	if err := os.WriteFile(resolv, resolvData, 0o644); err != nil {
		return errdefs.Internalf(err, "runner: resolv.conf")
	}

	s, err := x.spec(user, hosts, resolv)
	if err != nil {
		return errdefs.Internalf(err, "runner: execution %s: spec", x.req.ID)
	}
	b, err := json.Marshal(s)
	if err != nil {
		return errdefs.Internalf(err, "runner: execution %s: spec", x.req.ID)
	}
	if err := os.WriteFile(filepath.Join(x.dir, "config.json"), b, 0o600); err != nil {
		return errdefs.Internalf(err, "runner: execution %s: spec", x.req.ID)
	}
	return nil
}

// spec is a group container's spec (buildSpec) for the request: its
// environment as given, the host's network or a new namespace (runc brings
// its lo up), /etc/hosts and /etc/resolv.conf but no /etc/hostname, a pids
// limit besides CPU and memory.
func (x *execution) spec(user specs.User, hosts, resolv string) (*specs.Spec, error) {
	lim := x.r.cfg.Exec
	cwd := "/"
	if x.req.WorkingDir != "" {
		cwd = path.Clean("/" + x.req.WorkingDir)
	}
	c := containergroup.ContainerSpec{
		Name: x.req.ID, Command: x.req.Args, CPU: lim.CPU, MemoryBytes: lim.MemoryBytes,
		Image: containergroup.Image{Config: containergroup.ImageConfig{WorkingDir: cwd}},
	}
	s, err := buildSpec(c, specInput{
		ID: x.cgroup, Hostname: x.req.ID, Rootfs: x.rootfs,
		Hosts: hosts, Resolv: resolv, User: user, NoFile: hostNoFile(),
	})
	if err != nil {
		return nil, err
	}
	s.Process.Env = append([]string{}, x.req.Env...)
	mounts := s.Mounts[:0]
	for _, m := range s.Mounts {
		if m.Destination != "/etc/hostname" {
			mounts = append(mounts, m)
		}
	}
	s.Mounts = mounts
	nss := s.Linux.Namespaces[:0]
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == specs.NetworkNamespace {
			if x.req.Network {
				continue // the host's
			}
			ns.Path = "" // a new one
		}
		nss = append(nss, ns)
	}
	s.Linux.Namespaces = nss
	if x.req.Network {
		// In the host's network namespace CAP_NET_RAW would open packet
		// sockets on the host's interfaces: sniffing and forging its
		// traffic (BuildKit gates host networking behind an entitlement).
		c := s.Process.Capabilities
		c.Bounding, c.Effective, c.Permitted = withoutCap(c.Bounding, "CAP_NET_RAW"), withoutCap(c.Effective, "CAP_NET_RAW"),
			withoutCap(c.Permitted, "CAP_NET_RAW")
	}
	pids := lim.Pids
	s.Linux.Resources.Pids = &specs.LinuxPids{Limit: &pids}
	return s, nil
}

func withoutCap(caps []string, drop string) []string {
	out := make([]string, 0, len(caps))
	for _, c := range caps {
		if c != drop {
			out = append(out, c)
		}
	}
	return out
}

// recordStubs notes which mountStubs the root filesystem lacks, and the
// times of the existing directories the runtime will create them in.
// Lookups go through an os.Root: the layers' symlinks cannot lead them
// out of the root filesystem (a path that would escape counts as
// existing; the runtime resolves it inside the root itself).
func (x *execution) recordStubs() error {
	root, err := os.OpenRoot(x.rootfs)
	if err != nil {
		return err
	}
	defer func() { _ = root.Close() }()
	x.stubs = map[string]bool{}
	x.times = map[string][2]unix.Timespec{}
	x.modes = map[string]*unix.Stat_t{}
	for _, s := range mountStubs {
		if _, err := root.Lstat(s.path); errors.Is(err, fs.ErrNotExist) {
			x.stubs[s.path] = true
		}
	}
	for p := range x.stubs {
		parent := path.Dir(p)
		if parent == "." {
			parent = ""
		}
		if x.stubs[parent] {
			continue
		}
		if _, ok := x.times[parent]; ok {
			continue
		}
		fi, err := root.Lstat(or(parent, "."))
		if err != nil {
			continue
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok || !fi.IsDir() {
			continue
		}
		x.times[parent] = [2]unix.Timespec{unix.NsecToTimespec(st.Atim.Nano()), unix.NsecToTimespec(st.Mtim.Nano())}
		x.modes[parent] = &unix.Stat_t{Mode: st.Mode, Uid: st.Uid, Gid: st.Gid}
	}
	return nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// execRuntimeArg is the shim's mode that becomes the runtime:
// `cerulean shim --exec-runtime <runtime> <args…>` (see execRuntimeMain).
const execRuntimeArg = "--exec-runtime"

// execRuntimeMain starts as the init of a new PID namespace in a new mount
// namespace; it mounts that PID namespace's /proc (the runtime reads
// /proc/<pid> of its children) and becomes the runtime. See run.
func execRuntimeMain(args []string) int {
	if len(args) < 1 || os.Getpid() != 1 {
		fmt.Fprintln(os.Stderr, "cerulean shim "+execRuntimeArg+": started by the server, not by hand")
		return 2
	}
	// Slave: the host's later mounts and unmounts reach this namespace;
	// nothing mounted here goes back.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_SLAVE, ""); err != nil {
		fmt.Fprintln(os.Stderr, "mount namespace:", err)
		return 1
	}
	if err := unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		fmt.Fprintln(os.Stderr, "mount /proc:", err)
		return 1
	}
	err := unix.Exec(args[0], args, os.Environ())
	fmt.Fprintln(os.Stderr, "exec the runtime:", err)
	return 1
}

func (x *execution) run(ctx context.Context) (int, error) {
	r := x.r
	logPath := filepath.Join(x.dir, "runtime.log")
	cmd := exec.Command(r.cfg.ShimPath, "shim", execRuntimeArg, r.cfg.Runtime, "--root", r.runtimeRoot, "--log", logPath, "--log-format", "json",
		"run", "--bundle", x.dir, x.cid)
	cmd.Dir = x.dir
	cmd.Env = []string{defaultPath}
	cmd.Stdout, cmd.Stderr = x.req.Stdout, x.req.Stderr
	// The runtime is the init of a PID namespace of its own: when it dies,
	// the kernel kills every process of the namespace, the container's
	// included (they live in a namespace nested in it). It dies with the
	// thread that started it (the parent-death signal, which survives its
	// exec), so with the server; its own process group keeps a terminal's
	// ^C away from it. It has a mount namespace of its own for its /proc.
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWPID | unix.CLONE_NEWNS, Pdeathsig: unix.SIGKILL, Setpgid: true}
	started := make(chan error, 1)
	done := make(chan error, 1)
	go func() {
		// The parent-death signal fires when the starting thread exits:
		// keep this goroutine on it until runc has been reaped.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		done <- cmd.Wait()
	}()
	if err := <-started; err != nil {
		return -1, errdefs.Internalf(err, "runner: start %s", r.cfg.Runtime)
	}
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		r.log.DebugContext(ctx, "execution killed", "id", x.req.ID, "status", <-done)
		return -1, fmt.Errorf("execution %s killed: %w", x.req.ID, ctx.Err())
	}
	if err == nil {
		return 0, nil
	}
	ee, ok := errors.AsType[*exec.ExitError](err)
	if !ok {
		return -1, errdefs.Internalf(err, "runner: execution %s", x.req.ID)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return -1, errdefs.Internalf(err, "runner: execution %s: the runtime was killed", x.req.ID)
	}
	// runc exits with the process's code (128+n for a signal); a code of
	// its own comes with an error in its log, which it opens first thing.
	if _, serr := os.Stat(logPath); serr != nil {
		return -1, errdefs.Internalf(err, "runner: execution %s: the runtime did not start (%s shim %s)", x.req.ID, r.cfg.ShimPath, execRuntimeArg)
	}
	if msg := runtimeFailure(logPath); msg != "" {
		kind := errdefs.Internal
		if strings.Contains(msg, "unable to start container process") {
			kind = errdefs.InvalidArgument // the command, its user or directory
		}
		if kind == errdefs.Internal {
			return -1, errdefs.Internalf(errors.New(msg), "runner: execution %s", x.req.ID)
		}
		return -1, errdefs.Newf(kind, "", "execution %s: %s", x.req.ID, msg)
	}
	return ee.ExitCode(), nil
}

// runtimeFailure is the runtime's last error message in its JSON log, or "".
func runtimeFailure(logPath string) string {
	b, _ := os.ReadFile(logPath)
	msg := ""
	for _, line := range bytes.Split(b, []byte{'\n'}) {
		var rec struct{ Level, Msg string }
		if json.Unmarshal(line, &rec) == nil && rec.Level == "error" && rec.Msg != "" {
			msg = rec.Msg
		}
	}
	return msg
}

// release undoes everything but Upper: the runtime's state, the cgroup,
// the mount, the stubs in Upper, the overlay's bookkeeping xattrs, the
// workdir and the bundle.
func (x *execution) release() {
	r := x.r
	// `runc run` deletes its container when it exits by itself; killed,
	// it leaves its state, whose pid is one of its own namespace: remove it
	// here rather than have `runc delete` signal that pid in ours.
	_ = os.RemoveAll(filepath.Join(r.runtimeRoot, x.cid))
	removeCgroups(x.cgroup)
	unmounted := true
	if err := unmountAll(x.dir); err != nil {
		unmounted = false
		r.log.Error("execution: unmount", "id", x.req.ID, "err", err)
	}
	if x.mounted && unmounted {
		x.cleanUpper()
	}
	if x.work != "" {
		if err := os.RemoveAll(x.work); err != nil {
			r.log.Error("execution: remove the overlay workdir", "id", x.req.ID, "err", err)
		}
	}
	if unmounted {
		if err := removeTree(x.dir); err != nil {
			r.log.Error("execution: remove the bundle", "id", x.req.ID, "err", err)
		}
	}
	r.releaseBase()
}

// cleanUpper removes from Upper the mount points the runtime created (if
// they are still what it made: an empty directory or file), restores the
// times of their parents, removes a parent that was copied up for them
// alone, and strips the overlay's bookkeeping xattrs (origin, impure,
// uuid): the process (without CAP_SYS_ADMIN) cannot set trusted.* xattrs,
// so every trusted.overlay.* but opaque is the kernel's, and no layer
// should carry one.
func (x *execution) cleanUpper() {
	upper := x.req.Upper
	for i := len(mountStubs) - 1; i >= 0; i-- {
		s := mountStubs[i]
		if !x.stubs[s.path] {
			continue
		}
		// The process may have moved a stub's parent away and put a
		// symlink (to a host path) in its place: nothing is looked up
		// below anything but a real directory of Upper.
		if !realDirs(upper, path.Dir(s.path)) {
			continue
		}
		p := filepath.Join(upper, s.path)
		fi, err := os.Lstat(p)
		if err != nil {
			continue
		}
		switch {
		case s.dir && fi.IsDir() && isEmptyDir(p) && !hasXattr(p, "trusted.overlay.opaque"):
			_ = os.Remove(p)
		case !s.dir && fi.Mode().IsRegular() && fi.Size() == 0:
			_ = os.Remove(p)
		}
	}
	for parent, ts := range x.times {
		if !realDirs(upper, path.Dir(parent)) {
			continue
		}
		p := filepath.Join(upper, parent)
		fi, err := os.Lstat(p)
		if err != nil || !fi.IsDir() {
			continue
		}
		want := x.modes[parent]
		st, _ := fi.Sys().(*syscall.Stat_t)
		if parent != "" && st != nil && st.Mode == want.Mode && st.Uid == want.Uid && st.Gid == want.Gid &&
			isEmptyDir(p) && !hasXattr(p, "trusted.overlay.opaque") {
			// Copied up only to hold a stub: the lower one shows again.
			_ = os.Remove(p)
			continue
		}
		_ = unix.UtimesNanoAt(unix.AT_FDCWD, p, ts[:], unix.AT_SYMLINK_NOFOLLOW)
	}
	_ = filepath.WalkDir(upper, func(p string, _ fs.DirEntry, err error) error {
		if err == nil {
			for _, name := range listXattrs(p) {
				if strings.HasPrefix(name, "trusted.overlay.") && name != "trusted.overlay.opaque" {
					_ = unix.Lremovexattr(p, name)
				}
			}
		}
		return nil // an unreadable entry: go on with the others
	})
}

// realDirs reports whether every component of rel (relative to upper,
// "." or "" for upper itself) is a directory, not a symlink.
func realDirs(upper, rel string) bool {
	p := upper
	for _, c := range strings.Split(rel, "/") {
		if c == "" || c == "." {
			continue
		}
		p = filepath.Join(p, c)
		if fi, err := os.Lstat(p); err != nil || !fi.IsDir() {
			return false
		}
	}
	return true
}

func isEmptyDir(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer func() { _ = f.Close() }()
	names, err := f.Readdirnames(1)
	return len(names) == 0 && err != nil
}

func hasXattr(p, name string) bool {
	_, err := unix.Lgetxattr(p, name, nil)
	return err == nil
}

func listXattrs(p string) []string {
	n, err := unix.Llistxattr(p, nil)
	if err != nil || n == 0 {
		return nil
	}
	buf := make([]byte, n)
	n, err = unix.Llistxattr(p, buf)
	if err != nil {
		return nil
	}
	var out []string
	for _, name := range strings.Split(string(buf[:n]), "\x00") {
		if name != "" {
			out = append(out, name)
		}
	}
	return out
}

// releaseExec releases what an execution whose server died left: its
// runc was killed with the server (and the kernel killed its container
// with it), but its state, cgroup, mount, workdir and bundle remain.
func (r *Runner) releaseExec(id string) {
	dir := r.execDir(id)
	cid := execContainerID(id)
	_ = os.RemoveAll(filepath.Join(r.runtimeRoot, cid))
	removeCgroups(cgroupName(r.runtimeRoot, cid))
	if err := unmountAll(dir); err != nil {
		r.log.Error("execution: unmount", "id", id, "err", err)
		return
	}
	if b, err := os.ReadFile(filepath.Join(dir, "workdir")); err == nil && strings.Contains(filepath.Base(string(b)), "-work-") {
		_ = os.RemoveAll(string(b))
	}
	if err := removeTree(dir); err != nil {
		r.log.Error("execution: remove the bundle", "id", id, "err", err)
	}
}

// recoverExecs releases the executions a dead server left.
func (r *Runner) recoverExecs(ctx context.Context) {
	entries, err := os.ReadDir(filepath.Join(r.base, "exec"))
	if err != nil {
		return
	}
	for _, e := range entries {
		id := e.Name()
		if _, live := r.execs.Load(id); live || !execIDPattern.MatchString(id) {
			continue
		}
		r.log.InfoContext(ctx, "releasing an execution left by a previous server", "id", id)
		r.releaseExec(id)
	}
}
