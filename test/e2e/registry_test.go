package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content/memory"
	orasremote "oras.land/oras-go/v2/registry/remote"
	orasauth "oras.land/oras-go/v2/registry/remote/auth"
)

// registryEnv is a server with registries and principals for client tests.
type registryEnv struct {
	*server
	transport *http.Transport
}

// loopbackTransport sends every connection to the server's address and
// trusts only its CA, so registry host names need no DNS.
func loopbackTransport(t *testing.T, s *server) *http.Transport {
	t.Helper()
	pem, err := os.ReadFile(filepath.Join(s.dataDir, "tls", "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	var d net.Dialer
	return &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: pool},
		ForceAttemptHTTP2: true,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, s.addr)
		},
	}
}

// principal is a service principal created with az ad sp create-for-rbac.
type principal struct{ appID, password string }

func (p principal) basic() authn.Authenticator {
	return authn.FromConfig(authn.AuthConfig{Username: p.appID, Password: p.password})
}

func (e *registryEnv) newPrincipal(t *testing.T, displayName, role, scope string) principal {
	t.Helper()
	args := []string{"ad", "sp", "create-for-rbac", "-n", displayName, "--query", "password", "-o", "tsv", "--only-show-errors"}
	if role != "" {
		args = append(args, "--role", role, "--scopes", scope)
	}
	password := e.mustAz(t, args...)
	appID := e.mustAz(t, "ad", "sp", "list", "--display-name", displayName, "--query", "[0].appId", "-o", "tsv")
	return principal{appID: appID, password: password}
}

func newRegistryEnv(t *testing.T) *registryEnv {
	t.Helper()
	s := startServer(t, t.TempDir(), freeAddr(t))
	s.mustAz(t, "login", "-o", "none")
	s.mustAz(t, "group", "create", "-n", "registries", "-l", "eastus", "-o", "none")
	return &registryEnv{server: s, transport: loopbackTransport(t, s)}
}

func (e *registryEnv) createRegistry(t *testing.T, name string) (id, loginServer string) {
	t.Helper()
	e.mustAz(t, "acr", "create", "-n", name, "-g", "registries", "--sku", "Standard", "-o", "none", "--only-show-errors")
	id = e.mustAz(t, "acr", "show", "-n", name, "--query", "id", "-o", "tsv")
	loginServer = e.mustAz(t, "acr", "show", "-n", name, "--query", "loginServer", "-o", "tsv")
	return id, loginServer
}

// TestRegistryRBACWithGoContainerRegistry pushes and pulls with crane's
// library (go-containerregistry) as principals holding acrpush, acrpull
// and nothing, and checks that tokens and roles are enforced per registry.
func TestRegistryRBACWithGoContainerRegistry(t *testing.T) {
	e := newRegistryEnv(t)
	alphaID, alpha := e.createRegistry(t, "alpha")
	_, beta := e.createRegistry(t, "betareg")
	pusher := e.newPrincipal(t, "alpha-pusher", "acrpush", alphaID)
	puller := e.newPrincipal(t, "alpha-puller", "acrpull", alphaID)
	nobody := e.newPrincipal(t, "alpha-nobody", "", "")

	img, err := random.Image(256<<10, 3)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(alpha + "/samples/hello:v1")
	if err != nil {
		t.Fatal(err)
	}
	opts := func(p principal) []remote.Option {
		return []remote.Option{remote.WithAuth(p.basic()), remote.WithTransport(e.transport), remote.WithContext(t.Context())}
	}
	if err := remote.Write(ref, img, opts(pusher)...); err != nil {
		t.Fatalf("acrpush principal cannot push: %v", err)
	}
	want, _ := img.Digest()
	got, err := remote.Image(ref, opts(puller)...)
	if err != nil {
		t.Fatalf("acrpull principal cannot pull: %v", err)
	}
	if d, _ := got.Digest(); d != want {
		t.Fatalf("pulled %s, pushed %s", d, want)
	}
	layers, _ := got.Layers()
	for _, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			t.Fatal(err)
		}
		rc.Close()
	}

	other, _ := random.Image(1024, 1)
	pushRef, _ := name.ParseReference(alpha + "/samples/other:v1")
	if err := remote.Write(pushRef, other, opts(puller)...); err == nil {
		t.Fatal("an acrpull principal pushed")
	}
	if _, err := remote.Image(ref, opts(nobody)...); err == nil {
		t.Fatal("a principal with no role pulled")
	}

	// A token minted by alpha is refused by beta.
	tok := e.accessToken(t, alpha, pusher, "repository:samples/hello:pull")
	if status := e.bearerStatus(t, "https://"+beta+"/v2/samples/hello/tags/list", tok); status != http.StatusUnauthorized {
		t.Fatalf("beta accepted alpha's token: status %d", status)
	}
	if status := e.bearerStatus(t, "https://"+alpha+"/v2/samples/hello/tags/list", tok); status != http.StatusOK {
		t.Fatalf("alpha refused its own token: status %d", status)
	}

	// Deleting the puller's role assignment refuses its next token request.
	e.mustAz(t, "role", "assignment", "delete", "--assignee", puller.appID, "--role", "acrpull", "--scope", alphaID)
	if _, err := remote.Image(ref, opts(puller)...); err == nil {
		t.Fatal("the puller still pulls after its role assignment was deleted")
	}
}

// accessToken gets an ACR access token with Basic credentials.
func (e *registryEnv) accessToken(t *testing.T, loginServer string, p principal, scope string) string {
	t.Helper()
	q := url.Values{"service": {loginServer}, "scope": {scope}}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "https://"+loginServer+"/oauth2/token?"+q.Encode(), nil)
	req.SetBasicAuth(p.appID, p.password)
	resp, err := (&http.Client{Transport: e.transport}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK || body.AccessToken == "" {
		t.Fatalf("token request: status %d, %v", resp.StatusCode, err)
	}
	return body.AccessToken
}

func (e *registryEnv) bearerStatus(t *testing.T, u, token string) int {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{Transport: e.transport}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestRegistryWithOras pushes an artifact and a referrer with oras-go and
// finds the referrer through the referrers API.
func TestRegistryWithOras(t *testing.T) {
	e := newRegistryEnv(t)
	id, ls := e.createRegistry(t, "orasreg")
	pusher := e.newPrincipal(t, "oras-pusher", "acrpush", id)

	repo, err := orasremote.NewRepository(ls + "/artifacts/sbom")
	if err != nil {
		t.Fatal(err)
	}
	repo.Client = &orasauth.Client{
		Client:     &http.Client{Transport: e.transport},
		Credential: orasauth.StaticCredential(ls, orasauth.Credential{Username: pusher.appID, Password: pusher.password}),
	}
	ctx := t.Context()
	store := memory.New()
	push := func(data []byte, mediaType string) ocispec.Descriptor {
		desc := ocispec.Descriptor{MediaType: mediaType, Digest: digestOf(data), Size: int64(len(data))}
		if err := store.Push(ctx, desc, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		return desc
	}
	layer := push([]byte("hello from oras"), "text/plain")
	subject, err := oras.PackManifest(ctx, store, oras.PackManifestVersion1_1, "application/vnd.example.thing", oras.PackManifestOptions{Layers: []ocispec.Descriptor{layer}})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Tag(ctx, subject, "v1"); err != nil {
		t.Fatal(err)
	}
	sbom := push([]byte(`{"sbom":true}`), "application/json")
	referrer, err := oras.PackManifest(ctx, store, oras.PackManifestVersion1_1, "application/vnd.example.sbom", oras.PackManifestOptions{Subject: &subject, Layers: []ocispec.Descriptor{sbom}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := oras.Copy(ctx, store, "v1", repo, "v1", oras.DefaultCopyOptions); err != nil {
		t.Fatalf("oras push: %v", err)
	}
	if err := oras.CopyGraph(ctx, store, repo, referrer, oras.DefaultCopyGraphOptions); err != nil {
		t.Fatalf("oras push referrer: %v", err)
	}
	var found []ocispec.Descriptor
	if err := repo.Referrers(ctx, subject, "application/vnd.example.sbom", func(r []ocispec.Descriptor) error {
		found = append(found, r...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || found[0].Digest != referrer.Digest {
		t.Fatalf("referrers = %v, want %s", found, referrer.Digest)
	}
	pulled := memory.New()
	if _, err := oras.Copy(ctx, repo, "v1", pulled, "v1", oras.DefaultCopyOptions); err != nil {
		t.Fatalf("oras pull: %v", err)
	}
}

// TestRegistryWithSkopeo copies an image into the registry and back with
// skopeo from Debian. The login server must resolve to 127.0.0.1 (CI adds
// /etc/hosts entries); without skopeo or the entry the test is skipped,
// unless CERULEAN_E2E_REQUIRE=1, which CI sets.
func TestRegistryWithSkopeo(t *testing.T) {
	skopeo, err := exec.LookPath("skopeo")
	if err != nil {
		requireOrSkip(t, "skopeo is not installed")
	}
	const regName = "skopeotest"
	if _, err := net.LookupHost(regName + ".azurecr.localhost"); err != nil {
		requireOrSkip(t, regName+".azurecr.localhost does not resolve; add it to /etc/hosts")
	}
	e := newRegistryEnv(t)
	id, ls := e.createRegistry(t, regName)
	pusher := e.newPrincipal(t, "skopeo-pusher", "acrpush", id)
	puller := e.newPrincipal(t, "skopeo-puller", "acrpull", id)

	// An OCI layout to copy from, written with go-containerregistry.
	src := t.TempDir()
	img, err := ociImage(64<<10, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeLayout(src, img); err != nil {
		t.Fatal(err)
	}
	certDir := t.TempDir()
	pem, _ := os.ReadFile(filepath.Join(e.dataDir, "tls", "ca.pem"))
	if err := os.WriteFile(filepath.Join(certDir, "ca.crt"), pem, 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, skopeo, args...).CombinedOutput()
		return string(out), err
	}
	dest := "docker://" + ls + "/skopeo/hello:v1"
	if out, err := run("copy", "--dest-cert-dir", certDir, "--dest-creds", pusher.appID+":"+pusher.password, "oci:"+src+":v1", dest); err != nil {
		t.Fatalf("skopeo push: %v\n%s", err, out)
	}
	if out, err := run("copy", "--src-cert-dir", certDir, "--src-creds", puller.appID+":"+puller.password, dest, "oci:"+t.TempDir()+":v1"); err != nil {
		t.Fatalf("skopeo pull: %v\n%s", err, out)
	}
	if out, err := run("copy", "--dest-cert-dir", certDir, "--dest-creds", puller.appID+":"+puller.password, "oci:"+src+":v1", "docker://"+ls+"/skopeo/denied:v1"); err == nil {
		t.Fatalf("skopeo pushed as an acrpull principal:\n%s", out)
	}
	out, err := run("inspect", "--cert-dir", certDir, "--creds", puller.appID+":"+puller.password, "--raw", dest)
	if err != nil || !strings.Contains(out, "schemaVersion") {
		t.Fatalf("skopeo inspect: %v\n%s", err, out)
	}
}

func requireOrSkip(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CERULEAN_E2E_REQUIRE") == "1" {
		t.Fatal(why + " (CERULEAN_E2E_REQUIRE=1)")
	}
	t.Skip(why)
}
