package task

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/cerulean/cerulean/internal/blob"
	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/registry"
	"github.com/cerulean/cerulean/internal/resourceid"
)

// Registries is the part of registry.Service the tasks need.
type Registries interface {
	Get(ctx context.Context, group resourceid.ID, name string) (registry.Registry, error)
	ByName(ctx context.Context, name string) (registry.Registry, error)
}

// Config configures the Service.
type Config struct {
	Store      Store
	Blobs      blob.Store
	Registries Registries
	Builder    Builder
	// Credentials mints the caller's registry credentials for its runs;
	// nil: runs pull and push anonymously.
	Credentials Credentials
	// Cluster tells live servers from dead ones; nil: this server is
	// alone, and every unfinished run it does not run is dead.
	Cluster  Cluster
	ServerID string
	// WorkDir holds the runs' extracted contexts (one directory per run,
	// removed when it ends).
	WorkDir string
	// SASKey signs the blob URLs (every server sharing the store must
	// have the same).
	SASKey []byte
	// Concurrency is how many runs this server executes at once
	// (default 2); more wait Queued.
	Concurrency int
	Logger      *slog.Logger
	Now         func() time.Time
}

// Defaults and bounds of runs.
const (
	DefaultTimeout = 3600 // seconds
	MaxTimeout     = 28800
	MinTimeout     = 300
	// UploadURLLifetime and LogURLLifetime are how long the blob URLs
	// the service hands out stay valid.
	UploadURLLifetime = time.Hour
	LogURLLifetime    = 24 * time.Hour
	reapEvery         = 10 * time.Second
	cancelPollEvery   = 2 * time.Second
)

// Service runs ACR Tasks' quick builds and quick runs.
type Service struct {
	store      Store
	blobs      blob.Store
	registries Registries
	builder    Builder
	creds      Credentials
	cluster    Cluster
	id         string
	workDir    string
	sasKey     []byte
	log        *slog.Logger
	now        func() time.Time
	sem        chan struct{}

	mu     sync.Mutex
	active map[string]*activeRun // by runKey, on this server
	wg     sync.WaitGroup
}

type activeRun struct {
	cancel   context.CancelCauseFunc
	canceled bool
}

// errCanceled is the cause of a run canceled on request.
var errCanceled = errors.New("the run was canceled")

// NewService returns the tasks service.
func NewService(cfg Config) *Service {
	s := &Service{
		store: cfg.Store, blobs: cfg.Blobs, registries: cfg.Registries, builder: cfg.Builder, creds: cfg.Credentials,
		cluster: cfg.Cluster, id: cfg.ServerID, workDir: cfg.WorkDir, sasKey: cfg.SASKey, log: cfg.Logger, now: cfg.Now,
		active: map[string]*activeRun{},
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	n := cfg.Concurrency
	if n <= 0 {
		n = 2
	}
	s.sem = make(chan struct{}, n)
	return s
}

func runKey(registry, id string) string { return strings.ToLower(registry) + "/" + id }

// ---- scheduling ----------------------------------------------------------

// BuildSpec is a quick build (ACR's DockerBuildRequest).
type BuildSpec struct {
	SourceLocation string // the relativePath of listBuildSourceUploadUrl
	Dockerfile     string
	Images         []string // may hold {{.Run.ID}} and friends
	Push           bool
	NoCache        bool
	Target         string
	Args           []BuildArg
	Platform       Platform
	Timeout        int // seconds, 0 for DefaultTimeout
	ArchiveEnabled bool
}

// CommandSpec is a quick run (ACR's EncodedTaskRunRequest).
type CommandSpec struct {
	EncodedTask    string
	Values         []BuildArg // {{.Values.name}}
	Platform       Platform
	Timeout        int
	ArchiveEnabled bool
}

// job is what a run does once it runs; it returns the images it pushed.
type job func(ctx context.Context, rc *runContext) ([]OutputImage, error)

type runContext struct {
	run    Run
	reg    registry.Registry
	log    *runLog
	dir    string
	caller Caller
}

func checkPlatform(p *Platform) error {
	if p.OS == "" {
		p.OS = "linux"
	}
	if p.Architecture == "" {
		p.Architecture = "amd64"
	}
	p.OS, p.Architecture, p.Variant = strings.ToLower(p.OS), strings.ToLower(p.Architecture), strings.ToLower(p.Variant)
	if p.OS != "linux" || p.Architecture != "amd64" {
		return ErrUnsupported.WithMessage("The platform '%s/%s' is not supported: Cerulean builds and runs linux/amd64 only.", p.OS, p.Architecture).WithTarget("platform")
	}
	return nil
}

func checkTimeout(t int) (int, error) {
	switch {
	case t == 0:
		return DefaultTimeout, nil
	case t < MinTimeout || t > MaxTimeout:
		return 0, ErrInvalidRequest.WithMessage("The timeout must be between %d and %d seconds.", MinTimeout, MaxTimeout).WithTarget("timeout")
	}
	return t, nil
}

// imageRef qualifies an image name with the registry's login server (ACR
// pushes to the run's registry) and the tag latest when it has none.
func imageRef(loginServer, name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || strings.ContainsAny(name, " \t\n") {
		return "", ErrInvalidRequest.WithMessage("The image name %q is invalid.", clip(name)).WithTarget("imageNames")
	}
	if first, rest, ok := strings.Cut(name, "/"); ok && strings.EqualFold(first, loginServer) {
		name = rest
	} else if ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		return "", ErrInvalidRequest.WithMessage("The image '%s' is not in the registry %s: a run pushes to its own registry.", clip(name), loginServer).WithTarget("imageNames")
	}
	last := name[strings.LastIndex(name, "/")+1:]
	if !strings.Contains(last, ":") && !strings.Contains(name, "@") {
		name += ":latest"
	}
	return loginServer + "/" + name, nil
}

// ScheduleBuild queues a quick build of the registry group/name for
// caller and returns the Queued run.
func (s *Service) ScheduleBuild(ctx context.Context, caller Caller, group resourceid.ID, name string, spec BuildSpec) (Run, error) {
	reg, err := s.registries.Get(ctx, group, name)
	if err != nil {
		return Run{}, err
	}
	if err := checkPlatform(&spec.Platform); err != nil {
		return Run{}, err
	}
	timeout, err := checkTimeout(spec.Timeout)
	if err != nil {
		return Run{}, err
	}
	df := spec.Dockerfile
	if df == "" {
		df = "Dockerfile"
	}
	if clean, err := entryName(df, defaultExtractLimits); err != nil || clean == "." || strings.HasPrefix(df, "/") {
		return Run{}, ErrInvalidRequest.WithMessage("The Dockerfile path '%s' must be relative to the source and stay inside it.", clip(df)).WithTarget("dockerFilePath")
	}
	if spec.SourceLocation == "" {
		return Run{}, ErrInvalidRequest.WithMessage("The sourceLocation is required.").WithTarget("sourceLocation")
	}
	if _, err := s.source(ctx, reg, spec.SourceLocation); err != nil {
		return Run{}, err
	}
	// Names are checked with a stand-in id first, so that a bad template
	// costs no run number.
	probe := newTemplateData("ca0", reg.LoginServer, reg.Name, s.now(), spec.Platform, nil)
	for _, im := range spec.Images {
		name, err := render("image name", im, probe)
		if err != nil {
			return Run{}, err
		}
		if _, err := imageRef(reg.LoginServer, name); err != nil {
			return Run{}, err
		}
	}
	var secrets []string
	for _, a := range spec.Args {
		if a.Name == "" {
			return Run{}, ErrInvalidRequest.WithMessage("A build argument has no name.").WithTarget("arguments")
		}
		if a.Secret {
			secrets = append(secrets, a.Value)
		}
	}
	var images []string
	prepare := func(r *Run) error {
		d := newTemplateData(r.ID, reg.LoginServer, reg.Name, r.CreatedAt, spec.Platform, nil)
		for _, im := range spec.Images {
			name, err := render("image name", im, d)
			if err != nil {
				return err
			}
			ref, err := imageRef(reg.LoginServer, name)
			if err != nil {
				return err
			}
			images = append(images, ref)
		}
		return nil
	}
	do := func(ctx context.Context, rc *runContext) ([]OutputImage, error) {
		if err := s.fetchSource(ctx, rc, spec.SourceLocation); err != nil {
			return nil, err
		}
		push := spec.Push && len(images) > 0
		auth := s.auth(rc.caller)
		rc.log.Printf("Setting up the build for run ID: %s", rc.run.ID)
		// As acr-builder does, the run logs in to its registry before the
		// build step, push or not (the base images may live there).
		rc.log.Printf("Logging in to registry: %s", reg.LoginServer)
		if _, _, _, err := auth(ctx, reg.LoginServer); err != nil {
			return nil, err
		}
		rc.log.Printf("Successfully logged into %s", reg.LoginServer)
		rc.log.Printf("Executing step ID: build. Timeout(sec): %d, Working directory: '', Network: ''", rc.run.Timeout)
		start := s.now()
		res, err := s.builder.Build(ctx, BuildRequest{
			ContextDir: filepath.Join(rc.dir, "context"), Dockerfile: df, Args: spec.Args, Target: spec.Target,
			Platform: spec.Platform, Images: images, Push: push, NoCache: spec.NoCache,
			Auth: auth, Log: rc.log,
		})
		if err != nil {
			rc.log.Printf("Step ID: build marked as failed (elapsed time in seconds: %.6f)", s.now().Sub(start).Seconds())
			return nil, err
		}
		rc.log.Printf("Step ID: build marked as successful (elapsed time in seconds: %.6f)", s.now().Sub(start).Seconds())
		if push {
			for _, im := range res.Images {
				rc.log.Printf("Successfully pushed image: %s/%s:%s", im.Registry, im.Repository, im.Tag)
			}
		}
		return res.Images, nil
	}
	return s.schedule(ctx, reg, caller, QuickBuild, spec.Platform, timeout, spec.ArchiveEnabled, secrets, prepare, do)
}

// ScheduleRun queues a quick run of the registry group/name for caller.
func (s *Service) ScheduleRun(ctx context.Context, caller Caller, group resourceid.ID, name string, spec CommandSpec) (Run, error) {
	reg, err := s.registries.Get(ctx, group, name)
	if err != nil {
		return Run{}, err
	}
	if err := checkPlatform(&spec.Platform); err != nil {
		return Run{}, err
	}
	tf, err := decodeTask(spec.EncodedTask)
	if err != nil {
		return Run{}, err
	}
	timeout, err := checkTimeout(spec.Timeout)
	if err != nil {
		return Run{}, err
	}
	values := map[string]string{}
	var secrets []string
	for _, v := range spec.Values {
		values[v.Name] = v.Value
		if v.Secret {
			secrets = append(secrets, v.Value)
		}
	}
	// Each step is parsed now, with a stand-in id, so that a bad cmd is
	// the request's 400 rather than a failed run.
	expand := func(st taskStep, d templateData) (commandStep, error) {
		cmd, err := render("cmd", expandAliases(st.Cmd, d), d)
		if err != nil {
			return commandStep{}, err
		}
		cs, err := parseCommand(cmd)
		if err != nil {
			return commandStep{}, err
		}
		cs.Timeout = st.Timeout
		cs.Env = append(cs.Env, st.Env...)
		return cs, nil
	}
	probe := newTemplateData("ca0", reg.LoginServer, reg.Name, s.now(), spec.Platform, values)
	for _, st := range tf.Steps {
		if _, err := expand(st, probe); err != nil {
			return Run{}, err
		}
	}
	var steps []commandStep
	prepare := func(r *Run) error {
		d := newTemplateData(r.ID, reg.LoginServer, reg.Name, r.CreatedAt, spec.Platform, values)
		for i, st := range tf.Steps {
			cs, err := expand(st, d)
			if err != nil {
				return err
			}
			cs.ID = stepID(i, st)
			steps = append(steps, cs)
		}
		return nil
	}
	do := func(ctx context.Context, rc *runContext) ([]OutputImage, error) {
		auth := s.auth(rc.caller)
		rc.log.Printf("Alias support enabled for version >= 1.1.0, please see https://aka.ms/acr/tasks/task-aliases for more information.")
		rc.log.Printf("Logging in to registry: %s", reg.LoginServer)
		if _, _, _, err := auth(ctx, reg.LoginServer); err != nil {
			return nil, err
		}
		rc.log.Printf("Successfully logged into %s", reg.LoginServer)
		for _, st := range steps {
			stepTimeout := rc.run.Timeout
			if st.Timeout > 0 {
				stepTimeout = min(st.Timeout, stepTimeout)
			}
			network := "host"
			if !st.Network {
				network = "none"
			}
			rc.log.Printf("Executing step ID: %s. Timeout(sec): %d, Working directory: '', Network: '%s'", st.ID, stepTimeout, network)
			for _, f := range st.Ignored {
				rc.log.Printf("Ignoring the docker run option %s: Cerulean does not support it in quick runs.", f)
			}
			rc.log.Printf("Launching container with name: %s", st.ID)
			start := s.now()
			sctx, cancel := context.WithTimeout(ctx, time.Duration(stepTimeout)*time.Second)
			err := s.builder.RunCommand(sctx, CommandRequest{Image: st.Image, Args: st.Args, Env: st.Env, Network: st.Network, Auth: auth, Log: rc.log})
			stepErr := sctx.Err()
			cancel()
			if err != nil {
				rc.log.Printf("Step ID: %s marked as failed (elapsed time in seconds: %.6f)", st.ID, s.now().Sub(start).Seconds())
				if errors.Is(stepErr, context.DeadlineExceeded) && ctx.Err() == nil {
					return nil, context.DeadlineExceeded
				}
				return nil, err
			}
			rc.log.Printf("Step ID: %s marked as successful (elapsed time in seconds: %.6f)", st.ID, s.now().Sub(start).Seconds())
		}
		return nil, nil
	}
	return s.schedule(ctx, reg, caller, QuickRun, spec.Platform, timeout, spec.ArchiveEnabled, secrets, prepare, do)
}

// auth is the RegistryAuth of a caller's run.
func (s *Service) auth(caller Caller) RegistryAuth {
	return func(ctx context.Context, host string) (string, string, bool, error) {
		if s.creds == nil {
			return "", "", false, nil
		}
		return s.creds.ForCaller(ctx, caller, host)
	}
}

// schedule allocates the run's id, stores it Queued and starts it in the
// background on this server.
func (s *Service) schedule(ctx context.Context, reg registry.Registry, caller Caller, typ RunType, p Platform, timeout int,
	archive bool, secrets []string, prepare func(*Run) error, do job) (Run, error) {
	seq, err := s.store.NextRunSeq(ctx, reg.Name)
	if err != nil {
		return Run{}, s.registryGone(err, reg)
	}
	now := s.now().UTC()
	r := Run{
		Registry: strings.ToLower(reg.Name), ID: runID(seq), Seq: seq, Type: typ, Status: StatusQueued, Platform: p,
		Server: s.id, CreatedAt: now, UpdatedAt: now, ArchiveEnabled: archive, Timeout: timeout,
	}
	if err := prepare(&r); err != nil {
		return Run{}, err
	}
	runCtx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	key := runKey(r.Registry, r.ID)
	s.mu.Lock()
	s.active[key] = &activeRun{cancel: cancel}
	s.mu.Unlock()
	if err := s.store.CreateRun(ctx, r); err != nil {
		s.mu.Lock()
		delete(s.active, key)
		s.mu.Unlock()
		cancel(nil)
		return Run{}, s.registryGone(err, reg)
	}
	s.log.InfoContext(ctx, "run queued", "registry", reg.Name, "run_id", r.ID, "type", typ, "caller", caller.Principal.ObjectID)
	s.wg.Go(func() { s.execute(runCtx, cancel, r, reg, caller, secrets, do) })
	return r, nil
}

func (s *Service) registryGone(err error, reg registry.Registry) error {
	if errdefs.IsKind(err, errdefs.NotFound) {
		return registry.ErrRegistryNotFound.WithMessage("The registry '%s' was not found.", reg.Name)
	}
	return err
}

// Wait waits for the runs this server started to end (tests, shutdown).
func (s *Service) Wait() { s.wg.Wait() }

// execute runs one run to its end.
func (s *Service) execute(ctx context.Context, cancel context.CancelCauseFunc, r Run, reg registry.Registry, caller Caller, secrets []string, do job) {
	key := runKey(r.Registry, r.ID)
	defer func() {
		s.mu.Lock()
		delete(s.active, key)
		s.mu.Unlock()
		cancel(nil)
	}()
	select {
	case s.sem <- struct{}{}:
		defer func() { <-s.sem }()
	case <-ctx.Done():
		s.finishUnstarted(r, context.Cause(ctx))
		return
	}
	bg := context.WithoutCancel(ctx)
	started, err := s.store.UpdateRun(bg, r.Registry, r.ID, func(cur *Run) error {
		if cur.Status.Finished() {
			return ErrRunFinished
		}
		cur.Status, cur.StartedAt, cur.UpdatedAt = StatusRunning, s.now().UTC(), s.now().UTC()
		return nil
	})
	if err != nil {
		if !errors.Is(err, ErrRunFinished) {
			s.log.WarnContext(bg, "run start", "registry", r.Registry, "run_id", r.ID, "err", err)
			return
		}
		// Canceled from another server while it waited for its turn.
		if cur, err := s.store.GetRun(bg, r.Registry, r.ID); err == nil && cur.Status == StatusCanceled && cur.LogComplete == "" {
			s.closeCanceledLog(cur)
		}
		return
	}
	tctx, tcancel := context.WithTimeout(ctx, time.Duration(started.Timeout)*time.Second)
	defer tcancel()
	stopWatch := s.watchCancel(tctx, started, cancel)
	defer stopWatch()

	rlog := newRunLog(s.store, r.Registry, r.ID, s.now, secrets)
	dir := filepath.Join(s.workDir, r.Registry+"-"+r.ID+"-"+randomHex(4))
	rc := &runContext{run: started, reg: reg, log: rlog, dir: dir, caller: caller}
	var (
		images []OutputImage
		runErr error
	)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		runErr = errdefs.Internalf(err, "run directory")
	} else {
		images, runErr = do(tctx, rc)
	}
	if err := os.RemoveAll(dir); err != nil {
		s.log.WarnContext(bg, "run directory", "dir", dir, "err", err)
	}
	status, complete, msg := s.outcome(tctx, runErr)
	elapsed := s.now().Sub(started.StartedAt).Round(time.Second) / time.Second
	closing := []string{"", fmt.Sprintf("Run ID: %s was successful after %ds", r.ID, elapsed)}
	switch status {
	case StatusSucceeded:
	case StatusCanceled:
		closing[1] = fmt.Sprintf("Run ID: %s was canceled after %ds", r.ID, elapsed)
	default:
		closing[1] = fmt.Sprintf("Run ID: %s failed after %ds. Error: %s", r.ID, elapsed, msg)
	}
	rlog.closing(closing...)
	if err := rlog.Close(); err != nil {
		s.log.WarnContext(bg, "run log", "registry", r.Registry, "run_id", r.ID, "err", err)
	}
	_, err = s.store.UpdateRun(bg, r.Registry, r.ID, func(cur *Run) error {
		if cur.Status.Finished() { // canceled from another server meanwhile
			if cur.LogComplete == "" {
				cur.LogComplete = completeCanceled
			}
			return nil
		}
		now := s.now().UTC()
		cur.Status, cur.FinishedAt, cur.UpdatedAt, cur.OutputImages, cur.LogComplete = status, now, now, images, complete
		if status != StatusSucceeded {
			cur.ErrorMessage = msg
		}
		return nil
	})
	if err != nil {
		s.log.WarnContext(bg, "run finish", "registry", r.Registry, "run_id", r.ID, "err", err)
	}
	s.log.InfoContext(bg, "run finished", "registry", r.Registry, "run_id", r.ID, "status", status)
}

// outcome classifies how a run ended.
func (s *Service) outcome(ctx context.Context, err error) (Status, string, string) {
	switch {
	case err == nil:
		return StatusSucceeded, completeSuccess, ""
	case errors.Is(context.Cause(ctx), errCanceled):
		return StatusCanceled, completeCanceled, "the run was canceled"
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded):
		return StatusTimeout, completeTimedOut, "the run timed out"
	case errors.Is(ctx.Err(), context.Canceled):
		// Not canceled by a user: the server is shutting down under it,
		// as when it dies mid-run (reapDead's words).
		return StatusError, completeInternal, "the server running the run stopped"
	}
	e := errdefs.As(err)
	switch e.Kind {
	case errdefs.Internal, errdefs.Unavailable:
		if e.Kind == errdefs.Internal {
			s.log.ErrorContext(ctx, "run failed with an internal error", "err", err)
		}
		return StatusError, completeInternal, "an internal error occurred"
	}
	return StatusFailed, completeFailed, e.Message
}

// finishUnstarted ends a run canceled before it started (or whose
// server is gone): it claims the run, writes its last lines, then marks
// the log complete.
func (s *Service) finishUnstarted(r Run, _ error) {
	ctx := context.Background()
	var ended bool
	_, _ = s.store.UpdateRun(ctx, r.Registry, r.ID, func(cur *Run) error {
		if cur.Status.Finished() {
			return nil
		}
		now := s.now().UTC()
		cur.Status, cur.FinishedAt, cur.UpdatedAt, cur.ErrorMessage = StatusCanceled, now, now, "the run was canceled"
		ended = true
		return nil
	})
	if ended {
		s.closeCanceledLog(r)
	}
}

// closeCanceledLog writes a canceled run's last lines and completes its
// log.
func (s *Service) closeCanceledLog(r Run) {
	ctx := context.Background()
	elapsed := int64(0)
	if !r.StartedAt.IsZero() {
		elapsed = int64(s.now().Sub(r.StartedAt) / time.Second)
	}
	rlog := newRunLog(s.store, r.Registry, r.ID, s.now, nil)
	rlog.closing("", fmt.Sprintf("Run ID: %s was canceled after %ds", r.ID, elapsed))
	_ = rlog.Close()
	_, _ = s.store.UpdateRun(ctx, r.Registry, r.ID, func(cur *Run) error {
		cur.LogComplete = completeCanceled
		return nil
	})
}

// watchCancel stops the run when another server marks it Canceled.
func (s *Service) watchCancel(ctx context.Context, r Run, cancel context.CancelCauseFunc) func() {
	wctx, stop := context.WithCancel(ctx)
	go func() {
		t := time.NewTicker(cancelPollEvery)
		defer t.Stop()
		for {
			select {
			case <-wctx.Done():
				return
			case <-t.C:
				cur, err := s.store.GetRun(wctx, r.Registry, r.ID)
				if err == nil && cur.Status == StatusCanceled || errdefs.IsKind(err, errdefs.NotFound) {
					cancel(errCanceled)
					return
				}
			}
		}
	}()
	return stop
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails
	return hex.EncodeToString(b)
}

// ---- reading and changing runs -------------------------------------------

func (s *Service) registry(ctx context.Context, group resourceid.ID, name string) (registry.Registry, error) {
	return s.registries.Get(ctx, group, name)
}

func (s *Service) getRun(ctx context.Context, reg registry.Registry, id string) (Run, error) {
	r, err := s.store.GetRun(ctx, reg.Name, id)
	if errdefs.IsKind(err, errdefs.NotFound) {
		return Run{}, ErrRunNotFound.WithMessage("The run '%s' was not found in the registry '%s'.", clip(id), reg.Name)
	}
	return r, err
}

// Get returns a run of the registry group/name.
func (s *Service) Get(ctx context.Context, group resourceid.ID, name, id string) (Run, error) {
	reg, err := s.registry(ctx, group, name)
	if err != nil {
		return Run{}, err
	}
	return s.getRun(ctx, reg, id)
}

// List lists a registry's runs, newest first.
func (s *Service) List(ctx context.Context, group resourceid.ID, name string, f RunFilter) ([]Run, error) {
	reg, err := s.registry(ctx, group, name)
	if err != nil {
		return nil, err
	}
	if f.Image == "" {
		return s.store.ListRuns(ctx, reg.Name, f)
	}
	all, err := s.store.ListRuns(ctx, reg.Name, RunFilter{Status: f.Status})
	if err != nil {
		return nil, err
	}
	var out []Run
	for _, r := range all {
		if f.Top > 0 && len(out) == f.Top {
			break
		}
		if outputs(r, f.Image) {
			out = append(out, r)
		}
	}
	return out, nil
}

// outputs reports whether a run output the manifest image
// ("<repository>@<digest>"; repositories compare case-insensitively, as
// ACR's names do).
func outputs(r Run, image string) bool {
	repo, digest, _ := strings.Cut(image, "@")
	for _, im := range r.OutputImages {
		if strings.EqualFold(im.Repository, repo) && im.Digest == digest {
			return true
		}
	}
	return false
}

// SetArchive sets a run's isArchiveEnabled.
func (s *Service) SetArchive(ctx context.Context, group resourceid.ID, name, id string, enabled bool) (Run, error) {
	reg, err := s.registry(ctx, group, name)
	if err != nil {
		return Run{}, err
	}
	if _, err := s.getRun(ctx, reg, id); err != nil {
		return Run{}, err
	}
	return s.store.UpdateRun(ctx, reg.Name, id, func(r *Run) error {
		r.ArchiveEnabled, r.UpdatedAt = enabled, s.now().UTC()
		return nil
	})
}

// Cancel cancels a run: at once when this server runs it; otherwise it is
// marked Canceled in the store, and the server running it stops it when
// it next looks (every two seconds). A finished run stays as it is.
func (s *Service) Cancel(ctx context.Context, group resourceid.ID, name, id string) (Run, error) {
	reg, err := s.registry(ctx, group, name)
	if err != nil {
		return Run{}, err
	}
	r, err := s.getRun(ctx, reg, id)
	if err != nil || r.Status.Finished() {
		return r, err
	}
	s.mu.Lock()
	a := s.active[runKey(r.Registry, r.ID)]
	if a != nil {
		a.canceled = true
		a.cancel(errCanceled)
	}
	s.mu.Unlock()
	if a != nil {
		return r, nil
	}
	live, err := s.liveServers(ctx)
	if err != nil {
		return Run{}, err
	}
	if r.Server == s.id || !live[r.Server] {
		// Nobody runs it (its server died, or this one restarted): end
		// it here, log and all.
		s.finishUnstarted(r, errCanceled)
		return s.getRun(ctx, reg, r.ID)
	}
	// Its server sees the status and stops it, then completes the log.
	return s.store.UpdateRun(ctx, r.Registry, r.ID, func(cur *Run) error {
		if cur.Status.Finished() {
			return nil
		}
		now := s.now().UTC()
		cur.Status, cur.FinishedAt, cur.UpdatedAt, cur.ErrorMessage = StatusCanceled, now, now, "the run was canceled"
		return nil
	})
}

// ---- dead servers ----------------------------------------------------------

// Run marks the runs of dead servers Error until ctx ends, and then
// cancels this server's runs and waits for them.
func (s *Service) Run(ctx context.Context) {
	s.Reap(ctx)
	t := time.NewTicker(reapEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			s.mu.Lock()
			for _, a := range s.active {
				a.cancel(errors.New("the server is shutting down"))
			}
			s.mu.Unlock()
			s.wg.Wait()
			return
		case <-t.C:
			s.Reap(ctx)
		}
	}
}

// Reap ends the unfinished runs no live server runs: those of servers
// whose lease expired, and this server's own from before a restart. Their
// log ends with an internal error.
func (s *Service) Reap(ctx context.Context) {
	runs, err := s.store.ListUnfinishedRuns(ctx)
	if err != nil {
		s.log.WarnContext(ctx, "runs of dead servers", "err", err)
		return
	}
	var live map[string]bool
	for _, r := range runs {
		if r.Server == s.id {
			s.mu.Lock()
			_, mine := s.active[runKey(r.Registry, r.ID)]
			s.mu.Unlock()
			if mine {
				continue
			}
		} else {
			if live == nil {
				if live, err = s.liveServers(ctx); err != nil {
					s.log.WarnContext(ctx, "runs of dead servers", "err", err)
					return
				}
			}
			if live[r.Server] {
				continue
			}
		}
		s.reapOne(ctx, r)
	}
}

func (s *Service) liveServers(ctx context.Context) (map[string]bool, error) {
	if s.cluster == nil {
		return map[string]bool{s.id: true}, nil
	}
	return s.cluster.Live(ctx)
}

func (s *Service) reapOne(ctx context.Context, r Run) {
	const msg = "the server running the run stopped"
	var ended bool
	// Claim the run first (of servers reaping at once, one ends it), then
	// write its last lines, and only then mark the log complete: a reader
	// stops at the first Complete it sees.
	_, err := s.store.UpdateRun(ctx, r.Registry, r.ID, func(cur *Run) error {
		if cur.Status.Finished() || cur.Server != r.Server {
			return nil
		}
		now := s.now().UTC()
		cur.Status, cur.FinishedAt, cur.UpdatedAt, cur.ErrorMessage = StatusError, now, now, msg
		ended = true
		return nil
	})
	if err != nil || !ended {
		return
	}
	elapsed := int64(0)
	if !r.StartedAt.IsZero() {
		elapsed = int64(s.now().Sub(r.StartedAt) / time.Second)
	}
	rlog := newRunLog(s.store, r.Registry, r.ID, s.now, nil)
	rlog.closing("", fmt.Sprintf("Run ID: %s failed after %ds. Error: %s", r.ID, elapsed, msg))
	_ = rlog.Close()
	_, _ = s.store.UpdateRun(ctx, r.Registry, r.ID, func(cur *Run) error {
		cur.LogComplete = completeInternal
		return nil
	})
	s.log.WarnContext(ctx, "run of a dead server marked Error", "registry", r.Registry, "run_id", r.ID, "server", r.Server)
}
