package runner

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cerulean/cerulean/internal/containergroup"
	"github.com/cerulean/cerulean/internal/errdefs"
)

// Config configures a Runner.
type Config struct {
	Dir      string // persistent state: status, logs, overlay upper dirs
	Runtime  string // the OCI runtime: "runc" (default), "crun" or a path
	ShimPath string // the cerulean binary (default os.Executable()); run as `<ShimPath> shim <group dir>`
	Logger   *slog.Logger
	// RunRoot is where the runner mounts its tmpfs (default /run/cerulean);
	// it keeps one directory per Dir.
	RunRoot string
	// LogCap is the output kept per container run (default 4 MiB).
	LogCap int64
	// BackoffBase and BackoffMax bound the restart back-off (default 10 s
	// doubling to 5 min, as Kubernetes does).
	BackoffBase, BackoffMax time.Duration
	// StopGrace is how long a container has to exit after its stop signal
	// before it is killed (default 10 s).
	StopGrace time.Duration
	// Exec bounds each Execute's cgroup (defaults: DefaultExecLimits).
	Exec ExecLimits
}

// ErrRuntimeUnsupported is New's error when the chosen runtime cannot run
// containers on this host's cgroup layout.
var ErrRuntimeUnsupported = errors.New("runner: OCI runtime unsupported on this host")

// Runner is the containergroup.Runner of this machine.
type Runner struct {
	cfg         Config
	log         *slog.Logger
	base        string // RunRoot/<hash of Dir>: the tmpfs
	runtimeRoot string
	locks       sync.Map // group id → *sync.Mutex
	// baseMu orders mounting the tmpfs (Start) before releasing it when
	// the last group is removed.
	baseMu sync.RWMutex
	execs  sync.Map // Execute ids running in this process
	// adopted holds the groups whose monitors Recover has already found
	// (it runs on every reconcile tick: each is logged once).
	adopted sync.Map
}

var _ containergroup.Runner = (*Runner)(nil)

// New makes a Runner; it touches nothing until Start or Recover.
func New(cfg Config) (*Runner, error) {
	if cfg.Dir == "" {
		return nil, errors.New("runner: no Dir")
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, err
	}
	cfg.Dir = dir
	if cfg.Runtime == "" {
		cfg.Runtime = "runc"
	}
	if rt, err := exec.LookPath(cfg.Runtime); err == nil {
		cfg.Runtime = rt
	} else {
		return nil, fmt.Errorf("runner: OCI runtime %q: %w", cfg.Runtime, err)
	}
	if c := hybridV2Controllers(); c != "" && strings.Contains(filepath.Base(cfg.Runtime), "crun") {
		return nil, fmt.Errorf("%w: crun does not run on a hybrid cgroup layout whose v2 hierarchy has controllers (%s); use runc", ErrRuntimeUnsupported, c)
	}
	if cfg.ShimPath == "" {
		if cfg.ShimPath, err = os.Executable(); err != nil {
			return nil, err
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.RunRoot == "" {
		cfg.RunRoot = "/run/cerulean"
	}
	if cfg.LogCap <= 0 {
		cfg.LogCap = DefaultLogCap
	}
	if cfg.BackoffBase <= 0 {
		cfg.BackoffBase = 10 * time.Second
	}
	if cfg.BackoffMax <= 0 {
		cfg.BackoffMax = 5 * time.Minute
	}
	cfg.BackoffMax = max(cfg.BackoffMax, cfg.BackoffBase)
	if cfg.StopGrace <= 0 {
		cfg.StopGrace = 10 * time.Second
	}
	cfg.Exec = cfg.Exec.withDefaults()
	h := sha256.Sum256([]byte(dir))
	base := filepath.Join(cfg.RunRoot, hex.EncodeToString(h[:6]))
	return &Runner{
		cfg: cfg, log: cfg.Logger, base: base,
		runtimeRoot: filepath.Join(base, filepath.Base(cfg.Runtime)),
	}, nil
}

func (r *Runner) lock(id string) func() {
	m, _ := r.locks.LoadOrStore(id, &sync.Mutex{})
	mu := m.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}

var safeName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)

func (r *Runner) groupDir(id string) string { return filepath.Join(r.cfg.Dir, "groups", id) }
func (r *Runner) runDir(id string) string   { return filepath.Join(r.base, "groups", id) }

func notFound(id string) error {
	return errdefs.Newf(errdefs.NotFound, "", "container group instance %q is unknown to the runner", id)
}

func (r *Runner) known(id string) bool {
	if !safeName.MatchString(id) {
		return false
	}
	_, err := os.Stat(r.groupDir(id))
	return err == nil
}

func validate(spec containergroup.RunSpec) error {
	bad := func(format string, a ...any) error { return errdefs.Newf(errdefs.InvalidArgument, "", format, a...) }
	if !safeName.MatchString(spec.ID) {
		return bad("invalid group instance id %q", spec.ID)
	}
	if len(spec.Containers) == 0 {
		return bad("a container group needs at least one container")
	}
	if spec.Hostname == "" {
		return bad("a container group needs a hostname")
	}
	if len(spec.Ports) > 0 && !spec.IP.IsLoopback() {
		return bad("ports need a loopback group address, not %q", spec.IP)
	}
	names := map[string]bool{}
	for _, c := range append(append([]containergroup.ContainerSpec(nil), spec.InitContainers...), spec.Containers...) {
		if !safeName.MatchString(c.Name) || names[c.Name] {
			return bad("invalid or duplicate container name %q", c.Name)
		}
		names[c.Name] = true
		if len(processArgs(c)) == 0 {
			return bad("container %q has no command: the image sets no entrypoint or cmd and none was given", c.Name)
		}
		if len(c.Image.Layers) == 0 {
			return bad("container %q: the image has no layers", c.Name)
		}
	}
	vols := map[string]bool{}
	for _, v := range spec.Volumes {
		if !safeName.MatchString(v.Name) || vols[v.Name] {
			return bad("invalid or duplicate volume name %q", v.Name)
		}
		vols[v.Name] = true
	}
	return nil
}

// Start implements containergroup.Runner.
func (r *Runner) Start(ctx context.Context, spec containergroup.RunSpec) error {
	if err := validate(spec); err != nil {
		return err
	}
	defer r.lock(spec.ID)()
	r.adopted.Store(spec.ID, 0) // started here: nothing to re-adopt
	gdir, rdir := r.groupDir(spec.ID), r.runDir(spec.ID)
	if _, ok := r.shimPID(spec.ID); ok {
		return errdefs.Newf(errdefs.Conflict, "", "container group instance %q is running", spec.ID)
	}
	// A stopped group started again is a new deployment.
	if _, err := os.Stat(gdir); err == nil {
		r.release(spec.ID)
		if err := removeTree(gdir); err != nil {
			return errdefs.Internalf(err, "runner: clear %s", gdir)
		}
	}
	r.baseMu.RLock()
	defer r.baseMu.RUnlock()
	if err := ensureTmpfs(r.base); err != nil {
		return errdefs.Internalf(err, "runner: run dir")
	}
	for _, d := range []string{gdir, rdir, r.runtimeRoot} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return errdefs.Internalf(err, "runner: mkdir")
		}
	}
	cfg := shimConfig{
		Spec: spec, Runtime: r.cfg.Runtime, RuntimeRoot: r.runtimeRoot, GroupDir: gdir, RunDir: rdir,
		LogCap: r.cfg.LogCap, BackoffBase: r.cfg.BackoffBase, BackoffMax: r.cfg.BackoffMax, StopGrace: r.cfg.StopGrace,
	}
	cfgR, cfgW, err := os.Pipe()
	if err != nil {
		return errdefs.Internalf(err, "runner: pipe")
	}
	readyR, readyW, err := os.Pipe()
	if err != nil {
		_ = cfgR.Close()
		_ = cfgW.Close()
		return errdefs.Internalf(err, "runner: pipe")
	}
	defer func() { _ = readyR.Close() }()
	cmd := exec.Command(r.cfg.ShimPath, "shim", gdir)
	cmd.Dir = "/"
	cmd.ExtraFiles = []*os.File{cfgR, readyW} // fds 3 and 4
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	// Its own session, stdio on /dev/null: nothing ties the monitor to
	// the server's terminal or process group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	_ = cfgR.Close()
	_ = readyW.Close()
	if err != nil {
		_ = cfgW.Close()
		return errdefs.Internalf(err, "runner: start the monitor")
	}
	// Reap the monitor when it ends, without waiting for it: it outlives
	// this call and, if the server stops, the server.
	go func() { _ = cmd.Wait() }()
	go func() {
		_ = json.NewEncoder(cfgW).Encode(cfg)
		_ = cfgW.Close()
	}()

	type result struct {
		line string
		err  error
	}
	res := make(chan result, 1)
	go func() {
		line, err := bufio.NewReader(readyR).ReadString('\n')
		res <- result{strings.TrimSpace(line), err}
	}()
	var got result
	select {
	case got = <-res:
	case <-ctx.Done():
		_ = cmd.Process.Signal(unix.SIGTERM)
		return ctx.Err()
	}
	switch {
	case got.line == "ok":
		r.log.InfoContext(ctx, "container group started", "group", spec.ID, "monitor", cmd.Process.Pid)
		return nil
	case strings.HasPrefix(got.line, "error: "):
		msg := strings.TrimPrefix(got.line, "error: ")
		kind := errdefs.Internal
		if strings.Contains(msg, "address already in use") {
			kind = errdefs.Conflict
		} else if strings.Contains(msg, "unable to find user") || strings.Contains(msg, "unable to find group") || strings.Contains(msg, "invalid file name") {
			kind = errdefs.InvalidArgument
		}
		if kind == errdefs.Internal {
			return errdefs.Internalf(errors.New(msg), "runner: start group %s", spec.ID)
		}
		return errdefs.New(kind, "", msg)
	default:
		r.release(spec.ID)
		return errdefs.Internalf(got.err, "runner: the monitor of group %s ended before taking over", spec.ID)
	}
}

// shimPID returns the group's monitor pid if it is alive and is ours.
func (r *Runner) shimPID(id string) (int, bool) {
	gdir := r.groupDir(id)
	b, err := os.ReadFile(filepath.Join(gdir, "shim.pid"))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return 0, false
	}
	args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	if len(args) != 3 || args[1] != "shim" || args[2] != gdir {
		return 0, false
	}
	return pid, true
}

// Stop implements containergroup.Runner.
func (r *Runner) Stop(ctx context.Context, id string) error {
	if !r.known(id) {
		return notFound(id)
	}
	defer r.lock(id)()
	return r.stopLocked(ctx, id)
}

func (r *Runner) stopLocked(ctx context.Context, id string) error {
	if pid, ok := r.shimPID(id); ok {
		if err := signalAndWait(ctx, pid, r.cfg.StopGrace+10*time.Second); err != nil {
			r.log.WarnContext(ctx, "the monitor did not stop; releasing the group itself", "group", id, "err", err)
		}
	}
	r.release(id)
	return nil
}

// signalAndWait sends SIGTERM to pid and waits (pidfd, no polling) until
// it has exited; after timeout it sends SIGKILL.
func signalAndWait(ctx context.Context, pid int, timeout time.Duration) error {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		if errors.Is(err, unix.ESRCH) {
			return nil
		}
		return err
	}
	defer func() { _ = unix.Close(fd) }()
	if err := unix.PidfdSendSignal(fd, unix.SIGTERM, nil, 0); err != nil {
		return nil // already gone
	}
	deadline := time.Now().Add(timeout)
	for {
		wait := time.Until(deadline)
		if d, ok := ctx.Deadline(); ok && time.Until(d) < wait {
			wait = time.Until(d)
		}
		if wait <= 0 {
			_ = unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
			return errors.New("timed out")
		}
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, int(min(wait, time.Second).Milliseconds())+1)
		if err != nil && !errors.Is(err, unix.EINTR) {
			return err
		}
		if n > 0 {
			return nil
		}
		if ctx.Err() != nil {
			_ = unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
			return ctx.Err()
		}
	}
}

// release cleans up after a group whose monitor is gone (stopped,
// crashed, or lost with a reboot): containers still running are killed and
// recorded as Terminated with exit code 137, and mounts, runtime state,
// cgroups, the network namespace and the run dir are released.
func (r *Runner) release(id string) {
	gdir, rdir := r.groupDir(id), r.runDir(id)
	statusPath := filepath.Join(gdir, "status.json")
	st, err := readStatus(statusPath)
	if err == nil {
		now := time.Now().UTC()
		for _, list := range [][]containergroup.ContainerStatus{st.InitContainers, st.Containers} {
			for i := range list {
				c := &list[i]
				cid := containerID(id, c.Name)
				_ = exec.Command(r.cfg.Runtime, "--root", r.runtimeRoot, "kill", cid, "KILL").Run()
				_ = exec.Command(r.cfg.Runtime, "--root", r.runtimeRoot, "delete", "--force", cid).Run()
				removeCgroups(cgroupName(r.runtimeRoot, cid))
				removeCgroups(cid) // named so before cgroupName
				if c.Current.State == "Running" {
					c.Current.State = "Terminated"
					c.Current.FinishTime = now
					c.Current.ExitCode = 137
					c.Current.DetailStatus = "Error"
				}
			}
		}
		if st.Active {
			st.Active = false
		}
		if err := writeStatus(statusPath, st); err != nil {
			r.log.Error("record the group's end", "group", id, "err", err)
		}
	}
	if err := unmountAll(gdir); err != nil {
		r.log.Error("unmount", "group", id, "err", err)
	}
	_ = os.RemoveAll(filepath.Join(gdir, "c"))
	_ = unmountNetns(filepath.Join(rdir, "netns"))
	if err := removeTree(rdir); err != nil {
		r.log.Error("release the run dir", "group", id, "err", err)
	}
	_ = os.Remove(filepath.Join(gdir, "shim.pid"))
}

// Remove implements containergroup.Runner. Removing an unknown group is
// not an error (it is idempotent).
func (r *Runner) Remove(ctx context.Context, id string) error {
	if !r.known(id) {
		return nil
	}
	defer r.lock(id)()
	if err := r.stopLocked(ctx, id); err != nil {
		return err
	}
	if err := removeTree(r.groupDir(id)); err != nil {
		return errdefs.Internalf(err, "runner: remove group %s", id)
	}
	r.locks.Delete(id)
	r.releaseBase()
	return nil
}

// releaseBase unmounts the runner's tmpfs once no group is left in it.
func (r *Runner) releaseBase() {
	r.baseMu.Lock()
	defer r.baseMu.Unlock()
	if runs, _ := os.ReadDir(filepath.Join(r.base, "groups")); len(runs) > 0 {
		return
	}
	if groups, _ := os.ReadDir(filepath.Join(r.cfg.Dir, "groups")); len(groups) > 0 {
		return
	}
	if execs, _ := os.ReadDir(filepath.Join(r.base, "exec")); len(execs) > 0 {
		return
	}
	if err := removeTree(r.base); err != nil {
		r.log.Warn("release the run dir", "dir", r.base, "err", err)
	}
}

// Status implements containergroup.Runner.
func (r *Runner) Status(ctx context.Context, id string) (containergroup.GroupStatus, error) {
	if !r.known(id) {
		return containergroup.GroupStatus{}, notFound(id)
	}
	st, err := r.status(id)
	if err != nil {
		return containergroup.GroupStatus{}, err
	}
	return st.group(), nil
}

func (r *Runner) status(id string) (*statusFile, error) {
	path := filepath.Join(r.groupDir(id), "status.json")
	st, err := readStatus(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &statusFile{Active: true}, nil // the monitor is starting
	}
	if err != nil {
		return nil, errdefs.Internalf(err, "runner: status of %s", id)
	}
	if st.Active {
		if _, ok := r.shimPID(id); !ok {
			// The monitor died without recording its end.
			unlock := r.lock(id)
			if _, ok := r.shimPID(id); !ok {
				r.release(id)
			}
			unlock()
			if st, err = readStatus(path); err != nil {
				return nil, errdefs.Internalf(err, "runner: status of %s", id)
			}
		}
	}
	return st, nil
}

// Logs implements containergroup.Runner.
func (r *Runner) Logs(ctx context.Context, id, container string, opts containergroup.LogOptions) (io.ReadCloser, error) {
	if !r.known(id) {
		return nil, notFound(id)
	}
	st, err := r.status(id)
	if err != nil {
		return nil, err
	}
	if st.find(container) == nil {
		return nil, errdefs.Newf(errdefs.NotFound, "", "container %q is not in group %q", container, id)
	}
	path := filepath.Join(r.groupDir(id), "logs", container+".log")
	lines, f, err := readLog(path)
	if err != nil {
		return nil, errdefs.Internalf(err, "runner: logs of %s/%s", id, container)
	}
	lines = tailLines(lines, opts.Tail)
	var buf bytes.Buffer
	lineStart := true
	for _, l := range lines {
		buf.Write(formatLine(l, opts.Timestamps))
		lineStart = !l.partial
	}
	if !opts.Follow || f == nil {
		if f != nil {
			_ = f.Close()
		}
		return io.NopCloser(&buf), nil
	}
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		defer cancel()
		if _, err := pw.Write(buf.Bytes()); err != nil {
			_ = f.Close()
			return
		}
		stop := func() bool {
			st, err := r.status(id)
			if err != nil || !st.Active {
				return true
			}
			c := st.find(container)
			return c == nil || c.Current.State != "Running"
		}
		pw.CloseWithError(followLog(ctx, path, f, pw, opts.Timestamps, lineStart, stop))
	}()
	return &followReader{PipeReader: pr, cancel: cancel}, nil
}

type followReader struct {
	*io.PipeReader
	cancel context.CancelFunc
}

func (f *followReader) Close() error {
	f.cancel()
	return f.PipeReader.Close()
}

// Recover implements containergroup.Runner.
func (r *Runner) Recover(ctx context.Context) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(r.cfg.Dir, "groups"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, errdefs.Internalf(err, "runner: recover")
	}
	var ids []string
	for _, e := range entries {
		id := e.Name()
		if !e.IsDir() || !safeName.MatchString(id) {
			continue
		}
		ids = append(ids, id)
		unlock := r.lock(id)
		if pid, ok := r.shimPID(id); ok {
			if _, seen := r.adopted.Swap(id, pid); !seen {
				r.log.InfoContext(ctx, "re-adopted container group", "group", id, "monitor", pid)
			}
		} else {
			r.adopted.Delete(id)
			r.release(id)
		}
		unlock()
	}
	r.recoverExecs(ctx)
	// Run dirs of groups that no longer exist.
	if runs, err := os.ReadDir(filepath.Join(r.base, "groups")); err == nil {
		for _, e := range runs {
			if _, err := os.Stat(r.groupDir(e.Name())); errors.Is(err, fs.ErrNotExist) {
				_ = unmountNetns(filepath.Join(r.runDir(e.Name()), "netns"))
				_ = removeTree(r.runDir(e.Name()))
			}
		}
	}
	return ids, nil
}
