// Package build is task.Builder: it builds Dockerfiles without Docker,
// parsed with BuildKit's own Dockerfile parser, every RUN run by a
// task.Executor over overlayfs lower dirs, every layer reproducible and
// cached, and pushes the result with go-containerregistry; and it runs a
// quick run's command in a pulled image.
package build

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/cerulean/cerulean/internal/containergroup"
	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/task"
)

// BaseImages is what the builder needs of internal/image's Cache: base
// images resolved for linux/amd64 and unpacked into overlay lower dirs,
// held while a build stacks them.
type BaseImages interface {
	Resolve(ctx context.Context, ref string, cred *containergroup.Credential) (containergroup.ResolvedImage, error)
	Pull(ctx context.Context, ri containergroup.ResolvedImage, cred *containergroup.Credential) (containergroup.Image, error)
	Hold(digest string) (release func())
}

// Config configures a Builder.
type Config struct {
	// Dir holds the layer cache and the builds' scratch space
	// (<data dir>/build); created if missing.
	Dir string
	// Transport reaches registries (the one internal/image uses). Nil:
	// http.DefaultTransport.
	Transport http.RoundTripper
	Images    BaseImages
	Executor  task.Executor
	Logger    *slog.Logger
	// MaxCacheBytes bounds the layer cache (unpacked bytes; default 20 GiB).
	MaxCacheBytes int64
	// MaxCopyBytes and MaxCopyEntries bound one COPY or ADD (defaults
	// 8 GiB and 1 Mi entries); MaxDockerfileBytes the Dockerfile (1 MiB).
	MaxCopyBytes       int64
	MaxCopyEntries     int
	MaxDockerfileBytes int64
}

// Builder implements task.Builder.
type Builder struct {
	dir       string
	transport http.RoundTripper
	images    BaseImages
	exec      task.Executor
	log       *slog.Logger
	cache     *layerCache
	cfg       Config
}

var _ task.Builder = (*Builder)(nil)

// New opens the builder's cache in cfg.Dir, clearing what an interrupted
// build left.
func New(cfg Config) (*Builder, error) {
	if cfg.Dir == "" || cfg.Images == nil || cfg.Executor == nil {
		return nil, errors.New("build: Dir, Images and Executor are required")
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, err
	}
	if cfg.Transport == nil {
		cfg.Transport = http.DefaultTransport
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxCacheBytes <= 0 {
		cfg.MaxCacheBytes = 20 << 30
	}
	if cfg.MaxCopyBytes <= 0 {
		cfg.MaxCopyBytes = 8 << 30
	}
	if cfg.MaxCopyEntries <= 0 {
		cfg.MaxCopyEntries = 1 << 20
	}
	if cfg.MaxDockerfileBytes <= 0 {
		cfg.MaxDockerfileBytes = 1 << 20
	}
	cache, err := openLayerCache(filepath.Join(dir, "cache"), cfg.MaxCacheBytes)
	if err != nil {
		return nil, err
	}
	return &Builder{
		dir: dir, transport: cfg.Transport, images: cfg.Images, exec: cfg.Executor,
		log: cfg.Logger, cache: cache, cfg: cfg,
	}, nil
}

// Prune bounds the layer cache to maxBytes now (Build does it after each
// build with Config.MaxCacheBytes); layers running builds use are kept.
func (b *Builder) Prune(ctx context.Context, maxBytes int64) error {
	n, err := b.cache.prune(maxBytes)
	if n > 0 {
		b.log.InfoContext(ctx, "build cache pruned", "layers", n)
	}
	return err
}

// buildError is a failed build: InvalidArgument, naming the step.
func buildError(format string, args ...any) *errdefs.Error {
	return errdefs.Newf(errdefs.InvalidArgument, "BuildFailed", format, args...)
}

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Build implements task.Builder.
func (b *Builder) Build(ctx context.Context, req task.BuildRequest) (task.BuildResult, error) {
	if p := req.Platform; (p.OS != "" && p.OS != "linux") || (p.Architecture != "" && p.Architecture != "amd64") || p.Variant != "" {
		return task.BuildResult{}, buildError("the platform %s/%s is not supported: Cerulean builds linux/amd64 only", p.OS, p.Architecture)
	}
	var secrets []string
	for _, a := range req.Args {
		if a.Secret {
			secrets = append(secrets, a.Value)
		}
	}
	log := newBuildLog(req.Log, secrets)
	root, err := os.OpenRoot(req.ContextDir)
	if err != nil {
		return task.BuildResult{}, errdefs.Internalf(err, "opening the build context")
	}
	defer func() { _ = root.Close() }()
	dockerfile := req.Dockerfile
	if dockerfile == "" {
		dockerfile = "Dockerfile"
	}
	df, err := readBounded(root, cleanRel(dockerfile), b.cfg.MaxDockerfileBytes)
	if err != nil {
		return task.BuildResult{}, buildError("cannot read the Dockerfile %q from the build context: %s", dockerfile, rootErr(err))
	}

	bs := &buildState{b: b, req: req, log: log, ctx: root, epoch: time.Unix(0, 0).UTC(), created: time.Now().UTC()}
	defer bs.release()
	for _, a := range req.Args {
		if a.Name == "SOURCE_DATE_EPOCH" {
			n, err := strconv.ParseInt(a.Value, 10, 64)
			if err != nil || n < 0 {
				return task.BuildResult{}, buildError("invalid SOURCE_DATE_EPOCH %q: want seconds since 1970", a.Value)
			}
			bs.epoch, bs.created, bs.sourceDateEpoch = time.Unix(n, 0).UTC(), time.Unix(n, 0).UTC(), true
		}
	}
	final, err := bs.run(ctx, df)
	if err != nil {
		if ctx.Err() != nil {
			return task.BuildResult{}, ctx.Err()
		}
		if e, ok := errors.AsType[*errdefs.Error](err); ok {
			log.line(e.Message)
			// The message becomes the run's status: no secret in it.
			return task.BuildResult{}, e.WithMessage("%s", log.scrub(e.Message))
		}
		return task.BuildResult{}, errdefs.Internalf(err, "build")
	}
	img, err := bs.image(final)
	if err != nil {
		return task.BuildResult{}, errdefs.Internalf(err, "assembling the image")
	}
	digest, err := img.Digest()
	if err != nil {
		return task.BuildResult{}, errdefs.Internalf(err, "assembling the image")
	}
	log.printf("Successfully built %s", digest.Hex[:12])

	var res task.BuildResult
	for _, r := range req.Images {
		ref, err := name.NewTag(r)
		if err != nil {
			return task.BuildResult{}, buildError("%q is not an image reference with a tag: %v", r, err)
		}
		log.printf("Successfully tagged %s", ref.Name())
		if req.Push {
			log.printf("pushing %s", ref.Name())
			cred, err := credentials(ctx, req.Auth, ref.RegistryStr())
			if err != nil {
				return task.BuildResult{}, errdefs.Internalf(err, "credentials for %s", ref.RegistryStr())
			}
			if err := remote.Write(ref, img, b.remoteOptions(ctx, cred)...); err != nil {
				msg := err.Error()
				if cred != nil && cred.Password != "" {
					msg = strings.ReplaceAll(msg, cred.Password, "***")
				}
				msg = log.scrub(msg)
				log.printf("push of %s failed: %s", ref.Name(), msg)
				return task.BuildResult{}, buildError("pushing %s failed: %s", ref.Name(), msg)
			}
			log.printf("%s: digest: %s", ref.Name(), digest)
		}
		res.Images = append(res.Images, task.OutputImage{
			Registry: ref.RegistryStr(), Repository: ref.RepositoryStr(), Tag: ref.TagStr(), Digest: digest.String(),
		})
	}
	if !req.Push {
		res.Images = nil
	}
	if err := b.Prune(ctx, b.cfg.MaxCacheBytes); err != nil {
		b.log.WarnContext(ctx, "build cache prune failed", "err", err)
	}
	return res, nil
}

func readBounded(root *os.Root, name string, max int64) ([]byte, error) {
	f, err := root.Open(name)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("larger than %d bytes", max)
	}
	return data, nil
}

// rootErr says why an os.Root refused a path without the host path.
func rootErr(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// image assembles the final stage's image: its layers (the base image's
// as they are in their registry, the build's from the cache) and its
// config, in the manifest family of its base (OCI for FROM scratch).
func (bs *buildState) image(st *stage) (v1.Image, error) {
	img := empty.Image
	if st.docker {
		img = mutate.MediaType(img, types.DockerManifestSchema2)
		img = mutate.ConfigMediaType(img, types.DockerConfigJSON)
	} else {
		img = mutate.MediaType(img, types.OCIManifestSchema1)
		img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	}
	cf := st.cfg.DeepCopy()
	cf.Created = v1.Time{Time: st.last}
	cf.RootFS = v1.RootFS{Type: "layers"}
	var adds []mutate.Addendum
	for _, l := range st.layers {
		layer := l.layer
		if bl, ok := layer.(blobLayer); ok {
			bl.mediaType = types.OCILayer
			if st.docker {
				bl.mediaType = types.DockerLayer
			}
			layer = bl
		}
		h, err := v1.NewHash(l.diffID)
		if err != nil {
			return nil, err
		}
		cf.RootFS.DiffIDs = append(cf.RootFS.DiffIDs, h)
		adds = append(adds, mutate.Addendum{Layer: layer})
	}
	img, err := mutate.Append(img, adds...)
	if err != nil {
		return nil, err
	}
	return mutate.ConfigFile(img, cf)
}

// RunCommand implements task.Builder.
func (b *Builder) RunCommand(ctx context.Context, req task.CommandRequest) error {
	log := newBuildLog(req.Log, nil)
	ref, err := name.ParseReference(req.Image)
	if err != nil {
		return errdefs.Newf(errdefs.InvalidArgument, "RunFailed", "%q is not an image reference", req.Image)
	}
	cred, err := credentials(ctx, req.Auth, ref.Context().RegistryStr())
	if err != nil {
		return errdefs.Internalf(err, "credentials for %s", ref.Context().RegistryStr())
	}
	img, release, err := b.pull(ctx, req.Image, cred)
	if err != nil {
		return errdefs.Newf(errdefs.InvalidArgument, "RunFailed", "%s", imageMessage(err))
	}
	defer release()
	args := req.Args
	if len(args) == 0 {
		args = append(append([]string(nil), img.Config.Entrypoint...), img.Config.Cmd...)
	}
	if len(args) == 0 {
		return errdefs.Newf(errdefs.InvalidArgument, "RunFailed", "no command given and the image %s has no entrypoint or cmd", req.Image)
	}
	env := append([]string(nil), img.Config.Env...)
	for _, e := range req.Env {
		k, v, _ := strings.Cut(e, "=")
		env = setEnv(env, k, v)
	}
	env = withPath(env)
	upper, err := b.cache.newDir("run-")
	if err != nil {
		return errdefs.Internalf(err, "run scratch dir")
	}
	defer func() { _ = os.RemoveAll(upper) }()
	out := log.stream()
	code, err := b.exec.Execute(ctx, task.ExecRequest{
		ID: "run-" + newID(), Layers: img.Layers, Upper: upper, Args: args, Env: env,
		WorkingDir: img.Config.WorkingDir, User: img.Config.User, Network: req.Network,
		Stdout: out, Stderr: out,
	})
	out.flush()
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return errdefs.Internalf(err, "running %s", req.Image)
	}
	if code != 0 {
		return errdefs.Newf(errdefs.InvalidArgument, "RunFailed", "the command exited with code %d", code)
	}
	return nil
}

// pull resolves and unpacks an image through the image cache, held until
// release.
func (b *Builder) pull(ctx context.Context, ref string, cred *containergroup.Credential) (containergroup.Image, func(), error) {
	ri, err := b.images.Resolve(ctx, ref, cred)
	if err != nil {
		return containergroup.Image{}, nil, err
	}
	release := b.images.Hold(ri.Digest)
	img, err := b.images.Pull(ctx, ri, cred)
	if err == nil {
		err = b.verifyImage(ctx, ri.DigestRef, cred)
	}
	if err != nil {
		release()
		return containergroup.Image{}, nil, err
	}
	return img, release, nil
}

func imageMessage(err error) string {
	if se, ok := errors.AsType[*stepErr](err); ok {
		return se.msg
	}
	if ie, ok := errors.AsType[*containergroup.ImageError](err); ok {
		return ie.Message
	}
	if e, ok := errors.AsType[*errdefs.Error](err); ok {
		return e.Message
	}
	return "the image could not be pulled"
}

// defaultPath is BuildKit's (and Docker's) PATH for images without one.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

func withPath(env []string) []string {
	for _, e := range env {
		if strings.HasPrefix(e, "PATH=") {
			return env
		}
	}
	return append(env, "PATH="+defaultPath)
}

func setEnv(env []string, k, v string) []string {
	for i, e := range env {
		if ek, _, _ := strings.Cut(e, "="); ek == k {
			env[i] = k + "=" + v
			return env
		}
	}
	return append(env, k+"="+v)
}
