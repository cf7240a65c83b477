// Package runnertest is the conformance suite every containergroup.Runner
// backend must pass. It runs real containers from a busybox image: the
// backend must be able to run them on this machine (root, an OCI runtime).
package runnertest

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cerulean/cerulean/internal/containergroup"
	"github.com/cerulean/cerulean/internal/errdefs"
)

// Factory makes a Runner keeping its state in dir. The suite calls it a
// second time on the same dir to play a server restart. Restart back-off
// must be short (well under a second) for the restart-policy tests.
type Factory func(t *testing.T, dir string) containergroup.Runner

// patience bounds every wait so that a broken backend fails instead of
// hanging; no assertion depends on how long anything takes.
const patience = 60 * time.Second

// RunSuite runs the conformance suite.
func RunSuite(t *testing.T, newRunner Factory) {
	img := BusyboxImage(t)
	s := &suite{newRunner: newRunner, img: img}
	t.Run("Isolation", s.isolation)
	t.Run("Environment", s.environment)
	t.Run("MemoryLimitOOM", s.memory)
	t.Run("CPUQuota", s.cpu)
	t.Run("RestartPolicies", s.restartPolicies)
	t.Run("Exec", s.exec)
	t.Run("LogsFollowAndTail", s.logs)
	t.Run("PortForwardTCP", s.portTCP)
	t.Run("PortForwardUDP", s.portUDP)
	t.Run("Localhost", s.localhost)
	t.Run("Volumes", s.volumes)
	t.Run("InitContainers", s.initContainers)
	t.Run("SurvivesServerRestart", s.recover)
	t.Run("Errors", s.errors)
}

type suite struct {
	newRunner Factory
	img       containergroup.Image
}

// group is a started group under test.
type group struct {
	t    *testing.T
	r    containergroup.Runner
	dir  string
	spec containergroup.RunSpec
}

func randomID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "t" + hex.EncodeToString(b)
}

// randomIP is a loopback address unlikely to be used by anyone else.
func randomIP() netip.Addr {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	v := binary.BigEndian.Uint32(b)
	return netip.AddrFrom4([4]byte{127, byte(100 + v%100), byte(v >> 8), byte(1 + (v>>16)%250)})
}

func (s *suite) container(name string, cmd ...string) containergroup.ContainerSpec {
	return containergroup.ContainerSpec{Name: name, Image: s.img, Command: cmd}
}

// start runs a group with defaults filled in and stops it at the end.
func (s *suite) start(t *testing.T, spec containergroup.RunSpec) *group {
	t.Helper()
	dir := t.TempDir()
	r := s.newRunner(t, dir)
	if spec.ID == "" {
		spec.ID = randomID()
	}
	if spec.Hostname == "" {
		spec.Hostname = "cg-" + spec.ID[1:7]
	}
	if spec.Restart == "" {
		spec.Restart = containergroup.RestartNever
	}
	if !spec.IP.IsValid() {
		spec.IP = randomIP()
	}
	if err := r.Start(context.Background(), spec); err != nil {
		t.Fatalf("Start: %v", err)
	}
	g := &group{t: t, r: r, dir: dir, spec: spec}
	t.Cleanup(func() {
		if err := g.r.Remove(context.Background(), spec.ID); err != nil {
			t.Errorf("Remove: %v", err)
		}
	})
	return g
}

func (g *group) status() containergroup.GroupStatus {
	g.t.Helper()
	st, err := g.r.Status(context.Background(), g.spec.ID)
	if err != nil {
		g.t.Fatalf("Status: %v", err)
	}
	return st
}

func (g *group) container(name string) containergroup.ContainerStatus {
	g.t.Helper()
	st := g.status()
	for _, c := range append(st.InitContainers, st.Containers...) {
		if c.Name == name {
			return c
		}
	}
	g.t.Fatalf("no container %q in %+v", name, st)
	return containergroup.ContainerStatus{}
}

// waitFor polls cond until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (g *group) logs(name string, opts containergroup.LogOptions) string {
	g.t.Helper()
	rc, err := g.r.Logs(context.Background(), g.spec.ID, name, opts)
	if err != nil {
		g.t.Fatalf("Logs: %v", err)
	}
	defer func() { _ = rc.Close() }()
	b, err := io.ReadAll(rc)
	if err != nil {
		g.t.Fatalf("Logs: %v", err)
	}
	return string(b)
}

// waitLog waits until the container's log contains want and returns it.
func (g *group) waitLog(name, want string) string {
	g.t.Helper()
	var out string
	waitFor(g.t, fmt.Sprintf("%q in the log of %s", want, name), func() bool {
		out = g.logs(name, containergroup.LogOptions{})
		return strings.Contains(out, want)
	})
	return out
}

// waitTerminated waits until the container has ended for good and the
// monitor has ended.
func (g *group) waitInactive() containergroup.GroupStatus {
	g.t.Helper()
	var st containergroup.GroupStatus
	waitFor(g.t, "the group to end", func() bool {
		st = g.status()
		return !st.Active
	})
	return st
}

func event(c containergroup.ContainerStatus, name string) *containergroup.Event {
	for i := range c.Events {
		if c.Events[i].Name == name {
			return &c.Events[i]
		}
	}
	return nil
}

var killing = regexp.MustCompile(`^Killing container with id [0-9a-f]{64}\.$`)

// defaultCapEff is the effective capability mask of containerd's and
// Docker's 14 default capabilities.
const defaultCapEff = "00000000a80425fb"

func (s *suite) isolation(t *testing.T) {
	marker := filepath.Join(os.TempDir(), "cerulean-host-marker-"+randomID())
	must(t, os.WriteFile(marker, []byte("host"), 0o644))
	defer func() { _ = os.Remove(marker) }()
	script := `echo "pid1=$(tr '\0' ' ' < /proc/1/cmdline)"; echo "host=$(hostname)"; grep CapEff /proc/self/status;` +
		` echo "ifaces=$(grep : /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\n' ',')";` +
		` echo "procs=$(ls /proc | grep -c '^[0-9]')";` +
		` if test -e ` + marker + `; then echo hostfile=visible; else echo hostfile=invisible; fi; echo done; sleep 1000`
	g := s.start(t, containergroup.RunSpec{Containers: []containergroup.ContainerSpec{s.container("main", "sh", "-c", script)}})
	out := g.waitLog("main", "\ndone\n")
	for _, want := range []string{
		"pid1=sh -c " + script[:20],
		"host=" + g.spec.Hostname + "\n",
		"CapEff:\t" + defaultCapEff,
		"ifaces=lo,\n",
		"hostfile=invisible",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	var procs int
	m := regexp.MustCompile(`\nprocs=(\d+)\n`).FindStringSubmatch(out)
	if m != nil {
		procs, _ = strconv.Atoi(m[1])
	}
	if m == nil || procs > 6 {
		t.Errorf("the container sees %d processes (host processes visible?):\n%s", procs, out)
	}
	if c := g.container("main"); c.Current.State != "Running" || event(c, "Started") == nil {
		t.Errorf("state %+v", c)
	}
}

func (s *suite) environment(t *testing.T) {
	c := s.container("main", "sh", "-c", `echo "env=$IMAGE_ONLY,$OVERRIDDEN,$SECRET,$HOSTNAME,$PATH"; echo "cwd=$(pwd)"; echo on-stderr >&2; echo "id=$(id -u):$(id -g):$(id -G)"; sleep 1000`)
	c.Env = []containergroup.EnvVar{{Name: "OVERRIDDEN", Value: "aci"}, {Name: "SECRET", Value: "s3"}}
	c.Image.Config.WorkingDir = "/www"
	c.Image.Config.User = "app"
	g := s.start(t, containergroup.RunSpec{Containers: []containergroup.ContainerSpec{c}})
	out := g.waitLog("main", "id=")
	for _, want := range []string{"env=1,aci,s3," + g.spec.Hostname + ",/bin\n", "cwd=/www\n", "id=1000:1000:1000 2000\n", "on-stderr\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

func (s *suite) memory(t *testing.T) {
	c := s.container("main", "sh", "-c", `echo allocating; x=$(head -c 400000000 /dev/zero | tr '\000' a); echo survived`)
	c.MemoryBytes = 64 << 20
	g := s.start(t, containergroup.RunSpec{Containers: []containergroup.ContainerSpec{c}})
	g.waitInactive()
	st := g.container("main")
	if st.Current.State != "Terminated" || st.Current.ExitCode != 137 || st.Current.DetailStatus != "OOMKilled" {
		t.Errorf("want Terminated 137 OOMKilled, got %+v\nlog: %s", st.Current, g.logs("main", containergroup.LogOptions{}))
	}
}

func (s *suite) cpu(t *testing.T) {
	c := s.container("main", "sh", "-c", `echo "max=$(cat /sys/fs/cgroup/cpu.max 2>/dev/null || cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us | tr '\n' ' ')"; sleep 1000`)
	c.CPU = 0.5
	g := s.start(t, containergroup.RunSpec{Containers: []containergroup.ContainerSpec{c}})
	out := g.waitLog("main", "max=")
	if !strings.Contains(out, "max=50000 100000") {
		t.Errorf("CPU quota not 50000/100000:\n%s", out)
	}
}

func (s *suite) restartPolicies(t *testing.T) {
	cases := []struct {
		policy     containergroup.RestartPolicy
		exit       int
		restarts   bool
		wantDetail string
	}{
		{containergroup.RestartNever, 3, false, "Error"},
		{containergroup.RestartNever, 0, false, "Completed"},
		{containergroup.RestartOnFailure, 0, false, "Completed"},
		{containergroup.RestartOnFailure, 2, true, "Error"},
		{containergroup.RestartAlways, 0, true, "Completed"},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s/exit%d", tc.policy, tc.exit), func(t *testing.T) {
			c := s.container("main", "sh", "-c", fmt.Sprintf("echo run; exit %d", tc.exit))
			g := s.start(t, containergroup.RunSpec{Restart: tc.policy, Containers: []containergroup.ContainerSpec{c}})
			if !tc.restarts {
				g.waitInactive()
				st := g.container("main")
				if st.Current.State != "Terminated" || st.Current.ExitCode != tc.exit || st.Current.DetailStatus != tc.wantDetail || st.RestartCount != 0 {
					t.Errorf("state %+v restarts %d", st.Current, st.RestartCount)
				}
				if e := event(st, "Started"); e == nil || e.Count != 1 || e.Message != "Started container" || e.Type != "Normal" {
					t.Errorf("Started event %+v", e)
				}
				if e := event(st, "Killing"); e == nil || e.Count != 1 || !killing.MatchString(e.Message) {
					t.Errorf("Killing event %+v", e)
				}
				if e := event(st, "BackOff"); e != nil {
					t.Errorf("BackOff event without a restart: %+v", e)
				}
				return
			}
			var st containergroup.ContainerStatus
			waitFor(t, "two restarts", func() bool {
				st = g.container("main")
				return st.RestartCount >= 2 && st.Previous != nil
			})
			if p := st.Previous; p.State != "Terminated" || p.ExitCode != tc.exit || p.DetailStatus != tc.wantDetail || p.FinishTime.IsZero() {
				t.Errorf("previous state %+v", p)
			}
			if e := event(st, "Started"); e == nil || e.Count < 2 || e.Last.Before(e.First) {
				t.Errorf("Started event not coalesced: %+v", st.Events)
			}
			if e := event(st, "Killing"); e == nil || e.Count < 2 || !killing.MatchString(e.Message) {
				t.Errorf("Killing event %+v", e)
			}
			if e := event(st, "BackOff"); e == nil || e.Count < 1 {
				t.Errorf("no BackOff event: %+v", st.Events)
			}
			if !g.status().Active {
				t.Error("a restarting group is inactive")
			}
		})
	}
}

// readUntil reads r until the output contains want.
func readUntil(t *testing.T, r io.Reader, want string) string {
	t.Helper()
	var got strings.Builder
	buf := make([]byte, 4096)
	for !strings.Contains(got.String(), want) {
		n, err := r.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			t.Fatalf("output ended (%v) before %q: %q", err, want, got.String())
		}
	}
	return got.String()
}

func (s *suite) exec(t *testing.T) {
	g := s.start(t, containergroup.RunSpec{Containers: []containergroup.ContainerSpec{s.container("main", "sleep", "1000")}})
	ctx := context.Background()
	p, err := g.r.Exec(ctx, g.spec.ID, "main", []string{"sh"}, containergroup.TerminalSize{Rows: 30, Cols: 100})
	if err != nil {
		t.Fatalf("Exec: %v", err)
	}
	out := p.Output()
	// runc applies the terminal's size to the container's console as it
	// starts forwarding, concurrently with the shell's start: typing before
	// the prompt can race it on a loaded machine (stty then sees 0x0).
	readUntil(t, out, "# ")
	if _, err := io.WriteString(p.Stdin(), "echo hello-$((6*7)) $(hostname); stty size; tty\n"); err != nil {
		t.Fatal(err)
	}
	got := readUntil(t, out, "/dev/pts/")
	for _, want := range []string{"hello-42 " + g.spec.Hostname, "30 100"} {
		if !strings.Contains(got, want) {
			t.Errorf("exec output lacks %q: %q", want, got)
		}
	}
	if err := p.Resize(containergroup.TerminalSize{Rows: 33, Cols: 101}); err != nil {
		t.Errorf("Resize: %v", err)
	}
	// The resize reaches the inner terminal asynchronously (a signal to
	// the runtime): the shell waits for it to show.
	_, _ = io.WriteString(p.Stdin(), "until [ \"$(stty size)\" = '33 101' ]; do sleep 0.05; done; echo resized-$(stty size | tr ' ' x); exit 5\n")
	readUntil(t, out, "resized-33x101")
	_, _ = io.Copy(io.Discard, out)
	code, err := p.Wait()
	if err != nil || code != 5 {
		t.Errorf("Wait = %d, %v; want 5", code, err)
	}
	_ = p.Close()

	if _, err := g.r.Exec(ctx, g.spec.ID, "nope", []string{"true"}, containergroup.TerminalSize{}); !errdefs.IsKind(err, errdefs.NotFound) {
		t.Errorf("Exec in an unknown container: %v", err)
	}
}

func (s *suite) logs(t *testing.T) {
	c := s.container("main", "sh", "-c", `echo one; echo two; printf 'no newline'; sleep 0.3; echo ' end'; echo three; exit 0`)
	g := s.start(t, containergroup.RunSpec{Containers: []containergroup.ContainerSpec{c}})
	rc, err := g.r.Logs(context.Background(), g.spec.ID, "main", containergroup.LogOptions{Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	followed, err := io.ReadAll(rc)
	_ = rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	if want := "one\ntwo\nno newline end\nthree\n"; string(followed) != want {
		t.Errorf("followed %q, want %q", followed, want)
	}
	g.waitInactive()
	if got := g.logs("main", containergroup.LogOptions{Tail: 2}); got != "no newline end\nthree\n" {
		t.Errorf("tail 2 = %q", got)
	}
	ts := g.logs("main", containergroup.LogOptions{Timestamps: true})
	lines := strings.Split(strings.TrimSuffix(ts, "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("timestamps: %q", ts)
	}
	for _, l := range lines {
		stamp, _, _ := strings.Cut(l, " ")
		if _, err := time.Parse(time.RFC3339Nano, stamp); err != nil {
			t.Errorf("line %q: %v", l, err)
		}
	}
}

func (s *suite) portTCP(t *testing.T) {
	g := s.start(t, containergroup.RunSpec{
		Ports:      []containergroup.Port{{Port: 8080, Protocol: "TCP"}},
		Containers: []containergroup.ContainerSpec{s.container("web", "httpd", "-f", "-p", "8080", "-h", "/www")},
	})
	url := "http://" + netip.AddrPortFrom(g.spec.IP, 8080).String() + "/"
	client := &http.Client{Timeout: 5 * time.Second}
	var body string
	waitFor(t, "the server to answer on "+url, func() bool {
		resp, err := client.Get(url)
		if err != nil {
			return false
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return resp.StatusCode == http.StatusOK
	})
	if body != IndexHTML {
		t.Errorf("body %q", body)
	}
}

func (s *suite) portUDP(t *testing.T) {
	if !hasUDPEcho(s.img) {
		t.Skip("no udpecho in the image (the Go toolchain could not build it)")
	}
	g := s.start(t, containergroup.RunSpec{
		Ports:      []containergroup.Port{{Port: 9090, Protocol: "UDP"}},
		Containers: []containergroup.ContainerSpec{s.container("udp", "udpecho", "9090")},
	})
	conn, err := net.Dial("udp", netip.AddrPortFrom(g.spec.IP, 9090).String())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	buf := make([]byte, 100)
	waitFor(t, "a UDP answer", func() bool {
		_, _ = conn.Write([]byte("ping"))
		_ = conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		n, err := conn.Read(buf)
		return err == nil && string(buf[:n]) == "echo:ping"
	})
}

func (s *suite) localhost(t *testing.T) {
	g := s.start(t, containergroup.RunSpec{Containers: []containergroup.ContainerSpec{
		s.container("web", "httpd", "-f", "-p", "8081", "-h", "/www"),
		s.container("client", "sh", "-c", `until wget -qO- http://127.0.0.1:8081/; do sleep 0.05; done; echo fetched; sleep 1000`),
	}})
	out := g.waitLog("client", "fetched")
	if !strings.Contains(out, IndexHTML) {
		t.Errorf("client log %q", out)
	}
}

func (s *suite) volumes(t *testing.T) {
	secret := "s3cret-" + randomID()
	writer := s.container("writer", "sh", "-c", `echo shared > /data/f; sleep 1000`)
	writer.Mounts = []containergroup.Mount{{Volume: "data", Path: "/data"}}
	reader := s.container("reader", "sh", "-c", `until test -f /data/f; do sleep 0.05; done; cat /data/f; cat /mnt/secret/key; echo;`+
		` grep ' /mnt/secret ' /proc/mounts; echo x > /mnt/secret/new || echo readonly; echo done; sleep 1000`)
	reader.Mounts = []containergroup.Mount{{Volume: "data", Path: "/data"}, {Volume: "sec", Path: "/mnt/secret"}}
	g := s.start(t, containergroup.RunSpec{
		Volumes: []containergroup.Volume{
			{Name: "data", EmptyDir: true},
			{Name: "sec", Secret: map[string][]byte{"key": []byte(secret)}},
		},
		Containers: []containergroup.ContainerSpec{writer, reader},
	})
	out := g.waitLog("reader", "\ndone\n")
	for _, want := range []string{"shared\n", secret + "\n", " /mnt/secret tmpfs ro", "readonly\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	// The secret is nowhere on disk under the runner's directory (the
	// log shows it because the container printed it: skip the logs).
	_ = filepath.WalkDir(g.dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return nil //nolint:nilerr // a file that vanished while walking holds no secret; keep walking
		}
		if d.IsDir() || strings.Contains(path, "/logs/") || !d.Type().IsRegular() {
			return nil
		}
		if b, err := os.ReadFile(path); err == nil && strings.Contains(string(b), secret) {
			t.Errorf("the secret is on disk in %s", path)
		}
		return nil
	})
}

func (s *suite) initContainers(t *testing.T) {
	first := s.container("first", "sh", "-c", `echo from-init > /work/init.txt`)
	first.Mounts = []containergroup.Mount{{Volume: "work", Path: "/work"}}
	main := s.container("main", "sh", "-c", `cat /work/init.txt; sleep 1000`)
	main.Mounts = first.Mounts
	g := s.start(t, containergroup.RunSpec{
		Volumes:        []containergroup.Volume{{Name: "work", EmptyDir: true}},
		InitContainers: []containergroup.ContainerSpec{first},
		Containers:     []containergroup.ContainerSpec{main},
	})
	g.waitLog("main", "from-init")
	if st := g.container("first"); st.Current.State != "Terminated" || st.Current.DetailStatus != "Completed" {
		t.Errorf("init container %+v", st.Current)
	}

	// A failing init container under Never: the containers never start.
	bad := s.container("bad", "sh", "-c", "exit 4")
	g2 := s.start(t, containergroup.RunSpec{InitContainers: []containergroup.ContainerSpec{bad}, Containers: []containergroup.ContainerSpec{s.container("main", "sleep", "1000")}})
	st := g2.waitInactive()
	if c := st.InitContainers[0].Current; c.State != "Terminated" || c.ExitCode != 4 {
		t.Errorf("init %+v", c)
	}
	if c := st.Containers[0].Current; c.State != "Waiting" {
		t.Errorf("main container after a failed init: %+v", c)
	}
}

func (s *suite) recover(t *testing.T) {
	g := s.start(t, containergroup.RunSpec{
		Restart:    containergroup.RestartAlways,
		Ports:      []containergroup.Port{{Port: 8080}},
		Containers: []containergroup.ContainerSpec{s.container("main", "sh", "-c", `echo before; httpd -p 8080 -h /www; i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done`)},
	})
	g.waitLog("main", "tick 2")

	// A new runner on the same state: the server restarted.
	r2 := s.newRunner(t, g.dir)
	ids, err := r2.Recover(context.Background())
	if err != nil {
		t.Fatalf("Recover: %v", err)
	}
	if len(ids) != 1 || ids[0] != g.spec.ID {
		t.Fatalf("Recover = %v, want [%s]", ids, g.spec.ID)
	}
	g.r = r2
	st := g.status()
	if !st.Active || st.Containers[0].Current.State != "Running" || st.Containers[0].RestartCount != 0 {
		t.Fatalf("after recovery: %+v", st)
	}
	out := g.waitLog("main", "tick 4")
	if !strings.HasPrefix(out, "before\ntick 1\n") {
		t.Errorf("log lost its beginning: %q", out)
	}
	resp, err := http.Get("http://" + netip.AddrPortFrom(g.spec.IP, 8080).String() + "/")
	if err != nil {
		t.Fatalf("forwarding after recovery: %v", err)
	}
	_ = resp.Body.Close()
	p, err := r2.Exec(context.Background(), g.spec.ID, "main", []string{"echo", "exec-after-recover"}, containergroup.TerminalSize{})
	if err != nil {
		t.Fatalf("Exec after recovery: %v", err)
	}
	readUntil(t, bufio.NewReader(p.Output()), "exec-after-recover")
	if code, err := p.Wait(); code != 0 || err != nil {
		t.Errorf("exec: %d %v", code, err)
	}
	_ = p.Close()

	if err := r2.Stop(context.Background(), g.spec.ID); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	st = g.status()
	if st.Active || st.Containers[0].Current.State != "Terminated" {
		t.Errorf("after Stop: %+v", st)
	}
	if !strings.Contains(g.logs("main", containergroup.LogOptions{}), "tick 4") {
		t.Error("Stop lost the logs")
	}
	if resp, err := http.Get("http://" + netip.AddrPortFrom(g.spec.IP, 8080).String() + "/"); err == nil {
		_ = resp.Body.Close()
		t.Error("the port is still forwarded after Stop")
	}
}

func (s *suite) errors(t *testing.T) {
	ctx := context.Background()
	g := s.start(t, containergroup.RunSpec{Containers: []containergroup.ContainerSpec{s.container("main", "sleep", "1000")}})
	if err := g.r.Start(ctx, g.spec); !errdefs.IsKind(err, errdefs.Conflict) {
		t.Errorf("Start of a running group: %v, want Conflict", err)
	}
	if _, err := g.r.Status(ctx, "unknown"); !errdefs.IsKind(err, errdefs.NotFound) {
		t.Errorf("Status of an unknown group: %v", err)
	}
	if err := g.r.Stop(ctx, "unknown"); !errdefs.IsKind(err, errdefs.NotFound) {
		t.Errorf("Stop of an unknown group: %v", err)
	}
	if _, err := g.r.Logs(ctx, g.spec.ID, "nope", containergroup.LogOptions{}); !errdefs.IsKind(err, errdefs.NotFound) {
		t.Errorf("Logs of an unknown container: %v", err)
	}
	for range 2 {
		if err := g.r.Stop(ctx, g.spec.ID); err != nil {
			t.Errorf("Stop: %v", err)
		}
	}
	if st := g.status(); st.Active || st.Containers[0].Current.State != "Terminated" {
		t.Errorf("after Stop: %+v", st)
	}
	// A stopped group starts again (a new deployment).
	if err := g.r.Start(ctx, g.spec); err != nil {
		t.Errorf("Start after Stop: %v", err)
	}
	if c := g.container("main"); c.Current.State != "Running" {
		t.Errorf("restarted group: %+v", c.Current)
	}
	// A command that does not exist fails the container, not Start.
	g2 := s.start(t, containergroup.RunSpec{Containers: []containergroup.ContainerSpec{s.container("main", "/no/such/binary")}})
	st := g2.waitInactive()
	if c := st.Containers[0]; c.Current.State != "Terminated" || c.Current.DetailStatus != "Error" || event(c, "Failed") == nil {
		t.Errorf("bad command: %+v", c)
	}
	// Two groups cannot share an address and port.
	spec := containergroup.RunSpec{ID: randomID(), Hostname: "x", IP: randomIP(), Ports: []containergroup.Port{{Port: 8080}},
		Containers: []containergroup.ContainerSpec{s.container("main", "sleep", "1000")}}
	g3 := s.start(t, spec)
	spec.ID = randomID()
	if err := g3.r.Start(ctx, spec); err == nil {
		_ = g3.r.Remove(ctx, spec.ID)
		t.Error("a second group started on a taken address and port")
	} else {
		_ = g3.r.Remove(ctx, spec.ID)
	}
	if err := g.r.Remove(ctx, "unknown"); err != nil {
		t.Errorf("Remove of an unknown group: %v", err)
	}
	_ = errors.New
}
