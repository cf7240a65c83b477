package runner

import (
	"fmt"
	"math"
	"strings"
	"syscall"

	"github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/cerulean/cerulean/internal/containergroup"
)

// defaultCaps is containerd's (and Docker's) default capability set.
var defaultCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
	"CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

// containerd's masked and read-only paths.
var (
	maskedPaths = []string{
		"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
		"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
		"/sys/firmware", "/sys/devices/virtual/powercap",
	}
	readonlyPaths = []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
)

const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// cfsPeriod is the CFS period the CPU quota is expressed in (100 ms).
const cfsPeriod = 100000

// specInput is what buildSpec needs besides the container itself.
type specInput struct {
	ID       string // the container's cgroup name (cgroupName)
	Hostname string
	Rootfs   string // the mounted overlay
	Netns    string // the group's network namespace bind mount
	Hosts    string // files bind-mounted at /etc/hosts, /etc/hostname, /etc/resolv.conf
	Hostfile string
	Resolv   string
	Volumes  map[string]volumeSource
	User     specs.User // resolved from the image's USER
	NoFile   uint64     // RLIMIT_NOFILE, already capped by the host's hard limit
}

type volumeSource struct {
	Path   string
	Secret bool
}

// processArgs is ACI's rule: command replaces entrypoint and cmd.
func processArgs(c containergroup.ContainerSpec) []string {
	if len(c.Command) > 0 {
		return c.Command
	}
	return append(append([]string(nil), c.Image.Config.Entrypoint...), c.Image.Config.Cmd...)
}

// processEnv is the image's environment, then the container's variables
// (replacing same-named ones), a default PATH, and HOSTNAME.
func processEnv(c containergroup.ContainerSpec, hostname string) []string {
	var names []string
	vals := map[string]string{}
	set := func(name, val string) {
		if _, ok := vals[name]; !ok {
			names = append(names, name)
		}
		vals[name] = val
	}
	for _, kv := range c.Image.Config.Env {
		name, val, _ := strings.Cut(kv, "=")
		set(name, val)
	}
	for _, e := range c.Env {
		set(e.Name, e.Value)
	}
	if _, ok := vals["PATH"]; !ok {
		set("PATH", strings.TrimPrefix(defaultPath, "PATH="))
	}
	if _, ok := vals["HOSTNAME"]; !ok {
		set("HOSTNAME", hostname)
	}
	env := make([]string, 0, len(names))
	for _, n := range names {
		env = append(env, n+"="+vals[n])
	}
	return env
}

// buildSpec makes the OCI runtime spec of one container.
func buildSpec(c containergroup.ContainerSpec, in specInput) (*specs.Spec, error) {
	args := processArgs(c)
	if len(args) == 0 {
		return nil, fmt.Errorf("container %q has no command: the image sets no entrypoint or cmd and none was given", c.Name)
	}
	cwd := c.Image.Config.WorkingDir
	if cwd == "" {
		cwd = "/"
	}
	caps := append([]string(nil), defaultCaps...)
	s := &specs.Spec{
		Version:  specs.Version,
		Hostname: in.Hostname,
		Root:     &specs.Root{Path: in.Rootfs},
		Process: &specs.Process{
			Args: args,
			Env:  processEnv(c, in.Hostname),
			Cwd:  cwd,
			User: in.User,
			Capabilities: &specs.LinuxCapabilities{
				Bounding: caps, Effective: caps, Permitted: caps,
			},
			NoNewPrivileges: true,
			Rlimits:         []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: in.NoFile, Soft: in.NoFile}},
		},
		Mounts: defaultMounts(),
		Linux: &specs.Linux{
			CgroupsPath: "/cerulean/" + in.ID,
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace}, {Type: specs.IPCNamespace}, {Type: specs.UTSNamespace},
				{Type: specs.MountNamespace}, {Type: specs.NetworkNamespace, Path: in.Netns},
			},
			Resources:     resources(c),
			MaskedPaths:   maskedPaths,
			ReadonlyPaths: readonlyPaths,
		},
	}
	for _, f := range []struct{ dst, src string }{{"/etc/hosts", in.Hosts}, {"/etc/hostname", in.Hostfile}, {"/etc/resolv.conf", in.Resolv}} {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: f.dst, Type: "bind", Source: f.src, Options: []string{"rbind", "ro", "nosuid", "nodev", "noexec"}})
	}
	for _, m := range c.Mounts {
		v, ok := in.Volumes[m.Volume]
		if !ok {
			return nil, fmt.Errorf("container %q mounts unknown volume %q", c.Name, m.Volume)
		}
		opts := []string{"rbind", "nosuid", "nodev"}
		if m.ReadOnly || v.Secret {
			opts = append(opts, "ro")
		}
		if v.Secret {
			opts = append(opts, "noexec")
		}
		s.Mounts = append(s.Mounts, specs.Mount{Destination: m.Path, Type: "bind", Source: v.Path, Options: opts})
	}
	sc, err := seccomp.GetDefaultProfile(s)
	if err != nil {
		return nil, fmt.Errorf("seccomp profile: %w", err)
	}
	s.Linux.Seccomp = sc
	return s, nil
}

func resources(c containergroup.ContainerSpec) *specs.LinuxResources {
	r := &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}}
	if c.CPU > 0 {
		quota := int64(math.Ceil(c.CPU * cfsPeriod))
		period := uint64(cfsPeriod)
		r.CPU = &specs.LinuxCPU{Quota: &quota, Period: &period}
	}
	if c.MemoryBytes > 0 {
		limit, swap := c.MemoryBytes, c.MemoryBytes // memory+swap = memory: no swap
		r.Memory = &specs.LinuxMemory{Limit: &limit, Swap: &swap}
	}
	return r
}

// defaultMounts are containerd's default mounts plus a read-only view of
// the container's own cgroups (as Docker mounts it).
func defaultMounts() []specs.Mount {
	return []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"ro", "nosuid", "noexec", "nodev", "relatime"}},
		{Destination: "/run", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
	}
}

// hostNoFile is containerd's RLIMIT_NOFILE (1024), never above what the
// host allows: a runtime refuses a spec whose hard limit exceeds its own.
func hostNoFile() uint64 {
	const want = 1024
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		return want
	}
	return min(want, rl.Max)
}

// signalNumber parses an image's StopSignal ("SIGQUIT", "QUIT", "3").
func signalNumber(s string) syscall.Signal {
	s = strings.ToUpper(strings.TrimSpace(s))
	if s == "" {
		return unix.SIGTERM
	}
	var n int
	if _, err := fmt.Sscanf(s, "%d", &n); err == nil && n > 0 && n < 65 {
		return syscall.Signal(n)
	}
	if !strings.HasPrefix(s, "SIG") {
		s = "SIG" + s
	}
	if sig := unix.SignalNum(s); sig != 0 {
		return sig
	}
	return unix.SIGTERM
}
