package runner

import (
	"context"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cerulean/cerulean/internal/containergroup"
	"github.com/cerulean/cerulean/internal/runner/runnertest"
)

func startSleeper(t testing.TB, r *Runner, img containergroup.Image, id string) {
	t.Helper()
	spec := containergroup.RunSpec{
		ID: id, Hostname: "h", Restart: containergroup.RestartAlways, IP: netipLoopback(id),
		Ports:      []containergroup.Port{{Port: 8080}},
		Volumes:    []containergroup.Volume{{Name: "s", Secret: map[string][]byte{"k": []byte("v")}}},
		Containers: []containergroup.ContainerSpec{{Name: "main", Image: img, Command: []string{"sleep", "1000"}, Mounts: []containergroup.Mount{{Volume: "s", Path: "/s"}}}},
	}
	if err := r.Start(context.Background(), spec); err != nil {
		t.Fatal(err)
	}
}

// assertReleased checks that nothing of the group is left on the host.
func assertReleased(t *testing.T, r *Runner, id string) {
	t.Helper()
	for _, dir := range []string{r.groupDir(id), r.runDir(id)} {
		if mps, _ := mountsUnder(dir); len(mps) > 0 {
			t.Errorf("mounts left: %v", mps)
		}
	}
	if _, err := os.Stat(r.runDir(id)); !os.IsNotExist(err) {
		t.Errorf("run dir left: %v", err)
	}
	cid := containerID(id, "main")
	if _, err := os.Stat(filepath.Join(r.runtimeRoot, cid)); !os.IsNotExist(err) {
		t.Errorf("runtime state left: %v", err)
	}
	for _, cg := range []string{"/sys/fs/cgroup/memory/cerulean/" + cid, "/sys/fs/cgroup/cpu/cerulean/" + cid, "/sys/fs/cgroup/cerulean/" + cid} {
		if _, err := os.Stat(cg); err == nil {
			t.Errorf("cgroup left: %s", cg)
		}
	}
}

func netipLoopback(id string) netip.Addr {
	h := containerID(id, "ip")
	b, _ := strconv.ParseUint(h[:6], 16, 32)
	return netip.AddrFrom4([4]byte{127, byte(50 + b%50), byte(b >> 8), byte(1 + b%250)})
}

func TestStopReleasesEverything(t *testing.T) {
	requireRoot(t, "runc")
	img := runnertest.BusyboxImage(t)
	r := newTestRunner(t, "runc", t.TempDir())
	id := "leak" + strconv.Itoa(os.Getpid())
	startSleeper(t, r, img, id)
	pid, ok := r.shimPID(id)
	if !ok {
		t.Fatal("no monitor")
	}
	// The monitor is a session of its own, detached from this process.
	if sid, err := unix.Getsid(pid); err != nil || sid != pid {
		t.Errorf("monitor session %d, %v; want its own (%d)", sid, err, pid)
	}
	if err := r.Stop(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	assertReleased(t, r, id)
	if err := unix.Kill(pid, 0); err == nil {
		t.Error("the monitor is still alive")
	}
	if err := r.Remove(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(r.groupDir(id)); !os.IsNotExist(err) {
		t.Errorf("Remove left %s", r.groupDir(id))
	}
}

func TestDeadMonitorIsRecorded(t *testing.T) {
	requireRoot(t, "runc")
	img := runnertest.BusyboxImage(t)
	dir := t.TempDir()
	r := newTestRunner(t, "runc", dir)
	id := "dead" + strconv.Itoa(os.Getpid())
	startSleeper(t, r, img, id)
	defer r.Remove(context.Background(), id)
	pid, _ := r.shimPID(id)
	b, err := os.ReadFile(filepath.Join(r.groupDir(id), "status.json"))
	if err != nil || !strings.Contains(string(b), `"Running"`) {
		t.Fatalf("status before: %s %v", b, err)
	}
	_ = unix.Kill(pid, unix.SIGKILL)
	for unix.Kill(pid, 0) == nil {
		time.Sleep(10 * time.Millisecond) // until the kernel has reaped it
	}
	r2 := newTestRunner(t, "runc", dir)
	ids, err := r2.Recover(context.Background())
	if err != nil || len(ids) != 1 {
		t.Fatalf("Recover = %v, %v", ids, err)
	}
	st, err := r2.Status(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if c := st.Containers[0].Current; st.Active || c.State != "Terminated" || c.ExitCode != 137 {
		t.Errorf("after the monitor died: %+v", st)
	}
	assertReleased(t, r2, id)
	out, _ := exec.Command("runc", "--root", r2.runtimeRoot, "list", "-q").Output()
	if strings.TrimSpace(string(out)) != "" {
		t.Errorf("runc still lists %q", out)
	}
}

// BenchmarkStartToRunning measures Start (monitor, namespace, overlay,
// runtime) until the container is Running, with a cached image.
func BenchmarkStartToRunning(b *testing.B) {
	requireRoot(b, "runc")
	img := runnertest.BusyboxImage(b)
	r := newTestRunner(b, "runc", b.TempDir())
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		id := "bench" + strconv.Itoa(i)
		if err := r.Start(ctx, containergroup.RunSpec{ID: id, Hostname: "b", Restart: containergroup.RestartNever,
			Containers: []containergroup.ContainerSpec{{Name: "main", Image: img, Command: []string{"sleep", "1000"}}}}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		st, err := r.Status(ctx, id)
		if err != nil || st.Containers[0].Current.State != "Running" {
			b.Fatalf("not running after Start: %+v %v", st, err)
		}
		r.cfg.StopGrace = time.Millisecond
		_ = r.Remove(ctx, id)
		b.StartTimer()
	}
}
