// Package runner runs container groups on this machine under an OCI
// runtime (runc from Debian by default, crun selectable): the
// containergroup.Runner contract.
//
// # Processes
//
// Start launches one monitor per group, `cerulean shim <group dir>` (the
// same binary in another mode, see ShimMain), in its own session with its
// stdio on /dev/null, so that stopping or restarting the server neither
// kills the containers nor loses their output (podman's conmon, containerd's
// shim). The server hands the monitor its configuration, secrets included,
// through a pipe (never a file), and waits on a second pipe for one line:
// "ok" once the group's network namespace, volumes, root filesystems and
// port forwarders exist and the first containers have been launched, or the
// reason it could not. There is no sleep on that path.
//
// The monitor is a child subreaper: it runs each container with
// `runc run --detach --pid-file`, so that the container's init is
// re-parented to it and it collects the real exit status with wait4. It
// owns the containers' stdout and stderr (pipes it drains into the log
// files itself, so a container never blocks on a stopped server), applies
// the restart policy with back-off, records states and coalesced events in
// status.json, and on SIGTERM stops the containers (the image's stop signal,
// a grace period, then SIGKILL) and releases everything the group held.
//
// # Files
//
//	Dir/groups/<id>/status.json      the monitor's record (temp file + rename)
//	Dir/groups/<id>/shim.pid         the monitor's pid
//	Dir/groups/<id>/logs/<c>.log     CRI-format log lines of the current run (+ .1 after rotation)
//	Dir/groups/<id>/c/<c>/{upper,work,rootfs}  the overlay of each container
//	Dir/groups/<id>/volumes/<v>      emptyDir volumes
//	/run/cerulean/<hash of Dir>/     a tmpfs the runner mounts once: runc's --root, and per group
//	    groups/<id>/bundles/<c>/config.json, hosts files, secret volumes, netns
//
//	/run/cerulean/<hash of Dir>/exec/<id>/  an Execute's bundle: config.json, hosts,
//	    resolv.conf, runtime.log, rootfs/ (its overlay), empty/ (the lower dir of a
//	    FROM scratch root); the overlay's workdir is next to the caller's Upper
//
// Everything that holds a secret (the runtime specs with secure environment
// variables, runc's state, secret volumes) lives on that tmpfs only; it
// vanishes at reboot, which Recover notices.
//
// # Containers
//
// Root filesystems are overlayfs mounts of the image layers (top layer
// first), mounted with fsopen/fsconfig("lowerdir+") so that the number of
// layers is not bounded by the page-sized mount(2) option string (mount(2)
// is the fallback on kernels before 6.8). The runtime spec follows
// containerd's defaults: pid, mount, uts, ipc namespaces of its own, the
// group's network namespace, containerd's 14 default capabilities, its
// masked and read-only paths, no_new_privileges, moby's default seccomp
// profile (github.com/moby/profiles/seccomp), RLIMIT_NOFILE 1024 (never above
// the host's hard limit), cgroup limits under /cerulean/<container id>
// (cpu → CFS quota per 100 ms period, memory → limit with swap forbidden),
// deny-all devices beyond the runtime's defaults.
//
// Each container of a group has a stable 64-hex id (sha256 of group id and
// name): it is runc's container id, the cgroup's name and the id in ACI's
// "Killing container with id <id>." event, whose count grows with every
// restart as in ACI's output.
//
// # Network
//
// The monitor creates the group's network namespace on a locked OS thread
// (unshare, bind mount, lo up with one ioctl) and keeps that thread parked in
// it to dial into the group: every port of the RunSpec is served on the
// group's 127.x.y.z address in the host namespace and relayed to
// 127.0.0.1:port inside (TCP per connection, UDP per client address).
// Containers of a group share the namespace (and so localhost); each has its
// own UTS (hostname = group name), IPC and PID namespaces.
//
// # Restarts and states
//
// Always restarts every exit, OnFailure non-zero exits, Never none; init
// containers run in order, each to a zero exit (retried with back-off unless
// Never), before the containers start together. Between restarts the
// container is Waiting/CrashLoopBackOff and a BackOff event is recorded; the
// delay doubles from Config.BackoffBase to Config.BackoffMax and resets after
// ten minutes of running (Kubernetes' rule). A container killed by the
// memory cgroup reports exit code 137 and detailStatus "OOMKilled".
//
// # Executions
//
// Execute (task.Executor: a build's RUN, a quick run's command) runs one
// process to completion with `runc run` in the foreground, no monitor: the
// server waits. The spec is a group container's (buildSpec) with the
// request's environment as given, a new network namespace with lo only or
// the host's, read-only /etc/hosts and /etc/resolv.conf (minimal ones, or
// copies of the host's with the network), no /etc/hostname, and a pids limit
// besides CPU and memory (Config.Exec). The root is an overlay of the
// layers with redirect_dir, index and metacopy off, so that Upper holds the
// changes in plain overlayfs form (0/0 character-device whiteouts, which
// the kernel may hard-link to one another, and trusted.overlay.opaque).
// Afterwards the mount points the runtime had to create (proc, dev, sys,
// run, etc/hosts, etc/resolv.conf) are removed from Upper as BuildKit does,
// their parents' times restored, and the kernel's bookkeeping xattrs
// (trusted.overlay.origin, impure, uuid) stripped.
//
// The container must die with the server, which is not its parent (the
// runtime is) and may be killed without a chance to clean up: Execute
// starts `<shim path> shim --exec-runtime` as the init of a new PID and
// mount namespace with a parent-death signal, which mounts that namespace's
// /proc and execs runc. When the server dies (or ctx ends and Execute kills
// runc) the kernel kills the whole namespace, the container's nested one
// included. What remains (runc state, cgroup, mount, bundle, workdir) is
// released by Execute, or by Recover after a crash.
//
// # Recovery
//
// Recover re-adopts groups whose monitor is alive (pid plus /proc cmdline
// check); for a group whose monitor died it kills what still runs, records
// every running container as Terminated with exit code 137 (the monitor that
// would have collected the real code is gone; the containers were killed
// with it or by Recover), and releases mounts, runc state, cgroups and the
// network namespace.
package runner
