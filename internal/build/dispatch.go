package build

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"

	"github.com/cerulean/cerulean/internal/containergroup"
	"github.com/cerulean/cerulean/internal/task"
)

// buildState is one Build.
type buildState struct {
	b     *Builder
	req   task.BuildRequest
	log   *buildLog
	ctx   *os.Root // the build context
	shlex *shell.Lex

	// epoch clamps every layer mtime: SOURCE_DATE_EPOCH when the build
	// arg is set (Docker's rule), otherwise 0, so that the same context
	// and Dockerfile always give the same layer digests.
	epoch           time.Time
	created         time.Time // the config's and history's created
	sourceDateEpoch bool

	expanded int64 // bytes the expansions produced (maxExpanded)

	buildArgs  map[string]string
	secretArgs map[string]bool
	globalArgs []string // meta ARGs and the platform args, "K=V"

	stages []*stage
	step   int
	steps  int

	releases []func()
}

// stage is one FROM's state as BuildKit's dispatcher keeps it.
type stage struct {
	name   string
	index  int
	def    instructions.Stage
	layers []layerRef
	cfg    v1.ConfigFile
	docker bool     // the base's manifest family
	env    []string // the state's env: config Env plus ARGs in scope
	args   []instructions.KeyValuePairOptional
	built  bool
	// last is the time of the stage's newest layer: its history entries'
	// and its config's created (the epoch with SOURCE_DATE_EPOCH).
	last time.Time
}

// layerRef is one layer of a stage: its lower dir and its pushable layer.
type layerRef struct {
	dir    string
	diffID string
	layer  v1.Layer
}

func (bs *buildState) release() {
	for _, r := range bs.releases {
		r()
	}
}

// lineOf returns the first line of a parse error's location, 0 if none.
func lineOf(err error) int {
	if le, ok := errors.AsType[*parser.LocationError](err); ok {
		for _, rs := range le.Locations {
			for _, r := range rs {
				return r.Start.Line
			}
		}
	}
	return 0
}

func lineOfCmd(c instructions.Command) int {
	if loc := c.Location(); len(loc) > 0 {
		return loc[0].Start.Line
	}
	return 0
}

// cause strips pkg/errors' wrapping noise from a parser message.
func cause(err error) string {
	if le, ok := errors.AsType[*parser.LocationError](err); ok {
		return le.Unwrap().Error()
	}
	return err.Error()
}

func (bs *buildState) getEnv(env []string) shell.EnvGetter { return shell.EnvsFromSlice(env) }

// maxExpanded bounds the bytes all of a build's variable expansions
// produce: ENV A=$A$A doubles A on each line, and a few dozen lines would
// exhaust the server's memory.
const maxExpanded = 16 << 20

func (bs *buildState) expand(word string, env []string) (string, error) {
	s, _, err := bs.shlex.ProcessWord(word, bs.getEnv(env))
	if err != nil {
		return "", err
	}
	return s, bs.spend(len(s))
}

func (bs *buildState) spend(n int) error {
	if bs.expanded += int64(n); bs.expanded > maxExpanded {
		return userErr("the Dockerfile's variable expansions exceed %d bytes", maxExpanded)
	}
	return nil
}

// run parses and builds the Dockerfile up to the target stage.
func (bs *buildState) run(ctx context.Context, dockerfile []byte) (*stage, error) {
	res, err := parser.Parse(bytes.NewReader(dockerfile))
	if err != nil {
		return nil, buildError("Dockerfile parse error on line %d: %s", lineOf(err), cause(err))
	}
	if err := refuseUnsupported(res.AST); err != nil {
		return nil, err
	}
	defs, metaArgs, err := instructions.Parse(res.AST, nil)
	if err != nil {
		return nil, buildError("Dockerfile parse error on line %d: %s", lineOf(err), cause(err))
	}
	if len(defs) == 0 {
		return nil, buildError("the Dockerfile has no FROM instruction")
	}
	bs.shlex = shell.NewLex(res.EscapeToken)

	bs.buildArgs, bs.secretArgs = map[string]string{}, map[string]bool{}
	for _, a := range bs.req.Args {
		bs.buildArgs[a.Name] = a.Value
		if a.Secret {
			bs.secretArgs[a.Name] = true
		}
	}
	target := bs.req.Target
	if target == "" {
		target = "default"
	}
	bs.globalArgs = []string{
		"BUILDPLATFORM=linux/amd64", "BUILDOS=linux", "BUILDOSVERSION=", "BUILDARCH=amd64", "BUILDVARIANT=",
		"TARGETPLATFORM=linux/amd64", "TARGETOS=linux", "TARGETOSVERSION=", "TARGETARCH=amd64", "TARGETVARIANT=",
		"TARGETSTAGE=" + target,
	}
	for _, kv := range bs.globalArgs {
		k, _, _ := strings.Cut(kv, "=")
		if v, ok := bs.buildArgs[k]; ok {
			bs.globalArgs = setEnv(bs.globalArgs, k, v)
		}
	}
	for _, cmd := range metaArgs {
		for _, kp := range cmd.Args {
			if v, ok := bs.buildArgs[kp.Key]; ok {
				bs.globalArgs = setEnv(bs.globalArgs, kp.Key, v)
				continue
			}
			if kp.Value != nil {
				v, err := bs.expand(*kp.Value, bs.globalArgs)
				if err != nil {
					return nil, buildError("ARG at line %d: %s", lineOfCmd(&cmd), err)
				}
				bs.globalArgs = setEnv(bs.globalArgs, kp.Key, v)
			}
		}
	}

	for i, d := range defs {
		st := &stage{name: d.Name, index: i, def: d}
		base, err := bs.expand(d.BaseName, bs.globalArgs)
		if err != nil {
			return nil, buildError("FROM at line %d: %s", lineOfStage(d), err)
		}
		if base == "" {
			return nil, buildError("FROM at line %d: the base name (%s) is empty", lineOfStage(d), d.BaseName)
		}
		st.def.BaseName = base
		if d.Platform != "" {
			p, err := bs.expand(d.Platform, bs.globalArgs)
			if err != nil || (p != "linux/amd64" && p != "linux/x86_64") {
				return nil, buildError("FROM at line %d: --platform=%s is not supported: Cerulean builds linux/amd64 only", lineOfStage(d), d.Platform)
			}
		}
		bs.stages = append(bs.stages, st)
	}
	last := len(bs.stages) - 1
	if bs.req.Target != "" {
		i, ok := instructions.HasStage(defs, strings.ToLower(bs.req.Target))
		if !ok {
			return nil, buildError("target stage %q could not be found", bs.req.Target)
		}
		last = i
	}
	needed := bs.needed(last)
	for _, st := range bs.stages[:last+1] {
		if needed[st.index] {
			bs.steps += 1 + len(st.def.Commands)
		}
	}
	for _, st := range bs.stages[:last+1] {
		if !needed[st.index] {
			continue
		}
		if err := bs.buildStage(ctx, st); err != nil {
			return nil, err
		}
	}
	return bs.stages[last], nil
}

func lineOfStage(d instructions.Stage) int {
	if len(d.Location) > 0 {
		return d.Location[0].Start.Line
	}
	return 0
}

// refuseUnsupported names the first instruction Cerulean does not build
// (ONBUILD; unknown ones are refused by the parser's own check).
func refuseUnsupported(ast *parser.Node) error {
	for _, n := range ast.Children {
		switch strings.ToLower(n.Value) {
		case "onbuild":
			return buildError("Dockerfile line %d: the instruction ONBUILD is not supported", n.StartLine)
		}
		if len(n.Heredocs) > 0 {
			return buildError("Dockerfile line %d: heredocs (<<%s) are not supported", n.StartLine, n.Heredocs[0].Name)
		}
	}
	return nil
}

// stageRef finds a stage by name (case-insensitively) or index among
// those before before.
func (bs *buildState) stageRef(ref string, before int) (*stage, bool) {
	for _, st := range bs.stages[:before] {
		if st.name != "" && strings.EqualFold(st.name, ref) {
			return st, true
		}
	}
	if n, err := strconv.Atoi(ref); err == nil && n >= 0 && n < before {
		return bs.stages[n], true
	}
	return nil, false
}

// needed returns the stages the target depends on (FROM and COPY --from).
func (bs *buildState) needed(target int) map[int]bool {
	need := map[int]bool{}
	var visit func(i int)
	visit = func(i int) {
		if need[i] {
			return
		}
		need[i] = true
		st := bs.stages[i]
		if dep, ok := bs.stageRef(st.def.BaseName, i); ok {
			visit(dep.index)
		}
		for _, c := range st.def.Commands {
			if cp, ok := c.(*instructions.CopyCommand); ok && cp.From != "" {
				from, err := bs.expand(cp.From, bs.globalArgs)
				if err != nil {
					continue
				}
				if dep, ok := bs.stageRef(from, i); ok {
					visit(dep.index)
				}
			}
		}
	}
	visit(target)
	return need
}

func (bs *buildState) stepf(cmd string) {
	bs.step++
	bs.log.printf("Step %d/%d : %s", bs.step, bs.steps, cmd)
}

// stepError is a failed instruction: "step 3/7 (RUN at line 5): …".
func (bs *buildState) stepError(kind string, line int, format string, args ...any) error {
	return buildError("step %d/%d (%s at line %d): %s", bs.step, bs.steps, strings.ToUpper(kind), line, fmt.Sprintf(format, args...))
}

func (bs *buildState) buildStage(ctx context.Context, st *stage) error {
	bs.stepf(st.def.SourceCode)
	line := lineOfStage(st.def)
	if err := bs.from(ctx, st); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if e, ok := errors.AsType[*stepErr](err); ok {
			return bs.stepError("FROM", line, "%s", bs.log.scrub(e.msg))
		}
		return bs.stepError("FROM", line, "%s", bs.log.scrub(imageMessage2(err)))
	}
	for _, c := range st.def.Commands {
		if err := ctx.Err(); err != nil {
			return err
		}
		bs.stepf(commandText(c))
		if err := bs.dispatch(ctx, st, c); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if e, ok := errors.AsType[*stepErr](err); ok {
				return bs.stepError(c.Name(), lineOfCmd(c), "%s", bs.log.scrub(e.msg))
			}
			return bs.stepError(c.Name(), lineOfCmd(c), "%s", bs.log.scrub(err.Error()))
		}
	}
	st.built = true
	return nil
}

func imageMessage2(err error) string { return imageMessage(err) + detail(err) }

// detail adds the text of errors that are not image errors.
func detail(err error) string {
	if m := imageMessage(err); m == "the image could not be pulled" {
		return ": " + err.Error()
	}
	return ""
}

// stepErr carries a message already meant for the user.
type stepErr struct{ msg string }

func (e *stepErr) Error() string { return e.msg }

func userErr(format string, args ...any) error { return &stepErr{fmt.Sprintf(format, args...)} }

func commandText(c instructions.Command) string {
	if s, ok := c.(fmt.Stringer); ok {
		return s.String()
	}
	return c.Name()
}

// from initialises a stage from scratch, a previous stage or an image.
func (bs *buildState) from(ctx context.Context, st *stage) error {
	base := st.def.BaseName
	switch {
	case strings.EqualFold(base, "scratch"):
		st.cfg = v1.ConfigFile{Architecture: "amd64", OS: "linux", Config: v1.Config{
			Env: []string{"PATH=" + defaultPath}, WorkingDir: "/",
		}}
	default:
		if prev, ok := bs.stageRef(base, st.index); ok {
			if !prev.built {
				return userErr("stage %q is not built", base)
			}
			st.cfg = *prev.cfg.DeepCopy()
			st.layers = slices.Clone(prev.layers)
			st.docker = prev.docker
			st.env = slices.Clone(prev.env)
			st.args = slices.Clone(prev.args)
			st.last = prev.last
			bs.log.line(" ---> Using stage " + strconv.Quote(prev.nameOr()))
			return nil
		}
		layers, cfg, docker, err := bs.pullImage(ctx, base)
		if err != nil {
			return err
		}
		st.layers, st.cfg, st.docker = layers, *cfg, docker
		st.cfg.Architecture, st.cfg.OS = "amd64", "linux"
		st.last = cfg.Created.UTC()
	}
	if bs.sourceDateEpoch || st.last.IsZero() {
		st.last = bs.epoch
	}
	st.cfg.Config.Env = withPath(st.cfg.Config.Env)
	st.env = slices.Clone(st.cfg.Config.Env)
	st.cfg.History = slices.Clone(st.cfg.History)
	st.cfg.Container = ""
	return nil
}

func (st *stage) nameOr() string {
	if st.name != "" {
		return st.name
	}
	return strconv.Itoa(st.index)
}

// pullImage pulls a base image (FROM, COPY --from) into the image cache
// and fetches its manifest and config for the output.
func (bs *buildState) pullImage(ctx context.Context, ref string) ([]layerRef, *v1.ConfigFile, bool, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, nil, false, userErr("%q is not a valid image reference", ref)
	}
	cred, err := credentials(ctx, bs.req.Auth, r.Context().RegistryStr())
	if err != nil {
		return nil, nil, false, err
	}
	ri, err := bs.b.images.Resolve(ctx, ref, cred)
	if err != nil {
		return nil, nil, false, err
	}
	bs.releases = append(bs.releases, bs.b.images.Hold(ri.Digest))
	pulled, err := bs.b.images.Pull(ctx, ri, cred)
	if err != nil {
		return nil, nil, false, err
	}
	img, err := bs.b.remoteImage(ctx, ri.DigestRef, cred)
	if err != nil {
		return nil, nil, false, userErr("fetching the manifest of %s: %s", ref, scrubPassword(err, cred))
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, nil, false, userErr("fetching the config of %s: %s", ref, scrubPassword(err, cred))
	}
	ls, err := img.Layers()
	if err != nil {
		return nil, nil, false, userErr("reading the layers of %s: %s", ref, err)
	}
	if len(ls) != len(pulled.Layers) || len(ls) != len(cfg.RootFS.DiffIDs) {
		return nil, nil, false, userErr("the image %s changed while it was pulled", ref)
	}
	if err := bs.b.verifyLayers(ctx, r.Context(), ls, cfg.RootFS.DiffIDs); err != nil {
		return nil, nil, false, err
	}
	mt, _ := img.MediaType()
	var layers []layerRef
	for i, l := range ls {
		layers = append(layers, layerRef{dir: pulled.Layers[i], diffID: cfg.RootFS.DiffIDs[i].String(), layer: l})
	}
	bs.log.printf(" ---> %s", strings.TrimPrefix(ri.Digest, "sha256:")[:12])
	return layers, cfg.DeepCopy(), mt == types.DockerManifestSchema2, nil
}

func scrubPassword(err error, cred *containergroup.Credential) string {
	msg := err.Error()
	if cred != nil && cred.Password != "" {
		msg = strings.ReplaceAll(msg, cred.Password, "***")
	}
	return msg
}

// chain identifies a stage's filesystem: its layers' diffIDs in order.
func (st *stage) chain() string {
	h := sha256.New()
	for _, l := range st.layers {
		_, _ = io.WriteString(h, l.diffID+"\n")
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (st *stage) dirs() []string {
	out := make([]string, len(st.layers))
	for i, l := range st.layers {
		out[i] = l.dir
	}
	return out
}

func (bs *buildState) history(st *stage, createdBy string, emptyLayer bool) {
	// Secret values expanded into ENV, LABEL, WORKDIR… never reach the
	// history (what the config holds is the Dockerfile's explicit choice).
	createdBy = bs.log.scrub(createdBy)
	st.cfg.History = append(st.cfg.History, v1.History{
		Created: v1.Time{Time: st.last}, CreatedBy: createdBy, Comment: "cerulean", EmptyLayer: emptyLayer,
	})
}

// maskArg hides a secret build arg's value in history and logs.
func (bs *buildState) maskArg(k, v string) string {
	if bs.secretArgs[k] {
		return k + "=***"
	}
	return k + "=" + v
}

func (bs *buildState) dispatch(ctx context.Context, st *stage, c instructions.Command) error {
	_, isArg := c.(*instructions.ArgCommand)
	if ex, ok := c.(instructions.SupportsSingleWordExpansion); ok && !isArg {
		if err := ex.Expand(func(word string) (string, error) { return bs.expand(word, st.env) }); err != nil {
			return err
		}
	}
	switch c := c.(type) {
	case *instructions.EnvCommand:
		var msg []string
		for _, kv := range c.Env {
			st.env = setEnv(st.env, kv.Key, kv.Value)
			st.cfg.Config.Env = setEnv(st.cfg.Config.Env, kv.Key, kv.Value)
			msg = append(msg, kv.Key+"="+kv.Value)
		}
		bs.history(st, "ENV "+strings.Join(msg, " "), true)
	case *instructions.ArgCommand:
		var msg []string
		for _, arg := range c.Args {
			v, hasValue := bs.buildArgs[arg.Key]
			switch {
			case hasValue:
				arg.Value = &v
			case arg.Value != nil:
				ev, err := bs.expand(*arg.Value, st.env)
				if err != nil {
					return err
				}
				arg.Value = &ev
			default:
				if gv, ok := shell.EnvsFromSlice(bs.globalArgs).Get(arg.Key); ok {
					arg.Value = &gv
				}
			}
			if arg.Value != nil {
				st.env = setEnv(st.env, arg.Key, *arg.Value)
				msg = append(msg, bs.maskArg(arg.Key, *arg.Value))
			} else {
				msg = append(msg, arg.Key)
			}
			st.args = append(st.args, arg)
		}
		bs.history(st, "ARG "+strings.Join(msg, " "), true)
	case *instructions.LabelCommand:
		if st.cfg.Config.Labels == nil {
			st.cfg.Config.Labels = map[string]string{}
		}
		msg := "LABEL"
		for _, kv := range c.Labels {
			st.cfg.Config.Labels[kv.Key] = kv.Value
			msg += " " + kv.Key + "=" + kv.Value
		}
		bs.history(st, msg, true)
	case *instructions.MaintainerCommand:
		// Deprecated, yet Docker and BuildKit still accept it: it sets
		// the image's author.
		st.cfg.Author = c.Maintainer
		bs.history(st, "MAINTAINER "+c.Maintainer, true)
	case *instructions.ExposeCommand:
		var ports []string
		for _, p := range c.Ports {
			words, err := bs.shlex.ProcessWords(p, bs.getEnv(st.env))
			if err != nil {
				return err
			}
			for _, w := range words {
				if err := bs.spend(len(w)); err != nil {
					return err
				}
			}
			for _, w := range words {
				ps, err := exposedPorts(w)
				if err != nil {
					return userErr("%s", err)
				}
				// A range is an expansion too (EXPOSE 1-65535 on every line).
				if err := bs.spend(8 * len(ps)); err != nil {
					return err
				}
				ports = append(ports, ps...)
			}
		}
		if st.cfg.Config.ExposedPorts == nil {
			st.cfg.Config.ExposedPorts = map[string]struct{}{}
		}
		for _, p := range ports {
			st.cfg.Config.ExposedPorts[p] = struct{}{}
		}
		bs.history(st, fmt.Sprintf("EXPOSE %v", ports), true)
	case *instructions.VolumeCommand:
		if st.cfg.Config.Volumes == nil {
			st.cfg.Config.Volumes = map[string]struct{}{}
		}
		for _, v := range c.Volumes {
			if v == "" {
				return userErr("VOLUME specified can not be an empty string")
			}
			st.cfg.Config.Volumes[v] = struct{}{}
		}
		bs.history(st, fmt.Sprintf("VOLUME %v", c.Volumes), true)
	case *instructions.StopSignalCommand:
		if !validSignal(c.Signal) {
			return userErr("invalid signal: %s", c.Signal)
		}
		st.cfg.Config.StopSignal = c.Signal
		bs.history(st, "STOPSIGNAL "+c.Signal, true)
	case *instructions.UserCommand:
		st.cfg.Config.User = c.User
		bs.history(st, "USER "+c.User, true)
	case *instructions.ShellCommand:
		st.cfg.Config.Shell = slices.Clone(c.Shell)
		bs.history(st, fmt.Sprintf("SHELL %v", c.Shell), true)
	case *instructions.CmdCommand:
		args := bs.withShell(st, c.CmdLine, c.PrependShell)
		st.cfg.Config.Cmd = args
		st.cfg.Config.ArgsEscaped = true
		bs.history(st, fmt.Sprintf("CMD %q", args), true)
	case *instructions.EntrypointCommand:
		args := bs.withShell(st, c.CmdLine, c.PrependShell)
		st.cfg.Config.Entrypoint = args
		if !stageSetsCmdBefore(st, c) {
			st.cfg.Config.Cmd = nil
		}
		bs.history(st, fmt.Sprintf("ENTRYPOINT %q", args), true)
	case *instructions.HealthCheckCommand:
		h := c.Health
		st.cfg.Config.Healthcheck = &v1.HealthConfig{
			Test: h.Test, Interval: h.Interval, Timeout: h.Timeout, StartPeriod: h.StartPeriod, Retries: h.Retries,
		}
		bs.history(st, fmt.Sprintf("HEALTHCHECK %+v", *st.cfg.Config.Healthcheck), true)
	case *instructions.WorkdirCommand:
		return bs.workdir(ctx, st, c)
	case *instructions.RunCommand:
		return bs.runInstruction(ctx, st, c)
	case *instructions.CopyCommand:
		if c.Link || c.Parents || len(c.ExcludePatterns) > 0 {
			return userErr("COPY --link, --parents and --exclude are not supported")
		}
		return bs.copy(ctx, st, copySpec{
			add: false, text: commandText(c), from: c.From, chown: c.Chown, chmod: c.Chmod,
			srcs: c.SourcePaths, dest: c.DestPath, heredocs: len(c.SourceContents) > 0,
		})
	case *instructions.AddCommand:
		if c.Link || len(c.ExcludePatterns) > 0 || c.Checksum != "" || c.KeepGitDir != nil {
			return userErr("ADD --link, --exclude, --checksum and --keep-git-dir are not supported")
		}
		unpack := c.Unpack == nil || *c.Unpack
		return bs.copy(ctx, st, copySpec{
			add: true, unpack: unpack, text: commandText(c), chown: c.Chown, chmod: c.Chmod,
			srcs: c.SourcePaths, dest: c.DestPath, heredocs: len(c.SourceContents) > 0,
		})
	default:
		return userErr("the instruction %s is not supported", strings.ToUpper(c.Name()))
	}
	return nil
}

// stageSetsCmdBefore reports a CMD earlier in the stage than c: BuildKit
// keeps it when ENTRYPOINT follows, and clears an inherited one.
func stageSetsCmdBefore(st *stage, c instructions.Command) bool {
	for _, x := range st.def.Commands {
		if x == c {
			return false
		}
		if _, ok := x.(*instructions.CmdCommand); ok {
			return true
		}
	}
	return false
}

func (bs *buildState) withShell(st *stage, args []string, prepend bool) []string {
	if !prepend {
		return slices.Clone(args)
	}
	sh := slices.Clone(st.cfg.Config.Shell)
	if len(sh) == 0 {
		sh = []string{"/bin/sh", "-c"}
	}
	return append(sh, strings.Join(args, " "))
}

// exposedPorts normalises "80", "80/udp", "8000-8002/tcp" to "port/proto".
func exposedPorts(spec string) ([]string, error) {
	port, proto, _ := strings.Cut(spec, "/")
	if proto == "" {
		proto = "tcp"
	}
	proto = strings.ToLower(proto)
	if proto != "tcp" && proto != "udp" && proto != "sctp" {
		return nil, fmt.Errorf("invalid proto: %s", proto)
	}
	start, end, isRange := strings.Cut(port, "-")
	lo, err1 := strconv.Atoi(start)
	hi := lo
	var err2 error
	if isRange {
		hi, err2 = strconv.Atoi(end)
	}
	if err1 != nil || err2 != nil || lo < 0 || hi > 65535 || hi < lo {
		return nil, fmt.Errorf("invalid containerPort: %s", port)
	}
	var out []string
	for p := lo; p <= hi; p++ {
		out = append(out, strconv.Itoa(p)+"/"+proto)
	}
	return out, nil
}

var signals = map[string]bool{
	"ABRT": true, "ALRM": true, "BUS": true, "CHLD": true, "CONT": true, "FPE": true, "HUP": true, "ILL": true,
	"INT": true, "IO": true, "IOT": true, "KILL": true, "PIPE": true, "POLL": true, "PROF": true, "PWR": true,
	"QUIT": true, "SEGV": true, "STKFLT": true, "STOP": true, "SYS": true, "TERM": true, "TRAP": true, "TSTP": true,
	"TTIN": true, "TTOU": true, "URG": true, "USR1": true, "USR2": true, "VTALRM": true, "WINCH": true, "XCPU": true, "XFSZ": true,
}

func validSignal(s string) bool {
	if n, err := strconv.Atoi(s); err == nil {
		return n > 0 && n <= 64
	}
	u := strings.TrimPrefix(strings.ToUpper(s), "SIG")
	if signals[u] {
		return true
	}
	if r, ok := strings.CutPrefix(u, "RTMIN+"); ok {
		n, err := strconv.Atoi(r)
		return err == nil && n >= 0 && n <= 30
	}
	return u == "RTMIN" || u == "RTMAX"
}

// useLayer adds a cached or new layer to the stage.
func (bs *buildState) useLayer(st *stage, rec cacheRecord) {
	bs.releases = append(bs.releases, func() { bs.b.cache.unpin(rec) })
	if !bs.sourceDateEpoch && rec.Created.After(st.last) {
		st.last = rec.Created
	}
	st.layers = append(st.layers, layerRef{
		dir: bs.b.cache.layerDir(rec.DiffID), diffID: rec.DiffID,
		layer: blobLayer{path: bs.b.cache.blobPath(rec.Digest), rec: rec},
	})
	bs.log.printf(" ---> %s", strings.TrimPrefix(rec.DiffID, "sha256:")[:12])
}

// cached looks key up unless the build bypasses the cache.
func (bs *buildState) cached(st *stage, key string) bool {
	if bs.req.NoCache {
		return false
	}
	rec, ok := bs.b.cache.lookup(key)
	if !ok {
		return false
	}
	bs.log.line(" ---> Using cache")
	bs.useLayer(st, rec)
	return true
}

func (bs *buildState) epochKey() string {
	return strconv.FormatInt(bs.epoch.Unix(), 10)
}

// runCommandString is BuildKit's history text for RUN: the build args in
// scope ("|2 A=1 B=2"), then the command; secret values masked.
func (bs *buildState) runCommandString(st *stage, args []string) string {
	var kv []string
	idx := map[string]int{}
	env := shell.EnvsFromSlice(st.env)
	for _, a := range st.args {
		v, ok := env.Get(a.Key)
		if !ok {
			v = a.ValueString()
		}
		s := bs.maskArg(a.Key, v)
		if i, ok := idx[a.Key]; ok {
			kv[i] = s
		} else {
			idx[a.Key] = len(kv)
			kv = append(kv, s)
		}
	}
	if len(kv) > 0 {
		kv = append([]string{fmt.Sprintf("|%d", len(kv))}, kv...)
	}
	return strings.Join(append(kv, args...), " ")
}

func (bs *buildState) runInstruction(ctx context.Context, st *stage, c *instructions.RunCommand) error {
	network := false
	for _, f := range c.FlagsUsed {
		switch f {
		case "network":
			switch instructions.GetNetwork(c) {
			case instructions.NetworkHost:
				network = true
			case instructions.NetworkNone, instructions.NetworkDefault:
			}
		default:
			return userErr("RUN --%s is not supported", f)
		}
	}
	if len(c.Files) > 0 {
		return userErr("heredocs are not supported")
	}
	args := bs.withShell(st, c.CmdLine, c.PrependShell)
	env := withPath(slices.Clone(st.env))
	workdir := st.cfg.Config.WorkingDir
	if workdir == "" {
		workdir = "/"
	}
	key := cacheKey("run", st.chain(), bs.epochKey(), strings.Join(args, "\x00"), strings.Join(env, "\x00"),
		workdir, st.cfg.Config.User, strconv.FormatBool(network))
	created := "RUN " + bs.runCommandString(st, args)
	if bs.cached(st, key) {
		bs.history(st, created, false)
		return nil
	}
	upper, err := bs.b.cache.newDir("upper-")
	if err != nil {
		return err
	}
	id := "build-" + newID()
	bs.log.printf(" ---> Running in %s", id)
	out := bs.log.stream()
	code, err := bs.b.exec.Execute(ctx, task.ExecRequest{
		ID: id, Layers: st.dirs(), Upper: upper, Args: args, Env: env, WorkingDir: workdir,
		User: st.cfg.Config.User, Network: network, Stdout: out, Stderr: out,
	})
	out.flush()
	if err != nil {
		_ = os.RemoveAll(upper)
		return err
	}
	if code != 0 {
		_ = os.RemoveAll(upper)
		return userErr("process %q did not complete successfully: exit code: %d", strings.Join(args, " "), code)
	}
	rec, err := bs.b.cache.commit(upper, key, bs.epoch, bs.created)
	if err != nil {
		_ = os.RemoveAll(upper)
		return err
	}
	bs.useLayer(st, rec)
	bs.history(st, created, false)
	return nil
}

func (bs *buildState) workdir(ctx context.Context, st *stage, c *instructions.WorkdirCommand) error {
	wd := c.Path
	if !path.IsAbs(wd) {
		cur := st.cfg.Config.WorkingDir
		if cur == "" {
			cur = "/"
		}
		wd = path.Join(cur, wd)
	}
	wd = path.Clean(wd)
	st.cfg.Config.WorkingDir = wd
	created := "WORKDIR " + wd
	if wd == "/" {
		bs.history(st, created, true)
		return nil
	}
	v := &view{layers: st.dirs()}
	if r, err := v.resolve(wd, true); err == nil {
		if e, err := v.lstat(r); err == nil && e.info.IsDir() {
			// Nothing to create: no layer.
			bs.history(st, created, true)
			return nil
		}
	}
	key := cacheKey("workdir", st.chain(), bs.epochKey(), wd, st.cfg.Config.User)
	if bs.cached(st, key) {
		bs.history(st, created, false)
		return nil
	}
	uid, gid := 0, 0
	if u := st.cfg.Config.User; u != "" {
		var err error
		if uid, gid, err = resolveOwner(v, u); err != nil {
			return userErr("%s", err)
		}
	}
	dir, err := bs.b.cache.newDir("layer-")
	if err != nil {
		return err
	}
	w, err := newLayerWriter(dir, st.dirs())
	if err == nil {
		err = w.apply(copyOp{dst: cleanRel(wd), typ: 'd', mode: 0o755, uid: uid, gid: gid}, nil, false)
		w.close()
	}
	if err != nil {
		_ = os.RemoveAll(dir)
		return err
	}
	rec, err := bs.b.cache.commit(dir, key, bs.epoch, bs.created)
	if err != nil {
		_ = os.RemoveAll(dir)
		return err
	}
	bs.useLayer(st, rec)
	bs.history(st, created, false)
	return nil
}

// copySpec is a COPY or ADD after expansion.
type copySpec struct {
	add, unpack  bool
	text         string
	from         string
	chown, chmod string
	srcs         []string
	dest         string
	heredocs     bool
}

// copySource is one matched source path and how it is copied.
type copySource struct {
	tree    tree
	rel     string
	dst     string // where a file lands, or the directory a dir's contents or an archive go into
	archive bool
}

func isURL(s string) bool {
	l := strings.ToLower(s)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "git@") ||
		strings.HasPrefix(l, "git://")
}

func (bs *buildState) copy(ctx context.Context, st *stage, cs copySpec) error {
	kind := "COPY"
	if cs.add {
		kind = "ADD"
	}
	if cs.heredocs {
		return userErr("%s with heredocs is not supported", kind)
	}
	for _, s := range cs.srcs {
		if isURL(s) {
			if cs.add {
				return userErr("ADD of a URL (%s) is not supported: download it in a RUN, or add the file to the build context", s)
			}
			return userErr("source can't be a URL for COPY")
		}
	}
	var chmod fs.FileMode
	hasChmod := cs.chmod != ""
	if hasChmod {
		n, err := strconv.ParseUint(cs.chmod, 8, 32)
		if err != nil || n > 0o7777 {
			return userErr("invalid chmod parameter: '%v'. it should be octal string and between 0 and 07777", cs.chmod)
		}
		chmod = fs.FileMode(n & 0o777)
		if n&0o4000 != 0 {
			chmod |= fs.ModeSetuid
		}
		if n&0o2000 != 0 {
			chmod |= fs.ModeSetgid
		}
		if n&0o1000 != 0 {
			chmod |= fs.ModeSticky
		}
	}
	lower := &view{layers: st.dirs()}
	uid, gid, hasChown := 0, 0, cs.chown != ""
	if hasChown {
		var err error
		if uid, gid, err = resolveOwner(lower, cs.chown); err != nil {
			return userErr("%s", err)
		}
	}

	var src tree = contextTree{bs.ctx}
	fromWhat := "build context"
	if cs.from != "" {
		if prev, ok := bs.stageRef(cs.from, st.index); ok {
			if !prev.built {
				return userErr("cannot copy from stage %q, it needs to be defined before current stage", cs.from)
			}
			src, fromWhat = viewTree{&view{layers: prev.dirs()}}, "stage "+prev.nameOr()
		} else if _, ok := bs.stageRefAny(cs.from); ok {
			return userErr("cannot copy from stage %q, it needs to be defined before current stage", cs.from)
		} else {
			layers, _, _, err := bs.pullImage(ctx, cs.from)
			if err != nil {
				if _, ok := errors.AsType[*stepErr](err); ok {
					return err
				}
				return userErr("COPY --from=%s: %s", cs.from, imageMessage2(err))
			}
			dirs := make([]string, len(layers))
			for i, l := range layers {
				dirs[i] = l.dir
			}
			src, fromWhat = viewTree{&view{layers: dirs}}, "image "+cs.from
		}
	}

	workdir := st.cfg.Config.WorkingDir
	if workdir == "" {
		workdir = "/"
	}
	dest := cs.dest
	if !path.IsAbs(dest) {
		dest = path.Join(workdir, dest)
		if strings.HasSuffix(cs.dest, "/") || cs.dest == "." || cs.dest == "" {
			dest += "/"
		}
	}
	destIsDir := strings.HasSuffix(dest, "/") || strings.HasSuffix(dest, "/.")
	destRel := cleanRel(dest)

	var sources []copySource
	for _, s := range cs.srcs {
		ms, err := match(src, s, bs.b.cfg.MaxCopyEntries)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return userErr("failed to compute cache key: %q not found in %s", s, fromWhat)
			}
			return userErr("%s: %s", s, rootErr(err))
		}
		for _, m := range ms {
			sources = append(sources, copySource{tree: src, rel: m})
		}
		if len(sources) > bs.b.cfg.MaxCopyEntries {
			return userErr("the sources match more than %d files", bs.b.cfg.MaxCopyEntries)
		}
	}
	if len(sources) > 1 {
		destIsDir = true
	}
	if !destIsDir {
		if r, err := lower.resolve(destRel, true); err == nil {
			if e, err := lower.lstat(r); err == nil && e.info.IsDir() {
				destIsDir = true
			}
		}
	}
	for i := range sources {
		s := &sources[i]
		fi, _, err := s.tree.stat(s.rel)
		if err != nil {
			return userErr("%s: %s", s.rel, rootErr(err))
		}
		switch {
		case fi.IsDir():
			s.dst = destRel
		case cs.add && cs.unpack && fi.Mode().IsRegular() &&
			isArchive(ctx, func() (io.ReadCloser, error) { return s.tree.open(s.rel) }):
			s.archive, s.dst = true, destRel
		case destIsDir:
			s.dst = path.Join(destRel, path.Base(s.rel))
		default:
			s.dst = destRel
		}
	}

	lim := func() *copyLimits {
		return &copyLimits{maxEntries: bs.b.cfg.MaxCopyEntries, maxBytes: bs.b.cfg.MaxCopyBytes}
	}
	override := func(op copyOp) copyOp {
		if hasChown {
			op.uid, op.gid = uid, gid
		}
		if hasChmod && op.typ != 'l' && op.typ != 'h' {
			op.mode = chmod
		}
		return op
	}
	skipped := 0
	skip := func(string) { skipped++ }

	// The content digest: every entry's name, type, metadata and bytes.
	h := sha256.New()
	l := lim()
	for _, s := range sources {
		if s.archive {
			f, err := s.tree.open(s.rel)
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "archive %q\n", s.dst)
			_, err = io.Copy(h, f)
			_ = f.Close()
			if err != nil {
				return err
			}
			continue
		}
		err := walkSource(s.tree, s.rel, s.dst, l, func(op copyOp, content io.Reader) error {
			op = override(op)
			fmt.Fprintf(h, "%q %c %o %d %d %d %q %d\n", op.dst, op.typ, uint32(op.mode), op.uid, op.gid,
				clamp(op.mtime, bs.epoch).Unix(), op.link, op.size)
			if content != nil {
				if _, err := io.Copy(h, content); err != nil {
					return err
				}
			}
			return nil
		}, skip)
		if err != nil {
			return userErr("%s: %s", s.rel, rootErr(err))
		}
	}
	key := cacheKey(strings.ToLower(kind), st.chain(), bs.epochKey(), cs.chown, cs.chmod, hex.EncodeToString(h.Sum(nil)))
	created := bs.copyHistory(kind, cs)
	if bs.cached(st, key) {
		bs.history(st, created, false)
		return nil
	}

	dir, err := bs.b.cache.newDir("layer-")
	if err != nil {
		return err
	}
	fail := func(err error) error { _ = os.RemoveAll(dir); return err }
	w, err := newLayerWriter(dir, st.dirs())
	if err != nil {
		return fail(err)
	}
	defer w.close()
	skipped = 0
	l = lim()
	for _, s := range sources {
		if s.archive {
			f, err := s.tree.open(s.rel)
			if err != nil {
				return fail(err)
			}
			if err := w.apply(override(copyOp{dst: s.dst, typ: 'd', mode: 0o755}), nil, true); err != nil {
				_ = f.Close()
				return fail(userErr("%s: %s", s.rel, rootErr(err)))
			}
			err = walkArchive(ctx, f, s.dst, l, func(op copyOp, content io.Reader) error {
				return w.apply(override(op), content, op.dst == s.dst)
			}, skip)
			_ = f.Close()
			if err != nil {
				return fail(userErr("extracting %s: %s", s.rel, rootErr(err)))
			}
			continue
		}
		topDir := s.dst
		err := walkSource(s.tree, s.rel, s.dst, l, func(op copyOp, content io.Reader) error {
			top := op.typ == 'd' && op.dst == topDir
			if top && s.rel == "." && !s.tree.owned() {
				op.mode = 0o755 // the context's root is not the image's
			}
			return w.apply(override(op), content, top)
		}, skip)
		if err != nil {
			return fail(userErr("%s: %s", s.rel, rootErr(err)))
		}
	}
	if skipped > 0 {
		bs.log.printf(" ---> %d device, FIFO or socket entries skipped", skipped)
	}
	rec, err := bs.b.cache.commit(dir, key, bs.epoch, bs.created)
	if err != nil {
		return fail(err)
	}
	bs.useLayer(st, rec)
	bs.history(st, created, false)
	return nil
}

func (bs *buildState) stageRefAny(ref string) (*stage, bool) {
	return bs.stageRef(ref, len(bs.stages))
}

func (bs *buildState) copyHistory(kind string, cs copySpec) string {
	var b strings.Builder
	b.WriteString(kind)
	if cs.chown != "" {
		b.WriteString(" --chown=" + cs.chown)
	}
	if cs.chmod != "" {
		b.WriteString(" --chmod=" + cs.chmod)
	}
	for _, s := range cs.srcs {
		b.WriteString(" " + s)
	}
	b.WriteString(" " + cs.dest)
	return b.String()
}
