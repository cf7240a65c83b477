package task_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cerulean/cerulean/internal/blob/fileblob"
	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/principal"
	"github.com/cerulean/cerulean/internal/registry"
	"github.com/cerulean/cerulean/internal/resource"
	"github.com/cerulean/cerulean/internal/resourceid"
	"github.com/cerulean/cerulean/internal/store/sqlstore"
	"github.com/cerulean/cerulean/internal/task"
)

// fakeBuilder stands in for internal/build: it checks what the domain
// hands it and does what the test says.
type fakeBuilder struct {
	mu       sync.Mutex
	builds   []task.BuildRequest
	commands []task.CommandRequest
	context  map[string]string // the extracted context's files, read at Build
	started  chan struct{}     // closed-over signal: a build or command began
	// behaviour: "", "fail", "internal", "block", "deadline", "secret"
	mode string
}

func (b *fakeBuilder) Build(ctx context.Context, req task.BuildRequest) (task.BuildResult, error) {
	b.mu.Lock()
	b.builds = append(b.builds, req)
	b.context = map[string]string{}
	_ = filepath.WalkDir(req.ContextDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			data, _ := os.ReadFile(p)
			rel, _ := filepath.Rel(req.ContextDir, p)
			b.context[rel] = string(data)
		}
		return nil
	})
	b.mu.Unlock()
	_, _ = io.WriteString(req.Log, "Step 1/2 : FROM scratch\n")
	return task.BuildResult{}, b.behave(ctx, req.Log, func() {})
}

func (b *fakeBuilder) behave(ctx context.Context, log io.Writer, _ func()) error {
	if b.started != nil {
		b.started <- struct{}{}
	}
	switch b.mode {
	case "fail":
		_, _ = io.WriteString(log, "RUN false\nexit status 1\n")
		return errdefs.New(errdefs.InvalidArgument, "BuildFailed", "RUN false (line 2) exited with code 1")
	case "internal":
		return errors.New("disk on fire")
	case "block":
		<-ctx.Done()
		return ctx.Err()
	case "deadline":
		return fmt.Errorf("pull: %w", context.DeadlineExceeded)
	case "secret":
		_, _ = io.WriteString(log, "the token is s3cr3t-value, twice: s3cr3t-value\n")
	}
	return nil
}

func (b *fakeBuilder) RunCommand(ctx context.Context, req task.CommandRequest) error {
	b.mu.Lock()
	b.commands = append(b.commands, req)
	b.mu.Unlock()
	_, _ = io.WriteString(req.Log, "Hello from the container\r\nno newline at the end")
	return b.behave(ctx, req.Log, func() {})
}

type fakeRegistries struct{ reg registry.Registry }

func (f fakeRegistries) Get(_ context.Context, group resourceid.ID, name string) (registry.Registry, error) {
	if !strings.EqualFold(name, f.reg.Name) {
		return registry.Registry{}, registry.ErrRegistryNotFound
	}
	return f.reg, nil
}

func (f fakeRegistries) ByName(_ context.Context, name string) (registry.Registry, error) {
	return f.Get(context.Background(), resourceid.ID{}, name)
}

type fakeCreds struct{}

func (fakeCreds) ForCaller(_ context.Context, c task.Caller, host string) (string, string, bool, error) {
	if host != "myreg.azurecr.test" {
		return "", "", false, nil
	}
	return "00000000-0000-0000-0000-000000000000", "token-for-" + c.Principal.ObjectID, true, nil
}

type env struct {
	svc     *task.Service
	st      *sqlstore.Store
	builder *fakeBuilder
	group   resourceid.ID
	reg     registry.Registry
	caller  task.Caller
}

func newEnv(t *testing.T, mode string) *env {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	st, err := sqlstore.Open(ctx, filepath.Join(dir, "db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	blobs, err := fileblob.New(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	tenant := identity.Tenant{ID: "11111111-1111-4111-8111-111111111111", DisplayName: "t", CreatedAt: time.Now()}
	must(t, st.Identity().CreateTenant(ctx, tenant))
	sub := resource.Subscription{ID: "22222222-2222-4222-8222-222222222222", TenantID: tenant.ID, DisplayName: "s", State: "Enabled", CreatedAt: time.Now()}
	must(t, st.Resources().CreateSubscription(ctx, sub))
	_, _, err = st.Resources().PutGroup(ctx, sub.ID, "rg", func(*resource.Group) (resource.Group, error) {
		return resource.Group{SubscriptionID: sub.ID, Name: "rg", Location: "eastus", ProvisioningState: "Succeeded", CreatedAt: time.Now(), ChangedAt: time.Now()}, nil
	})
	must(t, err)
	reg := registry.Registry{
		ID: resourceid.ForResource(sub.ID, "rg", "Microsoft.ContainerRegistry", "registries", "MyReg"), Name: "MyReg",
		Location: "eastus", SKU: registry.SKUBasic, LoginServer: "myreg.azurecr.test", ProvisioningState: "Succeeded",
		InstanceID: "0123456789abcdef0123456789abcdef", CreatedAt: time.Now(), ChangedAt: time.Now(),
	}
	must(t, st.Registry().CreateRegistry(ctx, reg))
	b := &fakeBuilder{mode: mode}
	svc := task.NewService(task.Config{
		Store: st.Tasks(), Blobs: blobs, Registries: fakeRegistries{reg}, Builder: b, Credentials: fakeCreds{},
		ServerID: "server-a", WorkDir: filepath.Join(dir, "work"), SASKey: bytes.Repeat([]byte{7}, 32),
	})
	t.Cleanup(svc.Wait)
	return &env{
		svc: svc, st: st, builder: b, group: resourceid.ForResourceGroup(sub.ID, "rg"), reg: reg,
		caller: task.Caller{Principal: principal.Principal{ObjectID: "caller-oid", TenantID: tenant.ID}, KeyID: "key1"},
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// contextArchive is a build context as az packs it.
func contextArchive(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	must(t, tw.WriteHeader(&tar.Header{Name: "/", Typeflag: tar.TypeDir, Mode: 0o755, Format: tar.FormatPAX}))
	for name, body := range files {
		must(t, tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(body)), Format: tar.FormatPAX}))
		_, err := tw.Write([]byte(body))
		must(t, err)
	}
	must(t, tw.Close())
	must(t, zw.Close())
	return buf.Bytes()
}

// upload uploads a context as az does and returns its relative path.
func (e *env) upload(t *testing.T, data []byte) string {
	t.Helper()
	g, err := e.svc.SourceUploadURL(t.Context(), e.group, "myreg")
	must(t, err)
	if !regexp.MustCompile(`^source/\d{12}/[0-9a-f]{32}\.tar\.gz$`).MatchString(g.Path) || g.Container != "myreg" {
		t.Fatalf("upload grant %+v", g)
	}
	q, err := url.ParseQuery(g.Query)
	must(t, err)
	ref, err := e.svc.AuthorizeBlob(t.Context(), g.Container, g.Path, q, true)
	must(t, err)
	_, err = e.svc.PutSource(t.Context(), ref, bytes.NewReader(data))
	must(t, err)
	return g.Path
}

// logOf reads a run's whole log through its blob URL.
func (e *env) logOf(t *testing.T, id string) (string, task.BlobProps) {
	t.Helper()
	g, err := e.svc.LogURL(t.Context(), e.group, "myreg", id)
	must(t, err)
	q, _ := url.ParseQuery(g.Query)
	ref, err := e.svc.AuthorizeBlob(t.Context(), g.Container, g.Path, q, false)
	must(t, err)
	data, props, err := e.svc.ReadBlob(t.Context(), ref, 0, 1<<20)
	must(t, err)
	return string(data), props
}

var stamp = regexp.MustCompile(`^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} `)

func TestBuildSucceeds(t *testing.T) {
	e := newEnv(t, "")
	ctx := t.Context()
	src := e.upload(t, contextArchive(t, map[string]string{"Dockerfile": "FROM scratch\n", "app/main.txt": "hi"}))
	r, err := e.svc.ScheduleBuild(ctx, e.caller, e.group, "myreg", task.BuildSpec{
		SourceLocation: src, Dockerfile: "Dockerfile", Images: []string{"app:{{.Run.ID}}", "app:latest", "team/x"},
		Push: true, Args: []task.BuildArg{{Name: "A", Value: "1"}}, Platform: task.Platform{OS: "Linux", Architecture: "AMD64"},
	})
	must(t, err)
	if r.ID != "ca1" || r.Status != task.StatusQueued || r.Type != task.QuickBuild || r.Timeout != task.DefaultTimeout || r.Platform.OS != "linux" {
		t.Fatalf("scheduled %+v", r)
	}
	e.svc.Wait()
	got, err := e.svc.Get(ctx, e.group, "myreg", "ca1")
	must(t, err)
	if got.Status != task.StatusSucceeded || got.StartedAt.IsZero() || got.FinishedAt.Before(got.StartedAt) || got.LogComplete != "successful" {
		t.Fatalf("finished %+v", got)
	}
	req := e.builder.builds[0]
	want := []string{"myreg.azurecr.test/app:ca1", "myreg.azurecr.test/app:latest", "myreg.azurecr.test/team/x:latest"}
	if fmt.Sprint(req.Images) != fmt.Sprint(want) || !req.Push || req.Dockerfile != "Dockerfile" {
		t.Fatalf("build request %+v", req)
	}
	if e.builder.context["Dockerfile"] != "FROM scratch\n" || e.builder.context[filepath.Join("app", "main.txt")] != "hi" {
		t.Fatalf("extracted context %v", e.builder.context)
	}
	// The caller's own credentials for this server's registry, none elsewhere.
	if u, p, ok, err := req.Auth(ctx, "myreg.azurecr.test"); !ok || err != nil || p != "token-for-caller-oid" || u == "" {
		t.Fatalf("auth for the registry: %s %s %v %v", u, p, ok, err)
	}
	if _, _, ok, _ := req.Auth(ctx, "docker.io"); ok {
		t.Fatal("credentials for another host")
	}
	if _, err := os.Stat(filepath.Dir(req.ContextDir)); !os.IsNotExist(err) {
		t.Fatalf("the run directory was left behind: %v", err)
	}
	log, props := e.logOf(t, "ca1")
	if !strings.HasSuffix(log, "\r\n\r\nRun ID: ca1 was successful after 0s\r\n") || props.Complete != "successful" || props.Size != int64(len(log)) {
		t.Fatalf("log %q, props %+v", log, props)
	}
	lines := strings.Split(strings.TrimSuffix(log, "\r\n"), "\r\n")
	for _, l := range lines {
		if strings.Contains(l, "\n") {
			t.Fatalf("a line with a bare LF: %q", l)
		}
	}
	if !stamp.MatchString(lines[0]) || !strings.Contains(log, "\r\nStep 1/2 : FROM scratch\r\n") {
		t.Fatalf("log lines %q", lines)
	}
	// acr-builder's order: the registry login, then the build step.
	var order []string
	for _, l := range lines {
		for _, p := range []string{"Logging in to registry: myreg.azurecr.test", "Successfully logged into myreg.azurecr.test", "Executing step ID: build.", "Step 1/2"} {
			if strings.Contains(l, p) {
				order = append(order, p)
			}
		}
	}
	if len(order) != 4 || order[0] != "Logging in to registry: myreg.azurecr.test" || order[3] != "Step 1/2" || order[2] != "Executing step ID: build." {
		t.Fatalf("log lines in the order %q", order)
	}

	// The next run is ca2, and the list is newest first.
	r2, err := e.svc.ScheduleBuild(ctx, e.caller, e.group, "myreg", task.BuildSpec{SourceLocation: src})
	must(t, err)
	e.svc.Wait()
	if r2.ID != "ca2" || len(e.builder.builds[1].Images) != 0 || e.builder.builds[1].Dockerfile != "Dockerfile" {
		t.Fatalf("second run %+v, request %+v", r2, e.builder.builds[1])
	}
	runs, err := e.svc.List(ctx, e.group, "myreg", task.RunFilter{Top: 15})
	must(t, err)
	if len(runs) != 2 || runs[0].ID != "ca2" || runs[1].ID != "ca1" {
		t.Fatalf("runs %v", runs)
	}
}

func TestBuildRequestErrors(t *testing.T) {
	e := newEnv(t, "")
	ctx := t.Context()
	src := e.upload(t, contextArchive(t, map[string]string{"Dockerfile": "FROM scratch\n"}))
	for name, spec := range map[string]task.BuildSpec{
		"missing source": {SourceLocation: "source/202601010000/00000000000000000000000000000000.tar.gz"},
		"foreign source": {SourceLocation: "https://example.com/ctx.tar.gz"},
		"bad template":   {SourceLocation: src, Images: []string{"app:{{.Run.Nope}}"}},
		"other registry": {SourceLocation: src, Images: []string{"docker.io/library/app:1"}},
		"escaping file":  {SourceLocation: src, Dockerfile: "../Dockerfile"},
		"absolute file":  {SourceLocation: src, Dockerfile: "/etc/passwd"},
		"windows":        {SourceLocation: src, Platform: task.Platform{OS: "windows"}},
		"arm64":          {SourceLocation: src, Platform: task.Platform{OS: "linux", Architecture: "arm64"}},
		"short timeout":  {SourceLocation: src, Timeout: 10},
		"nameless arg":   {SourceLocation: src, Args: []task.BuildArg{{Value: "x"}}},
	} {
		if _, err := e.svc.ScheduleBuild(ctx, e.caller, e.group, "myreg", spec); !errdefs.IsKind(err, errdefs.InvalidArgument) {
			t.Errorf("%s: %v, want InvalidArgument", name, err)
		}
	}
	if _, err := e.svc.ScheduleBuild(ctx, e.caller, e.group, "nosuch", task.BuildSpec{SourceLocation: src}); !errdefs.IsKind(err, errdefs.NotFound) {
		t.Errorf("missing registry: %v", err)
	}
	// None of them took a run number.
	r, err := e.svc.ScheduleBuild(ctx, e.caller, e.group, "myreg", task.BuildSpec{SourceLocation: src})
	must(t, err)
	if r.ID != "ca1" {
		t.Fatalf("first valid run is %s", r.ID)
	}
}

func TestBuildOutcomes(t *testing.T) {
	for _, tt := range []struct {
		mode     string
		status   task.Status
		complete string
		last     string
	}{
		{"fail", task.StatusFailed, "failed", "Run ID: ca1 failed after 0s. Error: RUN false (line 2) exited with code 1"},
		{"internal", task.StatusError, "internalerror", "Run ID: ca1 failed after 0s. Error: an internal error occurred"},
		{"deadline", task.StatusTimeout, "timedout", "Run ID: ca1 failed after 0s. Error: the run timed out"},
	} {
		t.Run(tt.mode, func(t *testing.T) {
			e := newEnv(t, tt.mode)
			src := e.upload(t, contextArchive(t, map[string]string{"Dockerfile": "FROM scratch\nRUN false\n"}))
			_, err := e.svc.ScheduleBuild(t.Context(), e.caller, e.group, "myreg", task.BuildSpec{SourceLocation: src})
			must(t, err)
			e.svc.Wait()
			r, err := e.svc.Get(t.Context(), e.group, "myreg", "ca1")
			must(t, err)
			log, props := e.logOf(t, "ca1")
			if r.Status != tt.status || r.LogComplete != tt.complete || props.Complete != tt.complete || r.ErrorMessage == "" {
				t.Fatalf("run %+v", r)
			}
			if !strings.HasSuffix(log, "\r\n\r\n"+tt.last+"\r\n") {
				t.Fatalf("log %q", log)
			}
		})
	}
}

func TestBrokenContextFails(t *testing.T) {
	e := newEnv(t, "")
	src := e.upload(t, []byte("this is no gzip"))
	_, err := e.svc.ScheduleBuild(t.Context(), e.caller, e.group, "myreg", task.BuildSpec{SourceLocation: src})
	must(t, err)
	e.svc.Wait()
	r, _ := e.svc.Get(t.Context(), e.group, "myreg", "ca1")
	if r.Status != task.StatusFailed || len(e.builder.builds) != 0 || !strings.Contains(r.ErrorMessage, "failed to extract") {
		t.Fatalf("run %+v, builds %d", r, len(e.builder.builds))
	}
}

func TestSecretsStayOutOfTheLog(t *testing.T) {
	e := newEnv(t, "secret")
	src := e.upload(t, contextArchive(t, map[string]string{"Dockerfile": "FROM scratch\n"}))
	_, err := e.svc.ScheduleBuild(t.Context(), e.caller, e.group, "myreg", task.BuildSpec{
		SourceLocation: src, Args: []task.BuildArg{{Name: "TOKEN", Value: "s3cr3t-value", Secret: true}},
	})
	must(t, err)
	e.svc.Wait()
	log, _ := e.logOf(t, "ca1")
	if strings.Contains(log, "s3cr3t") || !strings.Contains(log, "the token is *****, twice: *****") {
		t.Fatalf("log %q", log)
	}
}

func TestCancel(t *testing.T) {
	e := newEnv(t, "block")
	e.builder.started = make(chan struct{}, 1)
	src := e.upload(t, contextArchive(t, map[string]string{"Dockerfile": "FROM scratch\n"}))
	_, err := e.svc.ScheduleBuild(t.Context(), e.caller, e.group, "myreg", task.BuildSpec{SourceLocation: src})
	must(t, err)
	<-e.builder.started
	r, err := e.svc.Get(t.Context(), e.group, "myreg", "ca1")
	must(t, err)
	if r.Status != task.StatusRunning || r.StartedAt.IsZero() {
		t.Fatalf("running run %+v", r)
	}
	_, err = e.svc.Cancel(t.Context(), e.group, "myreg", "ca1")
	must(t, err)
	e.svc.Wait()
	r, _ = e.svc.Get(t.Context(), e.group, "myreg", "ca1")
	log, props := e.logOf(t, "ca1")
	if r.Status != task.StatusCanceled || props.Complete != "canceled" || !strings.HasSuffix(log, "Run ID: ca1 was canceled after 0s\r\n") {
		t.Fatalf("run %+v, log %q", r, log)
	}
	// Canceling a finished run changes nothing.
	r2, err := e.svc.Cancel(t.Context(), e.group, "myreg", "ca1")
	if err != nil || r2.Status != task.StatusCanceled {
		t.Fatalf("cancel again: %+v, %v", r2, err)
	}
	if _, err := e.svc.Cancel(t.Context(), e.group, "myreg", "ca9"); !errdefs.IsKind(err, errdefs.NotFound) {
		t.Fatalf("cancel a missing run: %v", err)
	}
}

func encodeTask(yaml string) string { return base64.StdEncoding.EncodeToString([]byte(yaml)) }

func TestQuickRun(t *testing.T) {
	e := newEnv(t, "")
	ctx := t.Context()
	r, err := e.svc.ScheduleRun(ctx, e.caller, e.group, "myreg", task.CommandSpec{
		EncodedTask: encodeTask("version: v1.1.0\nsteps: \n  - cmd: -e X=1 -v /a:/b $Registry/busybox:latest echo {{.Run.ID}} {{.Values.who}}\n    disableWorkingDirectoryOverride: true\n"),
		Values:      []task.BuildArg{{Name: "who", Value: "world"}},
	})
	must(t, err)
	e.svc.Wait()
	if r.Type != task.QuickRun {
		t.Fatalf("run %+v", r)
	}
	c := e.builder.commands[0]
	if c.Image != "myreg.azurecr.test/busybox:latest" || fmt.Sprint(c.Args) != "[echo ca1 world]" || fmt.Sprint(c.Env) != "[X=1]" || c.Network {
		t.Fatalf("command %+v", c)
	}
	log, props := e.logOf(t, "ca1")
	for _, want := range []string{"Logging in to registry: myreg.azurecr.test", "Executing step ID: acb_step_0", "Ignoring the docker run option -v",
		"\r\nHello from the container\r\nno newline at the end\r\n", "Step ID: acb_step_0 marked as successful", "\r\n\r\nRun ID: ca1 was successful after 0s\r\n"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if props.Complete != "successful" {
		t.Fatalf("props %+v", props)
	}
	for name, yaml := range map[string]string{
		"build step": "steps:\n  - build: -t x .\n",
		"no image":   "steps:\n  - cmd: --rm\n",
		"bad quote":  "steps:\n  - cmd: img 'x\n",
	} {
		if _, err := e.svc.ScheduleRun(ctx, e.caller, e.group, "myreg", task.CommandSpec{EncodedTask: encodeTask(yaml)}); !errdefs.IsKind(err, errdefs.InvalidArgument) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// A step's own timeout ends the run as Timeout, by the clock.
func TestQuickRunStepTimeout(t *testing.T) {
	e := newEnv(t, "block")
	_, err := e.svc.ScheduleRun(t.Context(), e.caller, e.group, "myreg", task.CommandSpec{
		EncodedTask: encodeTask("steps:\n  - cmd: busybox sleep 100\n    timeout: 1\n"),
	})
	must(t, err)
	e.svc.Wait()
	r, _ := e.svc.Get(t.Context(), e.group, "myreg", "ca1")
	if r.Status != task.StatusTimeout || r.LogComplete != "timedout" {
		t.Fatalf("run %+v", r)
	}
}

func TestReapDeadServersRuns(t *testing.T) {
	e := newEnv(t, "")
	ctx := t.Context()
	// A run another server queued before it died, and one of this
	// server's previous life.
	for i, server := range []string{"server-dead", "server-a"} {
		n, err := e.st.Tasks().NextRunSeq(ctx, "myreg")
		must(t, err)
		now := time.Now()
		must(t, e.st.Tasks().CreateRun(ctx, task.Run{Registry: "myreg", ID: fmt.Sprintf("ca%d", n), Seq: n, Type: task.QuickBuild,
			Status: []task.Status{task.StatusRunning, task.StatusQueued}[i], Server: server, CreatedAt: now, StartedAt: now, UpdatedAt: now, Timeout: 3600}))
	}
	e.svc.Reap(ctx)
	for _, id := range []string{"ca1", "ca2"} {
		r, _ := e.svc.Get(ctx, e.group, "myreg", id)
		log, props := e.logOf(t, id)
		if r.Status != task.StatusError || props.Complete != "internalerror" || !strings.Contains(log, "Error: the server running the run stopped") {
			t.Fatalf("%s: %+v, log %q", id, r, log)
		}
	}
}

func TestSAS(t *testing.T) {
	e := newEnv(t, "")
	ctx := t.Context()
	g, err := e.svc.SourceUploadURL(ctx, e.group, "myreg")
	must(t, err)
	good, _ := url.ParseQuery(g.Query)
	tamper := func(k, v string) url.Values {
		q := url.Values{}
		for kk, vv := range good {
			q[kk] = vv
		}
		q.Set(k, v)
		return q
	}
	for name, c := range map[string]struct {
		container, path string
		q               url.Values
		write           bool
		reason          string
	}{
		"signature":      {"myreg", g.Path, tamper("sig", "AAAA"), true, "AuthenticationFailed"},
		"permissions":    {"myreg", g.Path, tamper("sp", "rwd"), true, "AuthenticationFailed"},
		"expiry":         {"myreg", g.Path, tamper("se", "2999-01-01T00:00:00Z"), true, "AuthenticationFailed"},
		"other path":     {"myreg", strings.Replace(g.Path, "source/", "source/1", 1), good, true, "AuthenticationFailed"},
		"other registry": {"otherreg", g.Path, good, true, "AuthenticationFailed"},
		"missing sig":    {"myreg", g.Path, url.Values{"sp": {"rw"}, "se": good["se"]}, true, "AuthenticationFailed"},
	} {
		_, err := e.svc.AuthorizeBlob(ctx, c.container, c.path, c.q, c.write)
		if errdefs.As(err).Reason != c.reason {
			t.Errorf("%s: %v, want %s", name, err, c.reason)
		}
	}
	// A log URL reads but never writes.
	src := e.upload(t, contextArchive(t, map[string]string{"Dockerfile": "FROM scratch\n"}))
	_, err = e.svc.ScheduleBuild(ctx, e.caller, e.group, "myreg", task.BuildSpec{SourceLocation: src})
	must(t, err)
	e.svc.Wait()
	lg, err := e.svc.LogURL(ctx, e.group, "myreg", "ca1")
	must(t, err)
	lq, _ := url.ParseQuery(lg.Query)
	if _, err := e.svc.AuthorizeBlob(ctx, lg.Container, lg.Path, lq, true); errdefs.As(err).Reason != "AuthorizationPermissionMismatch" {
		t.Errorf("writing with a read SAS: %v", err)
	}
	// An expired SAS is refused.
	late := task.NewService(task.Config{
		Store: e.st.Tasks(), Registries: fakeRegistries{e.reg}, SASKey: bytes.Repeat([]byte{7}, 32),
		Now: func() time.Time { return time.Now().Add(25 * time.Hour) },
	})
	if _, err := late.AuthorizeBlob(ctx, lg.Container, lg.Path, lq, false); errdefs.As(err).Reason != "AuthenticationFailed" || !strings.Contains(err.Error(), "expiry") {
		t.Errorf("an expired SAS: %v", err)
	}
}

func TestBlockUpload(t *testing.T) {
	e := newEnv(t, "")
	ctx := t.Context()
	g, err := e.svc.SourceUploadURL(ctx, e.group, "myreg")
	must(t, err)
	q, _ := url.ParseQuery(g.Query)
	ref, err := e.svc.AuthorizeBlob(ctx, g.Container, g.Path, q, true)
	must(t, err)
	if _, err := e.svc.StatBlob(ctx, ref); !errdefs.IsKind(err, errdefs.NotFound) {
		t.Fatalf("stat before upload: %v", err)
	}
	data := contextArchive(t, map[string]string{"Dockerfile": strings.Repeat("# padding\n", 5000) + "FROM scratch\n"})
	third := len(data) / 3
	parts := map[string][]byte{"QUFB": data[:third], "QkJC": data[third : 2*third], "Q0ND": data[2*third:]}
	for _, id := range []string{"Q0ND", "QUFB", "QkJC"} { // any order, as two connections upload
		must(t, e.svc.PutSourceBlock(ctx, ref, id, bytes.NewReader(parts[id])))
	}
	if _, err := e.svc.CommitSourceBlocks(ctx, ref, []string{"QUFB", "nope"}); !errdefs.IsKind(err, errdefs.InvalidArgument) {
		t.Fatalf("commit of an unknown block: %v", err)
	}
	props, err := e.svc.CommitSourceBlocks(ctx, ref, []string{"QUFB", "QkJC", "Q0ND"})
	must(t, err)
	if props.Size != int64(len(data)) || props.ETag == "" {
		t.Fatalf("props %+v", props)
	}
	got, _, err := e.svc.ReadBlob(ctx, ref, 0, props.Size)
	must(t, err)
	if !bytes.Equal(got, data) {
		t.Fatal("the committed blob differs from its blocks")
	}
	_, err = e.svc.ScheduleBuild(ctx, e.caller, e.group, "myreg", task.BuildSpec{SourceLocation: g.Path})
	must(t, err)
	e.svc.Wait()
	if r, _ := e.svc.Get(ctx, e.group, "myreg", "ca1"); r.Status != task.StatusSucceeded {
		t.Fatalf("build of a block upload: %+v", r)
	}
}

// A run whose server is gone is canceled by whoever asks, log and all.
func TestCancelOrphan(t *testing.T) {
	e := newEnv(t, "")
	ctx := t.Context()
	n, err := e.st.Tasks().NextRunSeq(ctx, "myreg")
	must(t, err)
	now := time.Now()
	must(t, e.st.Tasks().CreateRun(ctx, task.Run{Registry: "myreg", ID: fmt.Sprintf("ca%d", n), Seq: n, Type: task.QuickRun,
		Status: task.StatusQueued, Server: "server-gone", CreatedAt: now, UpdatedAt: now, Timeout: 3600}))
	r, err := e.svc.Cancel(ctx, e.group, "myreg", "ca1")
	must(t, err)
	log, props := e.logOf(t, "ca1")
	if r.Status != task.StatusCanceled || props.Complete != "canceled" || !strings.HasSuffix(log, "Run ID: ca1 was canceled after 0s\r\n") {
		t.Fatalf("run %+v, log %q", r, log)
	}
}
