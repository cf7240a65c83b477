package arm

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/cerulean/cerulean/api/arm"
	"github.com/cerulean/cerulean/internal/blob/fileblob"
	"github.com/cerulean/cerulean/internal/rbac"
	"github.com/cerulean/cerulean/internal/resourceid"
	"github.com/cerulean/cerulean/internal/server/servertest"
	"github.com/cerulean/cerulean/internal/task"
)

// taskBuilder is a Builder that pushes nothing and says so.
type taskBuilder struct {
	mu     sync.Mutex
	builds []task.BuildRequest
}

func (b *taskBuilder) Build(_ context.Context, req task.BuildRequest) (task.BuildResult, error) {
	b.mu.Lock()
	b.builds = append(b.builds, req)
	b.mu.Unlock()
	_, _ = io.WriteString(req.Log, "Step 1/1 : FROM scratch\n")
	var out task.BuildResult
	for _, im := range req.Images {
		host, rest, _ := strings.Cut(im, "/")
		repo, tag, _ := strings.Cut(rest, ":")
		out.Images = append(out.Images, task.OutputImage{Registry: host, Repository: repo, Tag: tag, Digest: "sha256:" + strings.Repeat("ab", 32)})
	}
	return out, nil
}

func (b *taskBuilder) RunCommand(_ context.Context, req task.CommandRequest) error {
	_, _ = io.WriteString(req.Log, "hello\n")
	return nil
}

type tasksEnv struct {
	*env
	tasks   *task.Service
	builder *taskBuilder
	rg      resourceid.ID
}

const blobBase = "https://cerulean.blob.azurecr.test:8443"

// newTasksEnv serves registries with ACR Tasks, and makes the registry
// myreg in the group rg.
func newTasksEnv(t *testing.T) *tasksEnv {
	t.Helper()
	te := &tasksEnv{builder: &taskBuilder{}}
	te.env = newProviderEnv(t, func(s *servertest.Env) []ResourceType {
		regs := newRegistryService(t, s)
		blobs, err := fileblob.New(filepath.Join(t.TempDir(), "blobs"))
		if err != nil {
			t.Fatal(err)
		}
		te.tasks = task.NewService(task.Config{
			Store: s.Store.Tasks(), Blobs: blobs, Registries: regs, Builder: te.builder, ServerID: "s1",
			WorkDir: t.TempDir(), SASKey: bytes.Repeat([]byte{3}, 32), Logger: s.Logger,
		})
		t.Cleanup(te.tasks.Wait)
		return WithTasks(RegistriesTypes(regs), te.tasks, func(*http.Request) string { return blobBase })
	})
	te.rg = te.group(t, "rg")
	expect(t, te.do(t, http.MethodPut, registryPath(te.rg, "myreg"), te.owner.token, `{"location":"eastus","sku":{"name":"Basic"}}`), http.StatusCreated, "")
	return te
}

const apiTasks = "?api-version=2019-06-01-preview"

func (te *tasksEnv) path(suffix string) string {
	return te.rg.String() + "/providers/Microsoft.ContainerRegistry/registries/myreg/" + suffix
}

// upload uploads a context to the URL of listBuildSourceUploadUrl through
// the service (the blob surface has its own tests) and returns relativePath.
func (te *tasksEnv) upload(t *testing.T, tok string) string {
	t.Helper()
	r := te.do(t, http.MethodPost, te.path("listBuildSourceUploadUrl"+apiTasks), tok, nil)
	expect(t, r, http.StatusOK, "")
	var def arm.SourceUploadDefinition
	r.decode(t, &def)
	m := regexp.MustCompile(`^https://cerulean\.blob\.azurecr\.test:8443/myreg/(source/\d{12}/[0-9a-f]{32}\.tar\.gz)\?(.*sig=.*)$`).FindStringSubmatch(def.UploadURL)
	if m == nil || m[1] != def.RelativePath {
		t.Fatalf("upload definition %+v", def)
	}
	q, _ := url.ParseQuery(m[2])
	if q.Get("sp") != "rw" || q.Get("sr") != "b" || q.Get("se") == "" {
		t.Fatalf("SAS %v", q)
	}
	ref, err := te.tasks.AuthorizeBlob(t.Context(), "myreg", def.RelativePath, q, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := te.tasks.PutSource(t.Context(), ref, bytes.NewReader(gzipTar(t, "Dockerfile", "FROM scratch\n"))); err != nil {
		t.Fatal(err)
	}
	return def.RelativePath
}

// azBuildBody is what az 2.45 sends for `az acr build -r myreg -t myimage:{{.Run.ID}} --build-arg A=1 .`.
func azBuildBody(src string) string {
	return `{"type":"DockerBuildRequest","isArchiveEnabled":false,"imageNames":["myimage:{{.Run.ID}}"],"isPushEnabled":true,
		"noCache":false,"dockerFilePath":"0123456789abcdef0123456789abcdef_Dockerfile","arguments":[{"name":"A","value":"1","isSecret":false}],
		"platform":{"os":"linux","architecture":"amd64"},"sourceLocation":"` + src + `","credentials":{}}`
}

func TestTasksBuildRoutes(t *testing.T) {
	te := newTasksEnv(t)
	tok := te.owner.token
	src := te.upload(t, tok)
	r := te.do(t, http.MethodPost, te.path("scheduleRun"+apiTasks), tok, strings.Replace(azBuildBody(src), "0123456789abcdef0123456789abcdef_Dockerfile", "Dockerfile", 1))
	expect(t, r, http.StatusOK, "")
	for _, h := range []string{"Azure-AsyncOperation", "Location", "Operation-Location"} {
		if r.header.Get(h) != "" {
			t.Errorf("scheduleRun answered with %s", h)
		}
	}
	var run arm.Run
	r.decode(t, &run)
	runID := te.rg.String() + "/providers/Microsoft.ContainerRegistry/registries/myreg/runs/ca1"
	if run.ID != runID || run.Name != "ca1" || run.Type != "Microsoft.ContainerRegistry/registries/runs" ||
		run.Properties.RunID != "ca1" || run.Properties.Status != "Queued" || run.Properties.RunType != "QuickBuild" ||
		run.Properties.ProvisioningState != "Succeeded" || run.Properties.CreateTime == nil || run.Properties.LastUpdatedTime == nil ||
		run.Properties.Platform == nil || run.Properties.Platform.OS != "linux" {
		t.Fatalf("queued run %s", r.body)
	}
	te.tasks.Wait()
	if got := te.builder.builds[0]; got.Images[0] != "myreg.azurecr.localhost/myimage:ca1" || got.Args[0].Name != "A" {
		t.Fatalf("build request %+v", got)
	}

	r = te.do(t, http.MethodGet, te.path("runs/ca1"+apiTasks), tok, nil)
	expect(t, r, http.StatusOK, "")
	r.decode(t, &run)
	p := run.Properties
	if p.Status != "Succeeded" || p.StartTime == nil || p.FinishTime == nil || len(p.OutputImages) != 1 ||
		p.OutputImages[0].Repository != "myimage" || p.OutputImages[0].Tag != "ca1" || p.OutputImages[0].Registry != "myreg.azurecr.localhost" {
		t.Fatalf("finished run %s", r.body)
	}

	// A second run, then lists: newest first, $top, $filter.
	expect(t, te.do(t, http.MethodPost, te.path("scheduleRun"+apiTasks), tok, azBuildBody(src)), http.StatusOK, "")
	te.tasks.Wait()
	list := func(query string) []string {
		t.Helper()
		r := te.do(t, http.MethodGet, te.path("runs"+apiTasks+query), tok, nil)
		expect(t, r, http.StatusOK, "")
		var l arm.List[arm.Run]
		r.decode(t, &l)
		var ids []string
		for _, x := range l.Value {
			ids = append(ids, x.Name+":"+x.Properties.Status)
		}
		return ids
	}
	if got := strings.Join(list("&$top=15"), " "); got != "ca2:Succeeded ca1:Succeeded" {
		t.Fatalf("list %s", got)
	}
	if got := strings.Join(list("&$top=1"), " "); got != "ca2:Succeeded" {
		t.Fatalf("top 1: %s", got)
	}
	if got := list("&$filter=" + escapeQuery("Status eq 'Failed'")); len(got) != 0 {
		t.Fatalf("failed runs %v", got)
	}
	if got := list("&$filter=" + escapeQuery("status eq 'succeeded' and TaskName eq 'x'")); len(got) != 0 {
		t.Fatalf("runs of a task %v", got)
	}
	if got := list("&$filter=" + escapeQuery("Status eq 'Succeeded'")); len(got) != 2 {
		t.Fatalf("succeeded runs %v", got)
	}
	// az acr task list-runs --image myimage:ca1 asks for the runs that output its manifest.
	digest := "sha256:" + strings.Repeat("ab", 32)
	if got := strings.Join(list("&$top=1&$filter="+escapeQuery("Status eq 'Succeeded' and contains(OutputImageManifests, 'MyImage@"+digest+"')")), " "); got != "ca2:Succeeded" {
		t.Fatalf("runs of an image, top 1: %s", got)
	}
	if got := list("&$filter=" + escapeQuery("contains(OutputImageManifests, 'myimage@sha256:"+strings.Repeat("cd", 32)+"')")); len(got) != 0 {
		t.Fatalf("runs of another manifest %v", got)
	}
	if got := list("&$filter=" + escapeQuery("contains(OutputImageManifests, 'other@"+digest+"')")); len(got) != 0 {
		t.Fatalf("runs of another repository %v", got)
	}
	expect(t, te.do(t, http.MethodGet, te.path("runs"+apiTasks+"&$filter="+escapeQuery("startswith(x)")), tok, nil), http.StatusBadRequest, "InvalidFilter")

	r = te.do(t, http.MethodPost, te.path("runs/ca1/listLogSasUrl"+apiTasks), tok, nil)
	expect(t, r, http.StatusOK, "")
	var logs arm.RunGetLogResult
	r.decode(t, &logs)
	if !strings.HasPrefix(logs.LogLink, blobBase+"/myreg/logs/ca1/rawtext.log?") || !strings.Contains(logs.LogLink, "sp=r&") || logs.LogArtifactLink != "" {
		t.Fatalf("log link %s", r.body)
	}

	r = te.do(t, http.MethodPatch, te.path("runs/ca1"+apiTasks), tok, `{"isArchiveEnabled":true}`)
	expect(t, r, http.StatusOK, "")
	r.decode(t, &run)
	if !run.Properties.IsArchiveEnabled {
		t.Fatalf("patched run %s", r.body)
	}
	expect(t, te.do(t, http.MethodPost, te.path("runs/ca1/cancel"+apiTasks), tok, nil), http.StatusOK, "")
	expect(t, te.do(t, http.MethodGet, te.path("runs/ca9"+apiTasks), tok, nil), http.StatusNotFound, "RunNotFound")
	expect(t, te.do(t, http.MethodGet, te.rg.String()+"/providers/Microsoft.ContainerRegistry/registries/other/runs/ca1"+apiTasks, tok, nil), http.StatusNotFound, "")
}

func TestTasksScheduleRunRequests(t *testing.T) {
	te := newTasksEnv(t)
	tok := te.owner.token
	yaml := "version: v1.1.0\nsteps: \n  - cmd: $Registry/busybox echo hi\n    disableWorkingDirectoryOverride: true\n"
	r := te.do(t, http.MethodPost, te.path("scheduleRun"+apiTasks), tok, `{"type":"EncodedTaskRunRequest","isArchiveEnabled":false,
		"encodedTaskContent":"`+base64.StdEncoding.EncodeToString([]byte(yaml))+`","values":[],"platform":{"os":"linux","architecture":"amd64"},"credentials":{}}`)
	expect(t, r, http.StatusOK, "")
	var run arm.Run
	r.decode(t, &run)
	if run.Properties.RunType != "QuickRun" || run.Properties.RunID != "ca1" {
		t.Fatalf("quick run %s", r.body)
	}
	te.tasks.Wait()
	for name, c := range map[string]struct{ body, code string }{
		"file task":       {`{"type":"FileTaskRunRequest","taskFilePath":"acb.yaml","sourceLocation":"x"}`, "InvalidRequestContent"},
		"task run":        {`{"type":"TaskRunRequest","taskId":"x"}`, "InvalidRequestContent"},
		"no type":         {`{}`, "InvalidRequestContent"},
		"missing source":  {`{"type":"DockerBuildRequest","sourceLocation":"source/202601010000/0123456789abcdef0123456789abcdef.tar.gz"}`, "InvalidSourceLocation"},
		"bad task":        {`{"type":"EncodedTaskRunRequest","encodedTaskContent":"!!"}`, "InvalidRunRequest"},
		"windows":         {`{"type":"EncodedTaskRunRequest","encodedTaskContent":"c3RlcHM6CiAgLSBjbWQ6IHgK","platform":{"os":"windows"}}`, "RunRequestNotSupported"},
		"custom registry": {`{"type":"EncodedTaskRunRequest","encodedTaskContent":"c3RlcHM6CiAgLSBjbWQ6IHgK","credentials":{"customRegistries":{"a.io":{}}}}`, "InvalidRequestContent"},
		"agent pool":      {`{"type":"DockerBuildRequest","agentPoolName":"pool"}`, "InvalidRequestContent"},
	} {
		t.Run(name, func(t *testing.T) {
			expect(t, te.do(t, http.MethodPost, te.path("scheduleRun"+apiTasks), tok, c.body), http.StatusBadRequest, c.code)
		})
	}
}

func TestTasksRBAC(t *testing.T) {
	te := newTasksEnv(t)
	reg := resourceid.ForResource(te.Subscription.ID, "rg", "Microsoft.ContainerRegistry", "registries", "myreg")
	pusher := te.newActor(t, "pusher", grant{rbac.AcrPushID, reg})
	reader := te.newActor(t, "reader", grant{rbac.ReaderID, reg})
	contributor := te.newActor(t, "contributor", grant{rbac.ContributorID, reg})
	src := te.upload(t, contributor.token)
	expect(t, te.do(t, http.MethodPost, te.path("scheduleRun"+apiTasks), contributor.token, azBuildBody(src)), http.StatusOK, "")
	te.tasks.Wait()
	// AcrPush pushes images but cannot schedule runs, as in Azure.
	expect(t, te.do(t, http.MethodPost, te.path("scheduleRun"+apiTasks), pusher.token, azBuildBody(src)), http.StatusForbidden, "AuthorizationFailed")
	expect(t, te.do(t, http.MethodPost, te.path("listBuildSourceUploadUrl"+apiTasks), pusher.token, nil), http.StatusForbidden, "AuthorizationFailed")
	expect(t, te.do(t, http.MethodGet, te.path("runs"+apiTasks), pusher.token, nil), http.StatusForbidden, "AuthorizationFailed")
	// Reader reads runs (*/read), nothing more.
	expect(t, te.do(t, http.MethodGet, te.path("runs/ca1"+apiTasks), reader.token, nil), http.StatusOK, "")
	expect(t, te.do(t, http.MethodGet, te.path("runs"+apiTasks), reader.token, nil), http.StatusOK, "")
	expect(t, te.do(t, http.MethodPost, te.path("runs/ca1/listLogSasUrl"+apiTasks), reader.token, nil), http.StatusForbidden, "AuthorizationFailed")
	expect(t, te.do(t, http.MethodPost, te.path("runs/ca1/cancel"+apiTasks), reader.token, nil), http.StatusForbidden, "AuthorizationFailed")
	expect(t, te.do(t, http.MethodPatch, te.path("runs/ca1"+apiTasks), reader.token, `{"isArchiveEnabled":true}`), http.StatusForbidden, "AuthorizationFailed")
	expect(t, te.do(t, http.MethodPost, te.path("scheduleRun"+apiTasks), reader.token, azBuildBody(src)), http.StatusForbidden, "AuthorizationFailed")
}
