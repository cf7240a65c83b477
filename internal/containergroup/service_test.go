package containergroup

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/resourceid"
)

func groupID(name string) resourceid.ID {
	return resourceid.ForResource("00000000-0000-0000-0000-000000000001", "rg", "Microsoft.ContainerInstance", "containerGroups", name)
}

func validSpec() Spec {
	return Spec{
		OSType: "linux",
		Containers: []Container{{
			Name: "web", Image: "reg.azurecr.localhost:8443/app:v1", Command: []string{"/bin/sh", "-c", "echo hi"},
			Requests: &Resources{CPU: 1, MemoryGB: 1.5},
			Env:      []Env{{Name: "A", Value: "1"}, {Name: "S", Value: "secret", Secure: true}},
			Ports:    []Port{{Port: 80}},
		}},
		Credentials: []Credential{{Server: "reg.azurecr.localhost:8443", Username: "app", Password: "pw"}},
		IPAddress:   &IPAddress{Type: "public", Ports: []Port{{Port: 80}}, DNSNameLabel: "myapp-demo"},
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Spec)
		reason string
	}{
		{"valid", func(*Spec) {}, ""},
		{"no os type", func(s *Spec) { s.OSType = "" }, "InvalidOsType"},
		{"windows", func(s *Spec) { s.OSType = "Windows" }, "OsTypeNotSupported"},
		{"no requests", func(s *Spec) { s.Containers[0].Requests = nil }, "ResourceRequestsNotSpecified"},
		{"no cpu", func(s *Spec) { s.Containers[0].Requests.CPU = 0 }, "ResourceSomeRequestsNotSpecified"},
		{"too much memory", func(s *Spec) { s.Containers[0].Requests.MemoryGB = 17 }, "InvalidResourceRequests"},
		{"limit below request", func(s *Spec) { s.Containers[0].Limits = &Resources{CPU: 1, MemoryGB: 1} }, "ResourceLimitsLessThanRequests"},
		{"bad container name", func(s *Spec) { s.Containers[0].Name = "Web" }, "InvalidContainerName"},
		{"duplicate container", func(s *Spec) { s.Containers = append(s.Containers, s.Containers[0]) }, "DuplicateContainerName"},
		{"no ip ports", func(s *Spec) { s.IPAddress.Ports = nil }, "MissingIpAddressPorts"},
		{"bad port", func(s *Spec) { s.Containers[0].Ports[0].Port = 70000 }, "InvalidContainerPort"},
		{"bad protocol", func(s *Spec) { s.Containers[0].Ports[0].Protocol = "SCTP" }, "InvalidPortProtocol"},
		{"bad dns label", func(s *Spec) { s.IPAddress.DNSNameLabel = "1abc" }, "InvalidDnsNameLabel"},
		{"bad restart policy", func(s *Spec) { s.RestartPolicy = "Sometimes" }, "InvalidRestartPolicy"},
		{"server with scheme", func(s *Spec) { s.Credentials[0].Server = "https://reg" }, "InvalidImageRegistryServer"},
		{"credential without user", func(s *Spec) { s.Credentials[0].Username = "" }, "AmbiguousImageResitryCredentialType"},
		{"duplicate volume", func(s *Spec) {
			s.Volumes = []VolumeSpec{{Name: "data", EmptyDir: true}, {Name: "data", EmptyDir: true}}
		}, "DuplicateVolumeName"},
		{"mount of unknown volume", func(s *Spec) { s.Containers[0].Mounts = []Mount{{Volume: "nope", Path: "/x"}} }, "InvalidVolumeMount"},
		{"secret file name escapes", func(s *Spec) {
			s.Volumes = []VolumeSpec{{Name: "sec", Secret: map[string]string{"../x": "YQ=="}}}
		}, "InvalidVolume"},
		{"bad env name", func(s *Spec) { s.Containers[0].Env[0].Name = "A B" }, "InvalidEnvironmentVariable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := validSpec()
			tt.modify(&s)
			err := s.Validate("mygroup")
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				if s.OSType != "Linux" || s.RestartPolicy != RestartAlways || s.IPAddress.Type != "Public" || s.Containers[0].Ports[0].Protocol != "TCP" {
					t.Fatalf("not normalized: %+v", s)
				}
				return
			}
			if e := errdefs.As(err); e.Reason != tt.reason || e.Kind != errdefs.InvalidArgument {
				t.Fatalf("got %v (reason %q), want reason %q", err, e.Reason, tt.reason)
			}
		})
	}
}

func TestInvalidOsTypeMessageIsAzures(t *testing.T) {
	s := validSpec()
	s.OSType = ""
	err := s.Validate("g")
	want := "The 'osType' for container group '<null>' is invalid. The value must be one of 'Windows,Linux'."
	if e := errdefs.As(err); e.Message != want {
		t.Fatalf("message %q, want %q", e.Message, want)
	}
}

type env struct {
	svc    *Service
	store  *memStore
	images *fakeImages
	runner *fakeRunner
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{store: newMemStore(), images: &fakeImages{}, runner: newFakeRunner()}
	e.svc = NewService(Config{Store: e.store, Images: e.images, Runner: e.runner, Sealer: plainSealer{}, ReconcileEvery: time.Hour})
	return e
}

func (e *env) waitState(t *testing.T, id resourceid.ID, want string) View {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		v, err := e.svc.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if v.ProvisioningState == want {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("provisioning state %q, want %q", v.ProvisioningState, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestCreateProvisionsAndRuns(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id := groupID("mygroup")
	g, op, created, err := e.svc.CreateOrUpdate(ctx, CreateInput{ID: id, Location: "East US", Spec: validSpec(), Caller: "me"})
	if err != nil {
		t.Fatal(err)
	}
	if !created || g.ProvisioningState != StatePending || op.Status != OpInProgress {
		t.Fatalf("created %v state %q op %q", created, g.ProvisioningState, op.Status)
	}
	if got := e.images.creds["reg.azurecr.localhost:8443/app:v1"]; got == nil || got.Username != "app" {
		t.Fatalf("image resolved with credential %+v, want the group's", got)
	}
	run := <-e.runner.startCh
	if run.ID != g.InstanceID || run.Hostname != "mygroup" || run.IP.String() != "127.1.0.1" || len(run.Ports) != 1 {
		t.Fatalf("run spec %+v", run)
	}
	c := run.Containers[0]
	if strings.Join(c.Command, " ") != "/bin/sh -c echo hi" || c.CPU != 1 || c.MemoryBytes != 3<<29 || len(c.Env) != 2 || c.Env[1].Value != "secret" {
		t.Fatalf("container spec %+v", c)
	}
	v := e.waitState(t, id, StateSucceeded)
	if v.State != "Running" || v.FQDN != "myapp-demo.eastus.azurecontainer.localhost" {
		t.Fatalf("state %q fqdn %q", v.State, v.FQDN)
	}
	evs := v.Events("web")
	if len(evs) != 2 || evs[0].Name != "Pulling" || !strings.HasPrefix(evs[0].Message, `pulling image "reg.azurecr.localhost:8443/app@sha256:`) || evs[1].Name != "Pulled" {
		t.Fatalf("events %+v", evs)
	}
	done, _, err := e.svc.Operation(ctx, op.ID, func(resourceid.ID) error { return nil })
	if err != nil || done.Status != OpSucceeded {
		t.Fatalf("operation %+v, %v", done, err)
	}
	// The same name again with another location is refused; with a new
	// CPU request it must be re-created.
	if _, _, _, err := e.svc.CreateOrUpdate(ctx, CreateInput{ID: id, Location: "westus", Spec: validSpec()}); !errors.Is(err, ErrLocationMismatch) {
		t.Fatalf("location change: %v", err)
	}
	changed := validSpec()
	changed.Containers[0].Requests.CPU = 2
	if _, _, _, err := e.svc.CreateOrUpdate(ctx, CreateInput{ID: id, Location: "eastus", Spec: changed}); !errors.Is(err, ErrInvalidContainerGroupUpdate) {
		t.Fatalf("cpu change: %v", err)
	}
	// A second group with the same DNS label is refused; another address
	// is given to a second group.
	if _, _, _, err := e.svc.CreateOrUpdate(ctx, CreateInput{ID: groupID("other"), Location: "eastus", Spec: validSpec()}); errdefs.As(err).Reason != ReasonDNSLabelTaken {
		t.Fatalf("duplicate label: %v", err)
	}
	second := validSpec()
	second.IPAddress.DNSNameLabel = ""
	g2, _, _, err := e.svc.CreateOrUpdate(ctx, CreateInput{ID: groupID("other"), Location: "eastus", Spec: second})
	if err != nil || g2.IP.String() != "127.1.0.2" {
		t.Fatalf("second group ip %v, %v", g2.IP, err)
	}
}

func TestInaccessibleImageSaysWhy(t *testing.T) {
	e := newEnv(t)
	spec := validSpec()
	e.images.fail = map[string]*ImageError{spec.Containers[0].Image: {Check: CheckUnauthorized, Message: "the registry refused the credentials of user 'app' (401 Unauthorized)"}}
	_, _, _, err := e.svc.CreateOrUpdate(context.Background(), CreateInput{ID: groupID("g1"), Location: "eastus", Spec: spec})
	ae := errdefs.As(err)
	want := "The image 'reg.azurecr.localhost:8443/app:v1' in container group 'g1' is not accessible. Please check the image and registry credential."
	if ae.Reason != "InaccessibleImage" || ae.Message != want || errdefs.HTTPStatus(ae.Kind) != 400 {
		t.Fatalf("error %+v", ae)
	}
	if len(ae.Details) != 1 || ae.Details[0].Reason != string(CheckUnauthorized) || strings.Contains(ae.Details[0].Message, "pw") {
		t.Fatalf("details %+v", ae.Details)
	}
	if gs, _ := e.store.ListGroups(context.Background(), "", ""); len(gs) != 0 {
		t.Fatalf("a refused PUT stored %d groups", len(gs))
	}
}

func TestSecretsAreNotInTheStoreInClear(t *testing.T) {
	e := newEnv(t)
	sealed := 0
	e.svc.sealer = countingSealer{n: &sealed}
	if _, _, _, err := e.svc.CreateOrUpdate(context.Background(), CreateInput{ID: groupID("g1"), Location: "eastus", Spec: validSpec()}); err != nil {
		t.Fatal(err)
	}
	<-e.runner.startCh
	g, _ := e.store.GetGroup(context.Background(), groupID("g1"))
	if strings.Contains(string(g.SealedSpec), "secret") || strings.Contains(string(g.SealedSpec), `"pw"`) || sealed == 0 {
		t.Fatalf("spec stored in clear: %q", g.SealedSpec)
	}
}

// countingSealer reverses the bytes: enough to prove the store only
// sees the sealer's output.
type countingSealer struct{ n *int }

func (c countingSealer) Seal(p []byte) ([]byte, error) { *c.n++; return reverse(p), nil }
func (c countingSealer) Open(p []byte) ([]byte, error) { return reverse(p), nil }

func reverse(p []byte) []byte {
	out := make([]byte, len(p))
	for i, b := range p {
		out[len(p)-1-i] = b
	}
	return out
}

func TestReconcileRemovesWhatTheStoreLost(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, _, _, err := e.svc.CreateOrUpdate(ctx, CreateInput{ID: groupID("g1"), Location: "eastus", Spec: validSpec()}); err != nil {
		t.Fatal(err)
	}
	run := <-e.runner.startCh
	e.waitState(t, groupID("g1"), StateSucceeded)
	// The resource group went, and the store's cascade took the row.
	if err := e.store.DeleteGroup(ctx, groupID("g1")); err != nil {
		t.Fatal(err)
	}
	e.svc.reconcile(ctx)
	if len(e.runner.removed) != 1 || e.runner.removed[0] != run.ID {
		t.Fatalf("removed %v, want [%s]", e.runner.removed, run.ID)
	}
}

func TestDeleteRemovesFromRunner(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	g, _, _, err := e.svc.CreateOrUpdate(ctx, CreateInput{ID: groupID("g1"), Location: "eastus", Spec: validSpec()})
	if err != nil {
		t.Fatal(err)
	}
	<-e.runner.startCh
	e.waitState(t, groupID("g1"), StateSucceeded)
	if _, err := e.svc.Delete(ctx, groupID("g1")); err != nil {
		t.Fatal(err)
	}
	if len(e.runner.removed) != 1 || e.runner.removed[0] != g.InstanceID {
		t.Fatalf("removed %v", e.runner.removed)
	}
	if _, err := e.svc.Get(ctx, groupID("g1")); !errors.Is(err, ErrGroupNotFound) {
		t.Fatalf("get after delete: %v", err)
	}
}

// pruneRecorder records what Prune was asked to keep.
type pruneRecorder struct {
	*fakeImages
	kept []string
}

func (p *pruneRecorder) Prune(_ context.Context, keep []string) error {
	p.kept = keep
	return nil
}

func TestPruneKeepsTheImagesOfStoredGroups(t *testing.T) {
	e := newEnv(t)
	rec := &pruneRecorder{fakeImages: e.images}
	e.svc.images = rec
	ctx := context.Background()
	if _, _, _, err := e.svc.CreateOrUpdate(ctx, CreateInput{ID: groupID("g1"), Location: "eastus", Spec: validSpec()}); err != nil {
		t.Fatal(err)
	}
	<-e.runner.startCh
	e.svc.pruneImages(ctx)
	if len(rec.kept) != 1 || rec.kept[0] != "sha256:"+strings.Repeat("a", 64) {
		t.Fatalf("kept %v", rec.kept)
	}
	e.waitState(t, groupID("g1"), StateSucceeded)
	if _, err := e.svc.Delete(ctx, groupID("g1")); err != nil {
		t.Fatal(err)
	}
	e.svc.pruneImages(ctx)
	if len(rec.kept) != 0 {
		t.Fatalf("kept %v after the only group went", rec.kept)
	}
}
