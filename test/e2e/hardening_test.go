package e2e

// Regression tests for the registry hardening of issue 6: each drives the
// built binary and failed before its fix.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// armCall sends an ARM request with an ARM access token and returns the
// status and body.
func (e *registryEnv) armCall(t *testing.T, token, method, path, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, "https://"+e.addr+path+"?api-version=2023-07-01", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Transport: e.transport}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// startUpload starts a blob upload with a bearer token and returns the
// status (202 when the token may push).
func (e *registryEnv) startUpload(t *testing.T, loginServer, repo, token string) int {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, "https://"+loginServer+"/v2/"+repo+"/blobs/uploads/", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{Transport: e.transport}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestRegistryTokenDiesWithItsRegistry: an access token of a deleted
// registry is refused by a new registry of the same name, even when the
// delete and the re-create fall in the second the token was issued in (the
// registry's creation time and the token's iat are whole seconds, so only
// an instance identity tells the two registries apart).
func TestRegistryTokenDiesWithItsRegistry(t *testing.T) {
	e := newRegistryEnv(t)
	id, ls := e.createRegistry(t, "recycled")
	groupID := id[:strings.Index(strings.ToLower(id), "/providers/")]
	// At the group, the role survives the registry being deleted.
	pusher := e.newPrincipal(t, "recycled-pusher", "acrpush", groupID)
	armToken := e.mustAz(t, "account", "get-access-token", "--query", "accessToken", "-o", "tsv")
	armReq := func(method, body string) {
		if status, b := e.armCall(t, armToken, method, id, body); status >= 300 {
			t.Fatalf("%s %s: status %d: %s", method, id, status, b)
		}
	}
	for try := range 5 {
		// Start just after a second boundary, so that issuing, deleting and
		// re-creating happen in one second (they take milliseconds): the
		// case whole-second checks cannot tell apart.
		time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 20*time.Millisecond)))
		tok := e.accessToken(t, ls, pusher, "repository:samples/app:push,pull")
		armReq(http.MethodDelete, "")
		armReq(http.MethodPut, `{"location":"eastus","sku":{"name":"Standard"}}`)
		if status := e.startUpload(t, ls, "samples/app", tok); status != http.StatusUnauthorized {
			t.Fatalf("try %d: the re-created registry accepted the old registry's token: status %d", try, status)
		}
		// A token of the new registry works.
		if status := e.startUpload(t, ls, "samples/app", e.accessToken(t, ls, pusher, "repository:samples/app:push,pull")); status != http.StatusAccepted {
			t.Fatalf("try %d: a new token was refused: status %d", try, status)
		}
	}
}

// TestRegistryDomainChange restarts the server on the same data dir with
// another --registry-domain: login servers follow the configured domain,
// images pushed before are pulled through the new login server, tokens
// issued under the old name are refused. (That the change is logged is
// checked in internal/registry: the server's output is read by startServer
// concurrently.)
func TestRegistryDomainChange(t *testing.T) {
	dataDir, addr := t.TempDir(), freeAddr(t)
	t.Setenv("CERULEAN_REGISTRY_DOMAIN", "cr-one.test")
	s := startServer(t, dataDir, addr)
	s.mustAz(t, "login", "-o", "none")
	s.mustAz(t, "group", "create", "-n", "registries", "-l", "eastus", "-o", "none")
	e := &registryEnv{server: s, transport: loopbackTransport(t, s)}
	id, oldLS := e.createRegistry(t, "moving")
	_, port, _ := strings.Cut(addr, ":")
	if oldLS != "moving.cr-one.test:"+port {
		t.Fatalf("login server %q", oldLS)
	}
	pusher := e.newPrincipal(t, "moving-pusher", "acrpush", id)
	img, err := random.Image(64<<10, 2)
	if err != nil {
		t.Fatal(err)
	}
	push, _ := name.ParseReference(oldLS + "/samples/app:v1")
	if err := remote.Write(push, img, remote.WithAuth(pusher.basic()), remote.WithTransport(e.transport), remote.WithContext(t.Context())); err != nil {
		t.Fatalf("push: %v", err)
	}
	oldToken := e.accessToken(t, oldLS, pusher, "repository:samples/app:pull")
	s.stop(t)

	t.Setenv("CERULEAN_REGISTRY_DOMAIN", "cr-two.test")
	s2 := startServer(t, dataDir, addr)
	s2.env = s.env // the same az profile
	e2 := &registryEnv{server: s2, transport: loopbackTransport(t, s2)}
	newLS := s2.mustAz(t, "acr", "show", "-n", "moving", "--query", "loginServer", "-o", "tsv")
	if newLS != "moving.cr-two.test:"+port {
		t.Fatalf("after the domain change az acr show reports loginServer %q", newLS)
	}
	if list := s2.mustAz(t, "acr", "list", "--query", "[0].loginServer", "-o", "tsv"); list != newLS {
		t.Fatalf("az acr list reports loginServer %q", list)
	}
	pull, _ := name.ParseReference(newLS + "/samples/app:v1")
	got, err := remote.Image(pull, remote.WithAuth(pusher.basic()), remote.WithTransport(e2.transport), remote.WithContext(t.Context()))
	if err != nil {
		t.Fatalf("pull through the new login server: %v", err)
	}
	if g, _ := got.Digest(); g != mustDigest(t, img) {
		t.Fatalf("pulled %s", g)
	}
	if status := e2.bearerStatus(t, "https://"+newLS+"/v2/samples/app/tags/list", oldToken); status != http.StatusUnauthorized {
		t.Fatalf("a token issued for %s was accepted by %s: status %d", oldLS, newLS, status)
	}
}

func mustDigest(t *testing.T, img v1.Image) v1.Hash {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestManifestDuplicateKeys: a manifest or index that names a member twice
// is refused with MANIFEST_INVALID, even when the last value (the one
// encoding/json keeps) is valid; a first-wins parser would see the other.
func TestManifestDuplicateKeys(t *testing.T) {
	e := newRegistryEnv(t)
	id, ls := e.createRegistry(t, "dupkeys")
	pusher := e.newPrincipal(t, "dupkeys-pusher", "acrpush", id)
	img, err := random.Image(1024, 1)
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := name.ParseReference(ls + "/samples/app:v1")
	if err := remote.Write(ref, img, remote.WithAuth(pusher.basic()), remote.WithTransport(e.transport), remote.WithContext(t.Context())); err != nil {
		t.Fatal(err)
	}
	raw, err := img.RawManifest()
	if err != nil {
		t.Fatal(err)
	}
	mt, _ := img.MediaType()
	bogus := "sha256:" + strings.Repeat("0", 64)
	tok := e.accessToken(t, ls, pusher, "repository:samples/app:push,pull")
	put := func(tag, contentType string, body []byte) (int, string) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPut, "https://"+ls+"/v2/samples/app/manifests/"+tag, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", contentType)
		resp, err := (&http.Client{Transport: e.transport}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	layers := []byte(`"layers":[{`)
	if !bytes.Contains(raw, layers) {
		t.Fatalf("unexpected manifest shape: %s", raw)
	}
	dupManifest := bytes.Replace(raw, layers, []byte(`"layers":[{"digest":"`+bogus+`",`), 1)

	desc := fmt.Sprintf(`{"mediaType":%q,"digest":%q,"size":%d}`, mt, mustDigest(t, img), len(raw))
	index := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[` + desc + `]}`)
	dupIndex := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"digest":"` + bogus + `",` + desc[1:] + `]}`)

	for _, c := range []struct {
		name, contentType string
		body              []byte
	}{
		{"manifest", string(mt), dupManifest},
		{"index", "application/vnd.oci.image.index.v1+json", dupIndex},
	} {
		status, body := put("dup-"+c.name, c.contentType, c.body)
		if status != http.StatusBadRequest || !strings.Contains(body, "MANIFEST_INVALID") || !strings.Contains(body, `digest`) {
			t.Errorf("%s with a duplicate key: status %d, body %s", c.name, status, body)
		}
	}
	// The same documents without the duplicate are accepted.
	if status, body := put("clean-index", "application/vnd.oci.image.index.v1+json", index); status != http.StatusCreated {
		t.Fatalf("clean index: status %d, body %s", status, body)
	}
}

// TestAnonymousPullNeedsStandard: anonymous pull cannot be enabled on a
// Basic registry, nor a registry with it be moved to Basic; az prints ARM's
// 400 as Azure words it.
func TestAnonymousPullNeedsStandard(t *testing.T) {
	e := newRegistryEnv(t)
	const want = "Anonymous pull is not supported for SKU Managed_Basic"
	e.mustAz(t, "acr", "create", "-n", "basicreg", "-g", "registries", "--sku", "Basic", "-o", "none", "--only-show-errors")
	_, errOut, code := e.az(t, "acr", "update", "-n", "basicreg", "--anonymous-pull-enabled", "true", "-o", "none")
	if code == 0 || !strings.Contains(errOut, "(BadRequest) "+want) {
		t.Fatalf("enabling anonymous pull on Basic: exit %d, stderr %q", code, errOut)
	}
	if got := e.mustAz(t, "acr", "show", "-n", "basicreg", "--query", "anonymousPullEnabled", "-o", "tsv"); got != "false" {
		t.Fatalf("anonymousPullEnabled = %s after a refused update", got)
	}

	e.createRegistry(t, "stdreg")
	e.mustAz(t, "acr", "update", "-n", "stdreg", "--anonymous-pull-enabled", "true", "-o", "none")
	_, errOut, code = e.az(t, "acr", "update", "-n", "stdreg", "--sku", "Basic", "-o", "none")
	if code == 0 || !strings.Contains(errOut, want) {
		t.Fatalf("moving an anonymous-pull registry to Basic: exit %d, stderr %q", code, errOut)
	}
	if got := e.mustAz(t, "acr", "show", "-n", "stdreg", "--query", "sku.name", "-o", "tsv"); got != "Standard" {
		t.Fatalf("sku = %s after a refused downgrade", got)
	}
	// Turning anonymous pull off and downgrading in one request is fine.
	e.mustAz(t, "acr", "update", "-n", "stdreg", "--sku", "Basic", "--anonymous-pull-enabled", "false", "-o", "none")

	// A PUT that asks for both is refused as well.
	gid := e.mustAz(t, "group", "show", "-n", "registries", "--query", "id", "-o", "tsv")
	var errBody struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	armToken := e.mustAz(t, "account", "get-access-token", "--query", "accessToken", "-o", "tsv")
	status, body := e.armCall(t, armToken, http.MethodPut, gid+"/providers/Microsoft.ContainerRegistry/registries/basicanon",
		`{"location":"eastus","sku":{"name":"Basic"},"properties":{"anonymousPullEnabled":true}}`)
	if err := json.Unmarshal(body, &errBody); err != nil || status != http.StatusBadRequest || errBody.Error.Code != "BadRequest" || !strings.HasPrefix(errBody.Error.Message, want) {
		t.Fatalf("PUT Basic with anonymous pull: status %d, body %s", status, body)
	}
}
