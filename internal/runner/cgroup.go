package runner

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// cgroupRoot is where the runtime puts a container's cgroup
// (cgroupsPath "/cerulean/<id>"): on the unified hierarchy (v2) or the
// memory controller's hierarchy (v1 and this hybrid layout, where the
// runtime uses the v1 controllers).
func unifiedCgroups() bool {
	var st unix.Statfs_t
	return unix.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC
}

// oomKilled reports whether the kernel's OOM killer killed a process of
// the container's memory cgroup (read before the runtime deletes it).
func oomKilled(id string) bool {
	if unifiedCgroups() {
		return counter(filepath.Join("/sys/fs/cgroup/cerulean", id, "memory.events"), "oom_kill") > 0
	}
	return counter(filepath.Join("/sys/fs/cgroup/memory/cerulean", id, "memory.oom_control"), "oom_kill") > 0
}

// counter reads "<key> <n>" from a cgroup file.
func counter(path, key string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := bytes.Cut(sc.Bytes(), []byte{' '})
		if ok && string(k) == key {
			n, _ := strconv.ParseInt(string(v), 10, 64)
			return n
		}
	}
	return 0
}

// removeCgroups removes the container's cgroup directories the runtime
// left (a runtime killed before `delete`). Empty cgroups only: rmdir
// refuses one with processes.
func removeCgroups(id string) {
	if unifiedCgroups() {
		_ = unix.Rmdir(filepath.Join("/sys/fs/cgroup/cerulean", id))
		return
	}
	entries, err := os.ReadDir("/sys/fs/cgroup")
	if err != nil {
		return
	}
	for _, e := range entries {
		_ = unix.Rmdir(filepath.Join("/sys/fs/cgroup", e.Name(), "cerulean", id))
	}
}

// hybridV2Controllers returns the controllers enabled on the cgroup v2
// hierarchy of a hybrid layout (v1 controllers plus /sys/fs/cgroup/unified).
// crun refuses to run on such a host ("cgroups in hybrid mode not
// supported, drop all controllers from cgroupv2"); runc uses the v1
// controllers and runs.
func hybridV2Controllers() string {
	if unifiedCgroups() {
		return ""
	}
	b, err := os.ReadFile("/sys/fs/cgroup/unified/cgroup.controllers")
	if err != nil {
		return ""
	}
	return string(bytes.TrimSpace(b))
}
