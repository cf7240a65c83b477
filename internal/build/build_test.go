package build

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/task"
)

const multiStage = `# syntax=docker/dockerfile:1
ARG BASE
FROM ${BASE} AS build
ARG GREETING=hello
ENV FOO=bar
WORKDIR /work
RUN echo "$GREETING $FOO from $FROM_BASE" > out.txt && rm /bin/tr && mkdir -p /tmp/x && touch /tmp/x/y
COPY files/ ./files/
COPY --chown=app:staff --chmod=600 secret.txt /work/
FROM scratch
COPY --from=build /work/out.txt /out.txt
COPY --from=build /work/files /files
CMD ["/out"]
`

func (r *testRegistry) build(t *testing.T, ctxDir, dockerfile string, mod func(*task.BuildRequest)) (task.BuildResult, string, error) {
	t.Helper()
	must(t, writeFile(ctxDir, "Dockerfile", dockerfile))
	var logs syncBuffer
	req := task.BuildRequest{
		ContextDir: ctxDir, Dockerfile: "Dockerfile", Push: true, Log: &logs,
		Images: []string{r.host + "/app:v1"},
		Args:   []task.BuildArg{{Name: "BASE", Value: r.host + "/base:v1"}},
		Auth: func(context.Context, string) (string, string, bool, error) {
			return "", "", false, nil
		},
	}
	if mod != nil {
		mod(&req)
	}
	res, err := r.b.Build(context.Background(), req)
	return res, logs.String(), err
}

func TestBuildMultiStageCachedAndReproducible(t *testing.T) {
	needRoot(t)
	r := newTestRegistry(t)
	r.push(t, "base:v1", busybox(t))
	ctxDir := writeContext(t, map[string]string{
		"files/a.txt": "A", "files/sub/b.txt": "B", "secret.txt": "s3cret",
	})

	res, logs, err := r.build(t, ctxDir, multiStage, nil)
	if err != nil {
		t.Fatalf("build: %v\n%s", err, logs)
	}
	for _, want := range []string{"Step 1/11 : FROM ${BASE} AS build", "Step 5/11 : RUN echo", "Step 9/11 : COPY --from=build /work/out.txt /out.txt", "Successfully built", "pushing " + r.host + "/app:v1"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	if len(res.Images) != 1 || res.Images[0].Registry != r.host || res.Images[0].Repository != "app" || res.Images[0].Tag != "v1" || !strings.HasPrefix(res.Images[0].Digest, "sha256:") {
		t.Fatalf("result %+v", res)
	}
	img := r.pull(t, r.host+"/app@"+res.Images[0].Digest)
	files := imageFiles(t, img)
	if got := files["out.txt"]; got == nil || got.Linkname != "hello bar from yes\n" {
		t.Fatalf("out.txt = %+v", got)
	}
	for _, n := range []string{"files/", "files/a.txt", "files/sub/", "files/sub/b.txt"} {
		if files[n] == nil {
			t.Errorf("the image lacks %s (has %v)", n, keys(files))
		}
	}
	cf, err := img.ConfigFile()
	must(t, err)
	if !slices.Equal(cf.Config.Cmd, []string{"/out"}) || cf.OS != "linux" || cf.Architecture != "amd64" || cf.Config.WorkingDir != "/" {
		t.Errorf("config %+v", cf.Config)
	}
	if n := len(cf.RootFS.DiffIDs); n != 2 {
		t.Errorf("%d layers, want 2 (two COPY --from)", n)
	}

	// The build stage's layers: the RUN's whiteout, the chown/chmod.
	st := r.stageImage(t, ctxDir, "build")
	sf := imageFiles(t, st)
	if sf["bin/tr"] != nil || sf["bin/sh"] == nil || sf["tmp/x/y"] == nil {
		t.Errorf("RUN rm /bin/tr is not a whiteout in the build stage, or its files are missing: %v", keys(sf))
	}
	if h := sf["work/secret.txt"]; h == nil || h.Uid != 1000 || h.Gid != 50 || h.Mode != 0o600 {
		t.Errorf("secret.txt header %+v, want 1000:50 0600", h)
	}
	if h := sf["work/files/a.txt"]; h == nil || h.Uid != 0 || h.Mode != 0o644 {
		t.Errorf("a.txt header %+v, want root 0644", h)
	}

	// A second build reuses every layer and yields the same digest.
	calls := r.exec.calls.Load()
	res2, logs2, err := r.build(t, ctxDir, multiStage, nil)
	if err != nil {
		t.Fatalf("rebuild: %v\n%s", err, logs2)
	}
	if r.exec.calls.Load() != calls {
		t.Error("the rebuild ran a RUN again")
	}
	if n := strings.Count(logs2, " ---> Using cache"); n != 6 {
		t.Errorf("%d cache hits, want 6 (WORKDIR, RUN, 2 COPY, 2 COPY --from):\n%s", n, logs2)
	}
	if res2.Images[0].Digest != res.Images[0].Digest {
		t.Errorf("rebuild digest %s, first %s", res2.Images[0].Digest, res.Images[0].Digest)
	}

	// Without the cache every step runs again, and the layers are the
	// same bytes (mtimes clamped, entries sorted, fixed gzip header).
	before := layerDigests(t, r.stageImage(t, ctxDir, "build"))
	res3, logs3, err := r.build(t, ctxDir, multiStage, func(q *task.BuildRequest) { q.NoCache = true })
	if err != nil {
		t.Fatalf("no-cache build: %v\n%s", err, logs3)
	}
	if strings.Contains(logs3, "Using cache") || r.exec.calls.Load() == calls {
		t.Error("NoCache used the cache")
	}
	if res3.Images[0].Digest != res.Images[0].Digest {
		t.Errorf("no-cache digest %s, first %s", res3.Images[0].Digest, res.Images[0].Digest)
	}
	after := layerDigests(t, r.stageImage(t, ctxDir, "build"))
	if !slices.Equal(before, after) {
		t.Errorf("the build stage's layers differ without the cache:\n%v\n%v", before, after)
	}

	// A changed file invalidates that COPY and what follows only.
	must(t, writeFile(ctxDir, "files/a.txt", "changed"))
	_, logs4, err := r.build(t, ctxDir, multiStage, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(logs4, " ---> Using cache"); n != 3 {
		t.Errorf("%d cache hits after a change, want 3 (WORKDIR, RUN, the out.txt COPY --from):\n%s", n, logs4)
	}
}

// stageImage builds only the target stage, without pushing it elsewhere.
func (r *testRegistry) stageImage(t *testing.T, ctxDir, target string) v1.Image {
	t.Helper()
	res, logs, err := r.build(t, ctxDir, multiStage, func(q *task.BuildRequest) {
		q.Target, q.Images = target, []string{r.host + "/stage:" + target}
	})
	if err != nil {
		t.Fatalf("target %s: %v\n%s", target, err, logs)
	}
	return r.pull(t, r.host+"/stage@"+res.Images[0].Digest)
}

func layerDigests(t *testing.T, img v1.Image) []string {
	ls, err := img.Layers()
	must(t, err)
	var out []string
	for _, l := range ls {
		d, err := l.Digest()
		must(t, err)
		out = append(out, d.String())
	}
	return out
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestBuildConfigInstructions(t *testing.T) {
	needRoot(t)
	r := newTestRegistry(t)
	r.push(t, "base:v1", busybox(t))
	df := `ARG BASE
FROM $BASE
MAINTAINER someone
ARG V=1
ARG TOKEN
ENV W=${V}x PATH=/bin:/usr/bin
LABEL a=$W "b c"=d
EXPOSE 80 53/udp 8000-8001
VOLUME ["/data", "/cache"]
STOPSIGNAL SIGINT
HEALTHCHECK --interval=5s --retries=2 CMD ["true"]
USER 1000:1000
SHELL ["/bin/sh", "-ec"]
ENTRYPOINT echo hi
RUN echo "token=$TOKEN v=$V" && test "$(id -u)" = 1000
`
	res, logs, err := r.build(t, t.TempDir(), df, func(q *task.BuildRequest) {
		q.Args = append(q.Args, task.BuildArg{Name: "V", Value: "2"}, task.BuildArg{Name: "TOKEN", Value: "tok-very-secret", Secret: true})
	})
	if err != nil {
		t.Fatalf("build: %v\n%s", err, logs)
	}
	img := r.pull(t, r.host+"/app@"+res.Images[0].Digest)
	cf, err := img.ConfigFile()
	must(t, err)
	c := cf.Config
	if c.Labels["a"] != "2x" || c.Labels["b c"] != "d" {
		t.Errorf("labels %v", c.Labels)
	}
	if !slices.Contains(c.Env, "W=2x") || !slices.Contains(c.Env, "PATH=/bin:/usr/bin") || !slices.Contains(c.Env, "FROM_BASE=yes") {
		t.Errorf("env %v", c.Env)
	}
	if slices.ContainsFunc(c.Env, func(e string) bool { return strings.HasPrefix(e, "V=") || strings.HasPrefix(e, "TOKEN=") }) {
		t.Errorf("build args leaked into the config's env: %v", c.Env)
	}
	if len(c.ExposedPorts) != 4 {
		t.Errorf("ports %v", c.ExposedPorts)
	}
	for _, p := range []string{"80/tcp", "53/udp", "8000/tcp", "8001/tcp"} {
		if _, ok := c.ExposedPorts[p]; !ok {
			t.Errorf("ports %v lack %s", c.ExposedPorts, p)
		}
	}
	if len(c.Volumes) != 2 || c.StopSignal != "SIGINT" || c.User != "1000:1000" || cf.Author != "someone" {
		t.Errorf("volumes %v, stop signal %q, user %q, author %q", c.Volumes, c.StopSignal, c.User, cf.Author)
	}
	if c.Healthcheck == nil || !slices.Equal(c.Healthcheck.Test, []string{"CMD", "true"}) || c.Healthcheck.Retries != 2 || c.Healthcheck.Interval.Seconds() != 5 {
		t.Errorf("healthcheck %+v", c.Healthcheck)
	}
	if !slices.Equal(c.Shell, []string{"/bin/sh", "-ec"}) || !slices.Equal(c.Entrypoint, []string{"/bin/sh", "-ec", "echo hi"}) || c.Cmd != nil {
		t.Errorf("shell %v entrypoint %v cmd %v", c.Shell, c.Entrypoint, c.Cmd)
	}
	if !strings.Contains(logs, "token=*** v=2") {
		t.Errorf("the RUN output is missing or unmasked:\n%s", logs)
	}
	raw, err := img.RawConfigFile()
	must(t, err)
	if strings.Contains(logs, "tok-very-secret") || strings.Contains(string(raw), "tok-very-secret") {
		t.Error("the secret build arg reached the log or the image")
	}
	last := cf.History[len(cf.History)-1]
	if last.EmptyLayer || !strings.HasPrefix(last.CreatedBy, "RUN |2 V=2 TOKEN=*** /bin/sh -ec echo") {
		t.Errorf("RUN history %+v", last)
	}
	if h := cf.History[len(cf.History)-2]; !h.EmptyLayer || !strings.HasPrefix(h.CreatedBy, "ENTRYPOINT") {
		t.Errorf("ENTRYPOINT history %+v", h)
	}
}

func TestBuildErrorsNameInstructionAndLine(t *testing.T) {
	needRoot(t)
	r := newTestRegistry(t)
	r.push(t, "base:v1", busybox(t))
	cases := []struct {
		name, dockerfile, want string
	}{
		{"unknown instruction", "ARG BASE\nFROM $BASE\nFOO bar\n", "line 3: unknown instruction: FOO"},
		{"onbuild", "ARG BASE\nFROM $BASE\n\nONBUILD RUN true\n", "line 4: the instruction ONBUILD is not supported"},
		{"run exit code", "ARG BASE\nFROM $BASE\nRUN true\nRUN exit 3\n", "step 3/3 (RUN at line 4): process \"/bin/sh -c exit 3\" did not complete successfully: exit code: 3"},
		{"missing source", "ARG BASE\nFROM $BASE\nCOPY nothere /x\n", "(COPY at line 3): failed to compute cache key: \"nothere\" not found in build context"},
		{"add url", "FROM scratch\nADD https://example.com/x /x\n", "(ADD at line 2): ADD of a URL (https://example.com/x) is not supported"},
		{"run mount", "ARG BASE\nFROM $BASE\nRUN --mount=type=cache,target=/c true\n", "(RUN at line 3): RUN --mount is not supported"},
		{"heredoc", "ARG BASE\nFROM $BASE\nRUN <<EOF\ntrue\nEOF\n", "line 3: heredocs (<<EOF) are not supported"},
		{"copy link", "FROM scratch\nCOPY --link a /a\n", "(COPY at line 2): COPY --link, --parents and --exclude are not supported"},
		{"no image", "FROM " + "127.0.0.1:1/nothing:v1\n", "(FROM at line 1): "},
		{"bad stage copy", "FROM scratch AS a\nCOPY --from=c /x /x\nFROM scratch AS c\nCOPY --from=a /x /y\n", "cannot copy from stage \"c\""},
		{"unknown target", "FROM scratch AS a\n", "target stage \"nope\" could not be found"},
		{"bad chmod", "FROM scratch\nCOPY --chmod=u+x a /a\n", "invalid chmod parameter"},
		{"unknown chown user", "ARG BASE\nFROM $BASE\nCOPY --chown=nobody a /a\n", "unable to find user nobody"},
		{"bad platform", "FROM --platform=linux/arm64 scratch\n", "--platform=linux/arm64 is not supported"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctxDir := writeContext(t, map[string]string{"a": "a"})
			_, logs, err := r.build(t, ctxDir, c.dockerfile, func(q *task.BuildRequest) {
				if c.name == "unknown target" {
					q.Target = "nope"
				}
			})
			if err == nil {
				t.Fatalf("built:\n%s", logs)
			}
			if !errdefs.IsKind(err, errdefs.InvalidArgument) {
				t.Fatalf("error kind %v: %v", errdefs.KindOf(err), err)
			}
			if e, _ := errors.AsType[*errdefs.Error](err); !strings.Contains(e.Message, c.want) {
				t.Fatalf("error %q lacks %q", e.Message, c.want)
			}
		})
	}
}

func TestBuildTargetAndNoPush(t *testing.T) {
	needRoot(t)
	r := newTestRegistry(t)
	r.push(t, "base:v1", busybox(t))
	ctxDir := writeContext(t, map[string]string{"files/a.txt": "A", "secret.txt": "s"})
	res, logs, err := r.build(t, ctxDir, multiStage, func(q *task.BuildRequest) { q.Push, q.Target = false, "build" })
	if err != nil {
		t.Fatalf("%v\n%s", err, logs)
	}
	if len(res.Images) != 0 || strings.Contains(logs, "pushing") {
		t.Errorf("a build without push pushed: %+v\n%s", res, logs)
	}
	if strings.Contains(logs, "FROM scratch") {
		t.Errorf("--target build ran the last stage:\n%s", logs)
	}
}

func writeFile(dir, name, content string) error {
	return writeFileMode(dir, name, content, 0o644)
}
