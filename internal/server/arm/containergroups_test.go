package arm

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cerulean/cerulean/api/arm"
	cg "github.com/cerulean/cerulean/internal/containergroup"
	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/rbac"
	"github.com/cerulean/cerulean/internal/sealbox"
	"github.com/cerulean/cerulean/internal/server/servertest"
)

// Fakes for the two backends: this package's tests look at the wire, the
// runner's and the image cache's own suites at what really runs.

type stubImages struct{ fail map[string]*cg.ImageError }

func (s stubImages) Resolve(_ context.Context, ref string, _ *cg.Credential) (cg.ResolvedImage, error) {
	if e := s.fail[ref]; e != nil {
		return cg.ResolvedImage{}, e
	}
	repo := ref[:strings.LastIndex(ref, ":")]
	return cg.ResolvedImage{Ref: ref, Digest: "sha256:" + strings.Repeat("b", 64), DigestRef: repo + "@sha256:" + strings.Repeat("b", 64)}, nil
}

func (stubImages) Pull(_ context.Context, img cg.ResolvedImage, _ *cg.Credential) (cg.Image, error) {
	return cg.Image{Digest: img.Digest}, nil
}

func (stubImages) Prune(context.Context, []string) error { return nil }

type stubRunner struct {
	mu      sync.Mutex
	running map[string]cg.RunSpec
}

func (r *stubRunner) Start(_ context.Context, spec cg.RunSpec) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.running[spec.ID] = spec
	return nil
}

func (r *stubRunner) Stop(_ context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.running, id)
	return nil
}

func (r *stubRunner) Remove(ctx context.Context, id string) error { return r.Stop(ctx, id) }

func (r *stubRunner) Status(_ context.Context, id string) (cg.GroupStatus, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	spec, ok := r.running[id]
	if !ok {
		return cg.GroupStatus{}, errdefs.New(errdefs.NotFound, "", "unknown")
	}
	st := cg.GroupStatus{Active: true}
	for _, c := range spec.Containers {
		st.Containers = append(st.Containers, cg.ContainerStatus{Name: c.Name,
			Current: cg.ContainerState{State: "Running", StartTime: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
			Events:  []cg.Event{{Name: "Started", Message: "Started container", Type: "Normal", Count: 1}}})
	}
	return st, nil
}

func (r *stubRunner) Logs(context.Context, string, string, cg.LogOptions) (io.ReadCloser, error) {
	return io.NopCloser(strings.NewReader("hello\n")), nil
}

func (r *stubRunner) Exec(context.Context, string, string, []string, cg.TerminalSize) (cg.Process, error) {
	return nil, errdefs.New(errdefs.NotImplemented, "", "no exec here")
}

func (r *stubRunner) Recover(context.Context) ([]string, error) { return nil, nil }

type aciEnv struct {
	*env
	images stubImages
}

func newACIEnv(t *testing.T) *aciEnv {
	t.Helper()
	images := stubImages{fail: map[string]*cg.ImageError{}}
	box, err := sealbox.New(bytes.Repeat([]byte{7}, sealbox.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return &aciEnv{images: images, env: newProviderEnv(t, func(s *servertest.Env) []ResourceType {
		return ContainerGroupTypes(cg.NewService(cg.Config{Store: s.Store.ContainerGroups(), Images: images,
			Runner: &stubRunner{running: map[string]cg.RunSpec{}}, Sealer: box, Logger: s.Logger, ReconcileEvery: time.Hour}))
	})}
}

const cgBody = `{"location":"eastus","properties":{"osType":"Linux","restartPolicy":"Always",
 "containers":[{"name":"web","properties":{"image":"reg.azurecr.localhost:8443/app:v1",
   "resources":{"requests":{"cpu":1,"memoryInGB":1.5}},"ports":[{"port":80}],
   "environmentVariables":[{"name":"PLAIN","value":"v"},{"name":"SECRET","secureValue":"s3cr3t"}],
   "volumeMounts":[{"name":"secrets","mountPath":"/s"}]}}],
 "imageRegistryCredentials":[{"server":"reg.azurecr.localhost:8443","username":"app","password":"hunter2"}],
 "ipAddress":{"type":"Public","ports":[{"port":80}],"dnsNameLabel":"myapp-demo"},
 "volumes":[{"name":"secrets","secret":{"key":"c2VjcmV0dmFsdWU="}}]}}`

func (e *aciEnv) groupPath(rg, name string) string {
	return e.subPath() + "/resourceGroups/" + rg + "/providers/Microsoft.ContainerInstance/containerGroups/" + name
}

func TestContainerGroupLifecycleOnTheWire(t *testing.T) {
	e := newACIEnv(t)
	e.group(t, "rg")
	path := e.groupPath("rg", "mygroup")
	r := e.do(t, http.MethodPut, path+"?api-version=2023-05-01", e.owner.token, cgBody)
	expect(t, r, http.StatusCreated, "")
	for _, secret := range []string{"hunter2", "s3cr3t", "c2VjcmV0dmFsdWU="} {
		if bytes.Contains(r.body, []byte(secret)) {
			t.Fatalf("the PUT response contains %q: %s", secret, r.body)
		}
	}
	var created arm.ContainerGroup
	r.decode(t, &created)
	if created.Properties.ProvisioningState != "Pending" || created.Properties.SKU != "Standard" || created.Properties.IPAddress.FQDN != "myapp-demo.eastus.azurecontainer.localhost" {
		t.Fatalf("created %+v", created.Properties)
	}
	op, err := url.Parse(r.header.Get("Azure-AsyncOperation"))
	if err != nil || op.Scheme != "https" || op.Host != e.Addr || !strings.Contains(op.Path, "/providers/Microsoft.ContainerInstance/locations/eastus/operations/") ||
		op.Query().Get("api-version") != "2018-06-01" || r.header.Get("Retry-After") != "1" {
		t.Fatalf("polling headers %v", r.header)
	}
	var status arm.AsyncOperation
	for deadline := time.Now().Add(10 * time.Second); ; {
		pr := e.call(t, e.H1, http.MethodGet, op.RequestURI(), e.owner.token, nil)
		expect(t, pr, http.StatusOK, "")
		pr.decode(t, &status)
		// azure-core's poller waits Retry-After, or 30 s without it.
		if running := status.Status == "InProgress"; running != (pr.header.Get("Retry-After") == "1") {
			t.Fatalf("operation %s with Retry-After %q", status.Status, pr.header.Get("Retry-After"))
		}
		if status.Status != "InProgress" || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if status.Status != "Succeeded" || status.ID != created.ID {
		t.Fatalf("operation %+v", status)
	}

	r = e.do(t, http.MethodGet, path, e.owner.token, nil)
	expect(t, r, http.StatusOK, "")
	var got arm.ContainerGroup
	r.decode(t, &got)
	c := got.Properties.Containers[0].Properties
	if got.Properties.InstanceView == nil || got.Properties.InstanceView.State != "Running" || c.InstanceView == nil ||
		c.InstanceView.CurrentState.State != "Running" || got.Properties.IPAddress.IP != "127.1.0.1" {
		t.Fatalf("instance view %s", r.body)
	}
	names := []string{}
	for _, ev := range c.InstanceView.Events {
		names = append(names, ev.Name)
	}
	if strings.Join(names, ",") != "Started,Pulling,Pulled" && strings.Join(names, ",") != "Pulling,Pulled,Started" {
		t.Fatalf("events %v", names)
	}
	if v := c.EnvironmentVariables[1]; v.Name != "SECRET" || v.Value != nil || v.SecureValue != nil {
		t.Fatalf("secure variable on read: %+v", v)
	}
	if got.Properties.ImageRegistryCredentials[0].Password != nil || len(got.Properties.Volumes[0].Secret) != 0 {
		t.Fatalf("secrets on read: %s", r.body)
	}

	r = e.do(t, http.MethodGet, e.subPath()+"/resourceGroups/rg/providers/Microsoft.ContainerInstance/containerGroups", e.owner.token, nil)
	expect(t, r, http.StatusOK, "")
	if bytes.Contains(r.body, []byte("instanceView")) || !bytes.Contains(r.body, []byte(`"mygroup"`)) {
		t.Fatalf("list: %s", r.body)
	}

	r = e.do(t, http.MethodGet, path+"/containers/web/logs?api-version=2023-05-01&tail=10", e.owner.token, nil)
	expect(t, r, http.StatusOK, "")
	if string(r.body) != `{"content":"hello\n"}`+"\n" && !bytes.Contains(r.body, []byte(`"content":"hello\n"`)) {
		t.Fatalf("logs %s", r.body)
	}
	expect(t, e.do(t, http.MethodGet, path+"/containers/nope/logs?api-version=2023-05-01", e.owner.token, nil), http.StatusNotFound, "ContainerNotFound")
	expect(t, e.do(t, http.MethodGet, path+"/containers/web/logs?api-version=2023-05-01&tail=x", e.owner.token, nil), http.StatusBadRequest, "InvalidParameter")

	// stop 204, start 202 with a polling URL (204 when already running),
	// restart 204: the codes armcontainerinstance v2.4.0 accepts.
	expect(t, e.do(t, http.MethodPost, path+"/stop", e.owner.token, nil), http.StatusNoContent, "")
	r = e.do(t, http.MethodGet, path, e.owner.token, nil)
	r.decode(t, &got)
	if got.Properties.InstanceView.State != "Stopped" {
		t.Fatalf("state after stop %q", got.Properties.InstanceView.State)
	}
	r = e.do(t, http.MethodPost, path+"/start", e.owner.token, nil)
	expect(t, r, http.StatusAccepted, "")
	if r.header.Get("Azure-AsyncOperation") == "" {
		t.Fatal("start without a polling URL")
	}
	waitProvisioned(t, e, path)
	expect(t, e.do(t, http.MethodPost, path+"/start", e.owner.token, nil), http.StatusNoContent, "")
	expect(t, e.do(t, http.MethodPost, path+"/restart", e.owner.token, nil), http.StatusNoContent, "")
	waitProvisioned(t, e, path)

	// PATCH replaces tags.
	r = e.do(t, http.MethodPatch, path, e.owner.token, `{"tags":{"team":"blue"}}`)
	expect(t, r, http.StatusOK, "")
	if !bytes.Contains(r.body, []byte(`"team":"blue"`)) {
		t.Fatalf("patch: %s", r.body)
	}

	// The location endpoints.
	for _, p := range []string{"/usages", "/capabilities", "/cachedImages"} {
		r = e.do(t, http.MethodGet, e.subPath()+"/providers/Microsoft.ContainerInstance/locations/eastus"+p, e.owner.token, nil)
		expect(t, r, http.StatusOK, "")
	}
	r = e.do(t, http.MethodGet, e.subPath()+"/providers/Microsoft.ContainerInstance/locations/eastus/usages", e.owner.token, nil)
	if !bytes.Contains(r.body, []byte(`"currentValue":1`)) {
		t.Fatalf("usages %s", r.body)
	}
	expect(t, e.do(t, http.MethodGet, "/providers/Microsoft.ContainerInstance/operations", e.owner.token, nil), http.StatusOK, "")

	r = e.do(t, http.MethodDelete, path, e.owner.token, nil)
	expect(t, r, http.StatusOK, "")
	expect(t, e.do(t, http.MethodDelete, path, e.owner.token, nil), http.StatusNoContent, "")
	expect(t, e.do(t, http.MethodGet, path, e.owner.token, nil), http.StatusNotFound, "ResourceNotFound")
}

func waitProvisioned(t *testing.T, e *aciEnv, path string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		var g arm.ContainerGroup
		e.do(t, http.MethodGet, path, e.owner.token, nil).decode(t, &g)
		if g.Properties.ProvisioningState == "Succeeded" {
			return
		}
	}
	t.Fatal("the group did not finish provisioning")
}

func TestContainerGroupRefusals(t *testing.T) {
	e := newACIEnv(t)
	scope := e.group(t, "rg")
	path := e.groupPath("rg", "g1")
	e.images.fail["reg.azurecr.localhost:8443/app:v1"] = &cg.ImageError{Check: cg.CheckDenied, Message: "the principal 'app' may not pull repository 'app'"}
	r := e.do(t, http.MethodPut, path, e.owner.token, cgBody)
	expect(t, r, http.StatusBadRequest, "InaccessibleImage")
	var er arm.ErrorResponse
	r.decode(t, &er)
	if er.Error.Message != "The image 'reg.azurecr.localhost:8443/app:v1' in container group 'g1' is not accessible. Please check the image and registry credential." ||
		len(er.Error.Details) != 1 || er.Error.Details[0].Code != "RegistryAccessDenied" {
		t.Fatalf("error %+v", er.Error)
	}
	delete(e.images.fail, "reg.azurecr.localhost:8443/app:v1")

	noOS := strings.Replace(cgBody, `"osType":"Linux",`, "", 1)
	expect(t, e.do(t, http.MethodPut, path, e.owner.token, noOS), http.StatusBadRequest, "InvalidOsType")
	noResources := strings.Replace(cgBody, `"resources":{"requests":{"cpu":1,"memoryInGB":1.5}},`, "", 1)
	expect(t, e.do(t, http.MethodPut, path, e.owner.token, noResources), http.StatusBadRequest, "ResourceRequestsNotSpecified")
	gitRepo := strings.Replace(cgBody, `"secret":{"key":"c2VjcmV0dmFsdWU="}`, `"gitRepo":{"repository":"https://example.invalid/x"}`, 1)
	expect(t, e.do(t, http.MethodPut, path, e.owner.token, gitRepo), http.StatusBadRequest, "FeatureNotSupported")
	mars := strings.Replace(cgBody, `"location":"eastus"`, `"location":"mars"`, 1)
	expect(t, e.do(t, http.MethodPut, path, e.owner.token, mars), http.StatusBadRequest, "LocationNotAvailableForResourceType")
	expect(t, e.do(t, http.MethodPut, e.groupPath("rg", "Bad_Name"), e.owner.token, cgBody), http.StatusBadRequest, "InvalidContainerGroupName")

	// A Reader reads but cannot write.
	reader := e.newActor(t, "reader", grant{rbac.ReaderID, scope})
	expect(t, e.do(t, http.MethodPut, path, reader.token, cgBody), http.StatusForbidden, "AuthorizationFailed")
	expect(t, e.do(t, http.MethodPut, path, e.owner.token, cgBody), http.StatusCreated, "")
	expect(t, e.do(t, http.MethodGet, path, reader.token, nil), http.StatusOK, "")
	expect(t, e.do(t, http.MethodPost, path+"/stop", reader.token, nil), http.StatusForbidden, "AuthorizationFailed")
	expect(t, e.do(t, http.MethodDelete, path, reader.token, nil), http.StatusForbidden, "AuthorizationFailed")

	// A group in another resource group is not found there.
	e.group(t, "other")
	expect(t, e.do(t, http.MethodGet, e.groupPath("other", "g1"), e.owner.token, nil), http.StatusNotFound, "ResourceNotFound")
}
