// Package task is the ACR Tasks domain: quick builds (`az acr build`) and
// quick runs (`az acr run`) of a registry, each a run with an id (ca1,
// ca2, …), a status and a log.
//
// This file holds the contracts between the domain and the adapters that
// do the work on this machine: a Builder (internal/build) turns a build
// context and a Dockerfile into images and pushes them, and runs a quick
// run's command; an Executor (internal/runner) runs one process to
// completion in a root filesystem of stacked layers, isolated, which the
// Builder uses for every RUN instruction. Neither adapter knows about
// ARM, the store or RBAC; app wires them.
package task

import (
	"context"
	"io"
)

// Platform is a build's target platform. Cerulean builds linux/amd64 only.
type Platform struct {
	OS           string // "linux"
	Architecture string // "amd64"
	Variant      string
}

// RegistryAuth returns the credentials to use against a registry host
// (host[:port]) on behalf of the run's caller: for this server's own
// registries, the caller's own rights (the null-GUID user and an ACR
// refresh token minted for the caller); ok is false for hosts the run has
// no credentials for (pulled anonymously).
type RegistryAuth func(ctx context.Context, host string) (username, password string, ok bool, err error)

// BuildArg is one --build-arg.
type BuildArg struct {
	Name   string
	Value  string
	Secret bool // never written to a log or an image's history
}

// BuildRequest is one quick build.
type BuildRequest struct {
	// ContextDir is the extracted build context (a directory the builder
	// only reads).
	ContextDir string
	// Dockerfile is the Dockerfile's path relative to ContextDir.
	Dockerfile string
	Args       []BuildArg
	// Target is the stage to build ("" = the last).
	Target   string
	Platform Platform
	// Images are the references to tag and push, fully qualified
	// ("<login server>/<repository>:<tag>"). With Push false, or none,
	// the build only builds.
	Images []string
	Push   bool
	// NoCache disables the layer cache for this build.
	NoCache bool
	Auth    RegistryAuth
	// Log receives the build's log: one line per event, '\n'-terminated;
	// the domain adds timestamps and line endings.
	Log io.Writer
}

// OutputImage is an image a run pushed (ACR's outputImages entry).
type OutputImage struct {
	Registry   string // login server
	Repository string
	Tag        string
	Digest     string // "sha256:…"
}

// BuildResult is what a build produced.
type BuildResult struct {
	Images []OutputImage
}

// CommandRequest is one quick run: a container from Image running Args
// (`az acr run --cmd "IMAGE ARGS…"`).
type CommandRequest struct {
	Image string // a reference, pulled with Auth
	Args  []string
	Env   []string // "NAME=value"
	// Network gives the container the host's network (ACR's quick runs
	// reach the registry); false: loopback only.
	Network bool
	Auth    RegistryAuth
	Log     io.Writer // the container's stdout and stderr, merged
}

// Builder builds images and runs quick-run commands.
type Builder interface {
	// Build runs a Dockerfile build and pushes its images. A failed build
	// (a bad Dockerfile, a RUN that exits non-zero, an inaccessible base
	// image) is an *errdefs.Error of kind Invalid whose message names the
	// instruction and line; the detail is in the log too.
	Build(ctx context.Context, req BuildRequest) (BuildResult, error)
	// RunCommand runs a quick run's container to completion; a non-zero
	// exit is an error naming the exit code.
	RunCommand(ctx context.Context, req CommandRequest) error
}

// ExecRequest is one process run to completion (a RUN instruction, a
// quick run's command).
type ExecRequest struct {
	// ID names the execution in the runtime (unique per request, [a-z0-9-]).
	ID string
	// Layers are read-only layer directories, bottom first, stacked as
	// overlayfs lower dirs (their whiteouts in overlayfs form). Empty
	// means an empty root (FROM scratch).
	Layers []string
	// Upper is an empty directory that receives every change the process
	// makes to the root filesystem, in overlayfs form (whiteouts as 0/0
	// character devices, opaque directories by the trusted.overlay.opaque
	// xattr): the RUN's layer is made from it.
	Upper      string
	Args       []string
	Env        []string // "NAME=value"; PATH is set by the caller
	WorkingDir string   // created if missing
	// User is "uid", "uid:gid", "name" or "name:group", resolved against
	// the root filesystem's /etc/passwd and /etc/group; "" is root.
	User string
	// Network: false gives a network namespace with loopback only.
	Network bool
	Stdout  io.Writer
	Stderr  io.Writer
}

// Executor runs processes to completion, isolated as container group
// containers are (namespaces, dropped capabilities, seccomp, no new
// privileges, rlimits at or below the host's, cgroup limits), and removes
// every trace of the execution but Upper when it ends.
type Executor interface {
	// Execute runs req and returns the process's exit code. Cancelling
	// ctx kills the process. An error means the process could not be run
	// (or was killed), not that it failed.
	Execute(ctx context.Context, req ExecRequest) (exitCode int, err error)
}
