package runner

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/cerulean/cerulean/internal/containergroup"
)

func TestProcessArgsAndEnv(t *testing.T) {
	img := containergroup.Image{Config: containergroup.ImageConfig{Entrypoint: []string{"/entry"}, Cmd: []string{"a", "b"}, Env: []string{"A=1", "B=image"}}}
	tests := []struct {
		name    string
		c       containergroup.ContainerSpec
		args    []string
		wantEnv []string
	}{
		{"image", containergroup.ContainerSpec{Image: img}, []string{"/entry", "a", "b"}, []string{"A=1", "B=image", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME=g"}},
		{"command replaces entrypoint and cmd", containergroup.ContainerSpec{Image: img, Command: []string{"x"}, Env: []containergroup.EnvVar{{Name: "B", Value: "aci"}, {Name: "PATH", Value: "/p"}}},
			[]string{"x"}, []string{"A=1", "B=aci", "PATH=/p", "HOSTNAME=g"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := processArgs(tc.c); !slices.Equal(got, tc.args) {
				t.Errorf("args %q, want %q", got, tc.args)
			}
			if got := processEnv(tc.c, "g"); !slices.Equal(got, tc.wantEnv) {
				t.Errorf("env %q, want %q", got, tc.wantEnv)
			}
		})
	}
}

func TestBuildSpecHardening(t *testing.T) {
	c := containergroup.ContainerSpec{Name: "c", Command: []string{"sh"}, CPU: 1.5, MemoryBytes: 1 << 30,
		Mounts: []containergroup.Mount{{Volume: "s", Path: "/s"}}}
	s, err := buildSpec(c, specInput{ID: "id", Hostname: "h", Rootfs: "/r", Netns: "/ns", NoFile: 1024,
		Volumes: map[string]volumeSource{"s": {Path: "/sec", Secret: true}}})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Process.NoNewPrivileges || len(s.Process.Capabilities.Bounding) != 14 || s.Linux.Seccomp == nil || s.Linux.Seccomp.DefaultAction != specs.ActErrno {
		t.Errorf("not hardened: %+v", s.Process)
	}
	if *s.Linux.Resources.CPU.Quota != 150000 || *s.Linux.Resources.CPU.Period != 100000 || *s.Linux.Resources.Memory.Limit != 1<<30 || *s.Linux.Resources.Memory.Swap != 1<<30 {
		t.Errorf("resources %+v", s.Linux.Resources)
	}
	if s.Linux.CgroupsPath != "/cerulean/id" || s.Hostname != "h" {
		t.Errorf("cgroups %q hostname %q", s.Linux.CgroupsPath, s.Hostname)
	}
	var netns bool
	for _, ns := range s.Linux.Namespaces {
		netns = netns || ns.Type == specs.NetworkNamespace && ns.Path == "/ns"
	}
	if !netns || len(s.Linux.Namespaces) != 5 {
		t.Errorf("namespaces %+v", s.Linux.Namespaces)
	}
	last := s.Mounts[len(s.Mounts)-1]
	if last.Destination != "/s" || !slices.Contains(last.Options, "ro") {
		t.Errorf("secret mount %+v", last)
	}
	if _, err := buildSpec(containergroup.ContainerSpec{Name: "c"}, specInput{}); err == nil {
		t.Error("a container without a command was accepted")
	}
}

func TestResolveUser(t *testing.T) {
	root := t.TempDir()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(root, "etc"), 0o755))
	must(os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0::/:/bin/sh\napp:x:1000:1001::/:/bin/sh\n"), 0o644))
	must(os.WriteFile(filepath.Join(root, "etc/group"), []byte("app:x:1001:\nextra:x:2000:app,other\nstaff:x:50:\n"), 0o644))
	tests := []struct {
		user string
		want specs.User
		err  bool
	}{
		{"", specs.User{}, false},
		{"app", specs.User{UID: 1000, GID: 1001, AdditionalGids: []uint32{2000}}, false},
		{"1000", specs.User{UID: 1000, GID: 1001, AdditionalGids: []uint32{2000}}, false},
		{"4242", specs.User{UID: 4242}, false},
		{"app:staff", specs.User{UID: 1000, GID: 50}, false},
		{"5:7", specs.User{UID: 5, GID: 7}, false},
		{"ghost", specs.User{}, true},
		{"app:ghost", specs.User{}, true},
	}
	for _, tc := range tests {
		got, err := resolveUser(root, tc.user)
		if (err != nil) != tc.err || err == nil && (got.UID != tc.want.UID || got.GID != tc.want.GID || !slices.Equal(got.AdditionalGids, tc.want.AdditionalGids)) {
			t.Errorf("%q: %+v, %v; want %+v", tc.user, got, err, tc.want)
		}
	}
}

func TestEventsCoalesce(t *testing.T) {
	var c containergroup.ContainerStatus
	t0 := time.Unix(100, 0)
	addEvent(&c, "Started", "Normal", "Started container", t0)
	addEvent(&c, "Killing", "Normal", "Killing container with id x.", t0)
	addEvent(&c, "Started", "Normal", "Started container", t0.Add(time.Second))
	if len(c.Events) != 2 || c.Events[0].Count != 2 || !c.Events[0].First.Equal(t0) || !c.Events[0].Last.Equal(t0.Add(time.Second)) {
		t.Errorf("events %+v", c.Events)
	}
}

func TestLogRotationKeepsTheNewestOutput(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.log")
	w, err := newLogWriter(path, 4096)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		w.write("stdout", []byte(strings.Repeat("x", 20)+"-"+string(rune('a'+i%26))+"\n"), time.Now())
	}
	w.write("stdout", []byte("partial"), time.Now())
	w.write("stderr", []byte(" end\nlast\n"), time.Now())
	w.close()
	lines, f, err := readLog(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	var total int
	for _, l := range lines {
		total += len(l.content) + 1
	}
	if total > 4096 || len(lines) < 20 {
		t.Errorf("kept %d bytes in %d lines", total, len(lines))
	}
	got := []string{string(lines[len(lines)-2].content), string(lines[len(lines)-1].content)}
	if !slices.Equal(got, []string{"partial end", "last"}) {
		t.Errorf("last lines %q", got)
	}
}
