package runner

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cerulean/cerulean/internal/containergroup"
)

// shimConfig is what Start hands the monitor through its pipe.
type shimConfig struct {
	Spec        containergroup.RunSpec
	Runtime     string // runc or crun binary
	RuntimeRoot string // the runtime's --root
	GroupDir    string
	RunDir      string // on the runner's tmpfs
	LogCap      int64
	BackoffBase time.Duration
	BackoffMax  time.Duration
	StopGrace   time.Duration
}

// Files descriptors of the shim: 3 carries the config in, 4 the readiness
// line out.
const (
	shimConfigFD = 3
	shimReadyFD  = 4
)

// resetBackoff is how long a run must last for the back-off to start over.
const resetBackoff = 10 * time.Minute

// ShimMain is `cerulean shim <group dir>`: the per-group monitor that Start
// launches. It returns the process's exit code.
func ShimMain(args []string) int {
	if len(args) > 0 && args[0] == execRuntimeArg {
		return execRuntimeMain(args[1:])
	}
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: cerulean shim <group dir> (started by the server, not by hand)")
		return 2
	}
	cfgIn := os.NewFile(shimConfigFD, "config")
	ready := os.NewFile(shimReadyFD, "ready")
	if cfgIn == nil || ready == nil {
		fmt.Fprintln(os.Stderr, "cerulean shim: no config pipe")
		return 2
	}
	var cfg shimConfig
	err := json.NewDecoder(cfgIn).Decode(&cfg)
	_ = cfgIn.Close()
	if err != nil {
		fmt.Fprintf(ready, "error: reading the configuration: %v\n", err)
		return 1
	}
	logf, err := os.OpenFile(filepath.Join(cfg.GroupDir, "shim.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		fmt.Fprintf(ready, "error: %v\n", err)
		return 1
	}
	defer func() { _ = logf.Close() }()
	m := newMonitor(cfg, slog.New(slog.NewTextHandler(logf, nil)).With("group", cfg.Spec.ID))

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, unix.SIGTERM, unix.SIGINT)
	signal.Ignore(unix.SIGHUP, unix.SIGPIPE)
	go func() {
		<-sigs
		m.log.Info("stopping")
		m.cancel()
	}()
	// The containers' inits are re-parented to the monitor when the
	// runtime exits, so that it collects their exit status itself.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fmt.Fprintf(ready, "error: subreaper: %v\n", err)
		return 1
	}
	began := time.Now()
	if err := m.setup(); err != nil {
		m.log.Error("setup", "err", err)
		m.teardown()
		fmt.Fprintf(ready, "error: %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
		_ = ready.Close()
		return 1
	}
	if err := os.WriteFile(filepath.Join(cfg.GroupDir, "shim.pid"), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		m.teardown()
		fmt.Fprintf(ready, "error: %v\n", err)
		return 1
	}
	setupTime := time.Since(began)
	m.run(func() {
		m.log.Info("taken over", "setup", setupTime, "total", time.Since(began))
		fmt.Fprintln(ready, "ok")
		_ = ready.Close()
	})
	m.teardown()
	m.log.Info("exited")
	return 0
}

// monitor runs one group.
type monitor struct {
	cfg    shimConfig
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc

	mu          sync.Mutex // guards st and status.json
	st          statusFile
	inits, ctrs []*ctr
	ns          *netns
	fwd         *forwarder
}

// ctr is one container of the group.
type ctr struct {
	spec    containergroup.ContainerSpec
	id      string // 64 hex: runtime id, event id
	cgroup  string // cgroup name (cgroupName)
	init    bool
	status  func(func(*containergroup.ContainerStatus))
	dir     string // Dir/groups/<g>/c/<name>
	bundle  string
	logPath string
	stopSig syscall.Signal

	mu     sync.Mutex
	pid    int
	exited chan struct{} // closed when the current run has ended
}

// cgroupName is a container's cgroup name: unique per runner, because
// two servers on one machine (each with its own data dir, so its own
// runtime root) may run the same group for a moment when one takes over
// the other's, and the runtime must not put both in one cgroup.
func cgroupName(runtimeRoot, id string) string {
	h := sha256.Sum256([]byte(runtimeRoot + "\x00" + id))
	return hex.EncodeToString(h[:])
}

func containerID(group, name string) string {
	h := sha256.Sum256([]byte(group + "/" + name))
	return hex.EncodeToString(h[:])
}

func newMonitor(cfg shimConfig, log *slog.Logger) *monitor {
	m := &monitor{cfg: cfg, log: log}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	m.st.Active = true
	add := func(list *[]containergroup.ContainerStatus, specs []containergroup.ContainerSpec, init bool) []*ctr {
		var out []*ctr
		for i, s := range specs {
			*list = append(*list, containergroup.ContainerStatus{Name: s.Name, Current: containergroup.ContainerState{State: "Waiting"}})
			c := &ctr{
				spec: s, id: containerID(cfg.Spec.ID, s.Name), init: init,
				cgroup:  cgroupName(cfg.RuntimeRoot, containerID(cfg.Spec.ID, s.Name)),
				dir:     filepath.Join(cfg.GroupDir, "c", s.Name),
				bundle:  filepath.Join(cfg.RunDir, "bundles", s.Name),
				logPath: filepath.Join(cfg.GroupDir, "logs", s.Name+".log"),
				stopSig: signalNumber(s.Image.Config.StopSignal),
			}
			c.status = func(f func(*containergroup.ContainerStatus)) {
				m.mu.Lock()
				defer m.mu.Unlock()
				if init {
					f(&m.st.InitContainers[i])
				} else {
					f(&m.st.Containers[i])
				}
				m.saveLocked()
			}
			out = append(out, c)
		}
		return out
	}
	m.inits = add(&m.st.InitContainers, cfg.Spec.InitContainers, true)
	m.ctrs = add(&m.st.Containers, cfg.Spec.Containers, false)
	return m
}

func (m *monitor) saveLocked() {
	if err := writeStatus(filepath.Join(m.cfg.GroupDir, "status.json"), &m.st); err != nil {
		m.log.Error("status", "err", err)
	}
}

// setup makes everything the group's containers need.
func (m *monitor) setup() error {
	spec := m.cfg.Spec
	for _, d := range []string{filepath.Join(m.cfg.GroupDir, "logs"), filepath.Join(m.cfg.RunDir, "bundles"), filepath.Join(m.cfg.RunDir, "etc")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	m.mu.Lock()
	m.saveLocked()
	m.mu.Unlock()

	ns, err := newNetns(filepath.Join(m.cfg.RunDir, "netns"))
	if err != nil {
		return err
	}
	m.ns = ns

	etc := filepath.Join(m.cfg.RunDir, "etc")
	hosts := "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.0.1\t" + spec.Hostname + "\n"
	resolv, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		resolv = nil
	}
	for name, data := range map[string][]byte{"hosts": []byte(hosts), "hostname": []byte(spec.Hostname + "\n"), "resolv.conf": resolv} {
		if err := os.WriteFile(filepath.Join(etc, name), data, 0o644); err != nil {
			return err
		}
	}
	// Secret volumes live in RunDir, on the runner's tmpfs: never on disk.
	vols := map[string]volumeSource{}
	for _, v := range spec.Volumes {
		switch {
		case v.Secret != nil:
			dir := filepath.Join(m.cfg.RunDir, "volumes", v.Name)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			for name, data := range v.Secret {
				if name == "" || strings.ContainsAny(name, "/\x00") || name == "." || name == ".." {
					return fmt.Errorf("secret volume %q: invalid file name %q", v.Name, name)
				}
				if err := os.WriteFile(filepath.Join(dir, name), data, 0o444); err != nil {
					return err
				}
			}
			vols[v.Name] = volumeSource{Path: dir, Secret: true}
		default: // emptyDir
			dir := filepath.Join(m.cfg.GroupDir, "volumes", v.Name)
			if err := os.MkdirAll(dir, 0o777); err != nil {
				return err
			}
			_ = os.Chmod(dir, 0o777)
			vols[v.Name] = volumeSource{Path: dir}
		}
	}
	noFile := hostNoFile()
	for _, c := range append(append([]*ctr(nil), m.inits...), m.ctrs...) {
		if err := m.prepare(c, specInput{
			ID: c.cgroup, Hostname: spec.Hostname, Netns: ns.path,
			Hosts: filepath.Join(etc, "hosts"), Hostfile: filepath.Join(etc, "hostname"), Resolv: filepath.Join(etc, "resolv.conf"),
			Volumes: vols, NoFile: noFile,
		}); err != nil {
			return fmt.Errorf("container %q: %w", c.spec.Name, err)
		}
	}
	if len(spec.Ports) > 0 {
		fwd, err := newForwarder(ns, spec.IP, spec.Ports, m.log)
		if err != nil {
			return err
		}
		m.fwd = fwd
	}
	return nil
}

// prepare mounts the container's root filesystem and writes its bundle.
func (m *monitor) prepare(c *ctr, in specInput) error {
	upper, work, rootfs := filepath.Join(c.dir, "upper"), filepath.Join(c.dir, "work"), filepath.Join(c.dir, "rootfs")
	for _, d := range []string{upper, work, rootfs, c.bundle} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if err := mountOverlay(c.spec.Image.Layers, upper, work, rootfs); err != nil {
		return err
	}
	user, err := resolveUser(rootfs, c.spec.Image.Config.User)
	if err != nil {
		return err
	}
	in.Rootfs, in.User = rootfs, user
	s, err := buildSpec(c.spec, in)
	if err != nil {
		return err
	}
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(c.bundle, "config.json"), b, 0o600)
}

// run supervises the group until it ends or is stopped; ready is called
// once the monitor has taken over (the first launch of the containers,
// or the start of the init containers).
func (m *monitor) run(ready func()) {
	var once sync.Once
	signalReady := func() { once.Do(ready) }
	defer signalReady()
	stopped := make(chan struct{})
	go func() {
		<-m.ctx.Done()
		m.stopAll()
		close(stopped)
	}()
	defer func() {
		m.cancel()
		<-stopped
	}()
	if len(m.inits) > 0 {
		signalReady()
		for _, c := range m.inits {
			if !m.supervise(c, nil) {
				return
			}
		}
	}
	var launched, done sync.WaitGroup
	for _, c := range m.ctrs {
		launched.Add(1)
		done.Go(func() { m.supervise(c, launched.Done) })
	}
	launched.Wait()
	signalReady()
	done.Wait()
}

func (m *monitor) stopping() bool { return m.ctx.Err() != nil }

// supervise runs c until the restart policy says it is done; it reports
// whether the last run exited 0. launched is called after the first
// launch attempt.
func (m *monitor) supervise(c *ctr, launched func()) bool {
	policy := m.cfg.Spec.Restart
	backoff := m.cfg.BackoffBase
	first := true
	for {
		if m.stopping() {
			if launched != nil {
				launched()
			}
			return false
		}
		if !first {
			c.status(func(s *containergroup.ContainerStatus) { s.RestartCount++ })
		}
		first = false
		began := time.Now()
		pid, err := m.launch(c)
		code := 0
		if err != nil {
			m.log.Warn("launch", "container", c.spec.Name, "err", err)
			now := time.Now().UTC()
			code = 128
			c.status(func(s *containergroup.ContainerStatus) {
				s.Current = containergroup.ContainerState{State: "Terminated", StartTime: now, FinishTime: now, ExitCode: code, DetailStatus: "Error"}
				addEvent(s, "Failed", "Warning", "Error: failed to start container \""+c.spec.Name+"\": "+err.Error(), now)
			})
			if launched != nil {
				launched()
				launched = nil
			}
		} else {
			if launched != nil {
				launched()
				launched = nil
			}
			if m.stopping() {
				m.kill(c, unix.SIGKILL)
			}
			var oom bool
			code, oom = m.wait(c, pid)
			now := time.Now().UTC()
			c.status(func(s *containergroup.ContainerStatus) {
				s.Current.State = "Terminated"
				s.Current.FinishTime = now
				s.Current.ExitCode = code
				s.Current.DetailStatus = detailFor(code, oom)
				addEvent(s, "Killing", "Normal", "Killing container with id "+c.id+".", now)
			})
		}
		if m.stopping() {
			return false
		}
		restart := policy == containergroup.RestartAlways || policy == containergroup.RestartOnFailure && code != 0
		if c.init {
			restart = code != 0 && policy != containergroup.RestartNever
		}
		if !restart {
			return code == 0
		}
		if time.Since(began) >= resetBackoff {
			backoff = m.cfg.BackoffBase
		}
		now := time.Now().UTC()
		c.status(func(s *containergroup.ContainerStatus) {
			prev := s.Current
			s.Previous = &prev
			s.Current = containergroup.ContainerState{State: "Waiting", DetailStatus: "CrashLoopBackOff"}
			addEvent(s, "BackOff", "Warning", "Back-off restarting failed container", now)
		})
		t := time.NewTimer(backoff)
		select {
		case <-m.ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
		backoff = min(backoff*2, m.cfg.BackoffMax)
	}
}

// runtimeCmd runs the OCI runtime with the group's --root.
func (m *monitor) runtimeCmd(args ...string) *exec.Cmd {
	return exec.Command(m.cfg.Runtime, append([]string{"--root", m.cfg.RuntimeRoot}, args...)...)
}

// launch starts one run of c (`run --detach`): its init is re-parented
// to the monitor, its stdout and stderr are pipes drained into the log.
func (m *monitor) launch(c *ctr) (int, error) {
	lw, err := newLogWriter(c.logPath, m.cfg.LogCap)
	if err != nil {
		return 0, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		lw.close()
		return 0, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		_ = outR.Close()
		_ = outW.Close()
		lw.close()
		return 0, err
	}
	exited := make(chan struct{})
	var drains sync.WaitGroup
	drains.Go(func() { lw.drain("stdout", outR); _ = outR.Close() })
	drains.Go(func() { lw.drain("stderr", errR); _ = errR.Close() })
	go func() {
		<-exited
		drains.Wait()
		lw.close()
	}()

	pidFile := filepath.Join(c.bundle, "pid")
	runtimeLog := filepath.Join(c.bundle, "runtime.log")
	_ = os.Remove(pidFile)
	_ = os.Remove(runtimeLog)
	cmd := exec.Command(m.cfg.Runtime, "--root", m.cfg.RuntimeRoot, "--log", runtimeLog, "--log-format", "json",
		"run", "--detach", "--pid-file", pidFile, "--bundle", c.bundle, c.id)
	cmd.Stdout, cmd.Stderr = outW, errW
	started := time.Now().UTC()
	err = cmd.Run()
	_ = outW.Close()
	_ = errW.Close()
	if err != nil {
		close(exited)
		_ = m.runtimeCmd("delete", "--force", c.id).Run()
		return 0, errors.New(runtimeError(runtimeLog, err))
	}
	b, err := os.ReadFile(pidFile)
	pid, perr := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || perr != nil || pid <= 0 {
		close(exited)
		_ = m.runtimeCmd("delete", "--force", c.id).Run()
		return 0, fmt.Errorf("the runtime wrote no pid: %w", errors.Join(err, perr))
	}
	c.mu.Lock()
	c.pid, c.exited = pid, exited
	c.mu.Unlock()
	c.status(func(s *containergroup.ContainerStatus) {
		s.Current = containergroup.ContainerState{State: "Running", StartTime: started}
		addEvent(s, "Started", "Normal", "Started container", started)
	})
	return pid, nil
}

// runtimeError is the runtime's own error message from its JSON log.
func runtimeError(path string, err error) string {
	b, _ := os.ReadFile(path)
	msg := ""
	for _, line := range bytes.Split(b, []byte{'\n'}) {
		var rec struct{ Level, Msg string }
		if json.Unmarshal(line, &rec) == nil && rec.Level == "error" && rec.Msg != "" {
			msg = rec.Msg
		}
	}
	if msg == "" {
		return err.Error()
	}
	return msg
}

// wait collects c's exit status and releases the run.
func (m *monitor) wait(c *ctr, pid int) (code int, oom bool) {
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(pid, &ws, 0, nil)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.EINTR) {
			m.log.Error("wait", "container", c.spec.Name, "pid", pid, "err", err)
			ws = unix.WaitStatus(unix.SIGKILL) // unknown: reported as killed
			break
		}
	}
	switch {
	case ws.Exited():
		code = ws.ExitStatus()
	case ws.Signaled():
		code = 128 + int(ws.Signal())
	}
	oom = oomKilled(c.cgroup)
	c.mu.Lock()
	exited := c.exited
	c.pid = 0
	c.mu.Unlock()
	close(exited)
	_ = m.runtimeCmd("delete", "--force", c.id).Run()
	removeCgroups(c.cgroup)
	return code, oom
}

func (m *monitor) kill(c *ctr, sig syscall.Signal) {
	_ = m.runtimeCmd("kill", c.id, strconv.Itoa(int(sig))).Run()
}

// stopAll stops every running container: its stop signal, the grace
// period, then SIGKILL.
func (m *monitor) stopAll() {
	var wg sync.WaitGroup
	for _, c := range append(append([]*ctr(nil), m.inits...), m.ctrs...) {
		c.mu.Lock()
		pid, exited := c.pid, c.exited
		c.mu.Unlock()
		if pid == 0 {
			continue
		}
		wg.Go(func() {
			m.kill(c, c.stopSig)
			t := time.NewTimer(m.cfg.StopGrace)
			defer t.Stop()
			select {
			case <-exited:
			case <-t.C:
				m.kill(c, unix.SIGKILL)
				<-exited
			}
		})
	}
	wg.Wait()
}

// teardown releases everything the group holds on the host and records
// the group as ended.
func (m *monitor) teardown() {
	if m.fwd != nil {
		m.fwd.close()
	}
	for _, c := range append(append([]*ctr(nil), m.inits...), m.ctrs...) {
		_ = m.runtimeCmd("delete", "--force", c.id).Run()
		removeCgroups(c.cgroup)
		if err := removeTree(c.dir); err != nil {
			m.log.Error("release root filesystem", "container", c.spec.Name, "err", err)
		}
	}
	if m.ns != nil {
		if err := m.ns.close(); err != nil {
			m.log.Error("release network namespace", "err", err)
		}
	}
	if err := removeTree(m.cfg.RunDir); err != nil {
		m.log.Error("release run dir", "err", err)
	}
	_ = os.RemoveAll(filepath.Join(m.cfg.GroupDir, "c"))
	m.mu.Lock()
	m.st.Active = false
	m.saveLocked()
	m.mu.Unlock()
	_ = os.Remove(filepath.Join(m.cfg.GroupDir, "shim.pid"))
}
