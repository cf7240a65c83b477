package image

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/cerulean/cerulean/internal/containergroup"
)

// aclFront makes a testRegistry behave like a multi-tenant registry: a
// token flow whose tokens name their user, pull rights per user and
// repository (a token without them gets 401, ACR's empty grant), and blobs
// that exist only in the repositories they were pushed to
// (go-containerregistry's registry shares every blob among all).
type aclFront struct {
	host   string
	rights map[string][]string // user → repositories it may use ("*": all)
	mu     sync.Mutex
	linked map[string]map[string]bool // repository → blobs pushed there
	served map[string]int             // "METHOD path" → requests let through
}

func newACLFront(host string, rights map[string][]string) *aclFront {
	return &aclFront{host: host, rights: rights, linked: map[string]map[string]bool{}, served: map[string]int{}}
}

func (a *aclFront) count(method, path string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.served[method+" "+path]
}

// unlink drops blobs from repo, as if its manifest had been stored without
// them.
func (a *aclFront) unlink(repo string, blobs ...v1.Hash) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, b := range blobs {
		delete(a.linked[repo], b.String())
	}
}

func (a *aclFront) serve(w http.ResponseWriter, r *http.Request) bool {
	if r.URL.Path == "/token" {
		u, p, ok := r.BasicAuth()
		if _, known := a.rights[u]; !ok || !known || p != secret {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}`)
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"tok-%s"}`, u)
		return false
	}
	user, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer tok-")
	if _, known := a.rights[user]; !known {
		user = ""
	}
	path := strings.TrimPrefix(r.URL.Path, "/v2/")
	repo, rest, isBlob := strings.Cut(path, "/blobs/")
	if !isBlob {
		repo, _, _ = strings.Cut(path, "/manifests/")
	}
	if user == "" || (r.URL.Path != "/v2/" && !slices.Contains(a.rights[user], "*") && !slices.Contains(a.rights[user], repo)) {
		challenge := `Bearer realm="https://` + a.host + `/token",service="test"`
		if r.URL.Path != "/v2/" {
			challenge += `,scope="repository:` + repo + `:pull"`
		}
		w.Header().Set("WWW-Authenticate", challenge)
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if isBlob {
		if strings.HasPrefix(rest, "uploads") {
			if d := r.URL.Query().Get("digest"); d != "" {
				if a.linked[repo] == nil {
					a.linked[repo] = map[string]bool{}
				}
				a.linked[repo][d] = true
			}
		} else if !a.linked[repo][rest] {
			w.WriteHeader(http.StatusNotFound)
			if r.Method != http.MethodHead {
				io.WriteString(w, `{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]}`)
			}
			return false
		}
	}
	a.served[r.Method+" "+r.URL.Path]++
	return true
}

// withEnv is img with one more environment variable: another config and
// manifest over the same layer blobs.
func withEnv(t *testing.T, img v1.Image, env string) v1.Image {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.Config.Env = append(cf.Config.Env, env)
	out, err := mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPullSharesLayersOnlyWithAuthorizedCallers: the layer cache is shared
// by tenants, and a diffID is no secret. A cached layer goes only to a
// caller whose manifest names a blob known to inflate to it and whom the
// registry lets pull that blob; an image claiming another's diffIDs gets
// its own blobs checked against them instead.
func TestPullSharesLayersOnlyWithAuthorizedCallers(t *testing.T) {
	reg := newTestRegistry(t)
	acl := newACLFront(reg.host, map[string][]string{
		"pusher":    {"*"},
		"victim":    {"victim/app"},
		"colleague": {"victim/app", "team/app", "team/zstd"},
		"attacker":  {"attacker/app", "attacker/mirror"},
	})
	reg.setFront(acl.serve)
	pusher := &authn.Basic{Username: "pusher", Password: secret}

	privTar := layerTar(t, dir("etc"), file("etc/secret", "the victim's private key\n"))
	priv, app := gzipLayer(t, privTar), plainLayer(layerTar(t, file("app", "victim app")))
	privBlob, _ := priv.Digest()
	appBlob, _ := app.Digest()
	privDiffID, _ := priv.DiffID()
	appDiffID, _ := app.DiffID()
	victimImg := testImage(t, "linux/amd64", priv, app)
	victimDigest := reg.push(t, "victim/app:v1", victimImg, pusher)
	reg.push(t, "team/app:v1", withEnv(t, victimImg, "TEAM=1"), pusher)
	zstdPriv := zstdLayer(t, privTar) // the same tar, another blob
	zstdBlob, _ := zstdPriv.Digest()
	reg.push(t, "team/zstd:v1", testImage(t, "linux/amd64", zstdPriv, app), pusher)
	// The attacker's config claims the victim's diffIDs over its own blobs.
	evilTar := layerTar(t, dir("etc"), file("etc/secret", "planted"))
	evil := &blobLayer{data: gzipped(t, evilTar), diffID: privDiffID, mt: "application/vnd.oci.image.layer.v1.tar+gzip"}
	evilBlob, _ := evil.Digest()
	evilApp := &blobLayer{data: layerTar(t, file("app", "evil")), diffID: appDiffID, mt: "application/vnd.oci.image.layer.v1.tar"}
	reg.push(t, "attacker/app:v1", testImage(t, "linux/amd64", evil, evilApp), pusher)
	// The victim's very manifest, stored in the attacker's repository
	// without its blobs: knowing a manifest is not holding its layers.
	reg.push(t, "attacker/mirror:v1", victimImg, pusher)
	acl.unlink("attacker/mirror", privBlob, appBlob)

	dir := t.TempDir()
	c, err := New(Config{Dir: dir, Transport: reg.transport()})
	if err != nil {
		t.Fatal(err)
	}
	pull := func(c *Cache, user, repo string) (containergroup.Image, error) {
		cr := cred(reg.host, user, secret)
		ri, err := c.Resolve(t.Context(), reg.host+"/"+repo+":v1", cr)
		if err != nil {
			return containergroup.Image{}, err
		}
		return c.Pull(t.Context(), ri, cr)
	}
	blobPath := func(repo string, d v1.Hash) string { return "/v2/" + repo + "/blobs/" + d.String() }
	requests := func(repo string, blobs ...v1.Hash) (gets, heads int) {
		for _, b := range blobs {
			gets += acl.count(http.MethodGet, blobPath(repo, b))
			heads += acl.count(http.MethodHead, blobPath(repo, b))
		}
		return gets, heads
	}

	victim, err := pull(c, "victim", "victim/app")
	if err != nil {
		t.Fatal(err)
	}
	mustContent(t, filepath.Join(victim.Layers[0], "etc/secret"), "the victim's private key\n")
	if gets, _ := requests("victim/app", privBlob, appBlob); gets != 2 {
		t.Errorf("the victim's pull fetched its layers %d times, want 2", gets)
	}

	t.Run("claimed diffIDs over other blobs", func(t *testing.T) {
		_, err := pull(c, "attacker", "attacker/app")
		ie, ok := errors.AsType[*containergroup.ImageError](err)
		if !ok || ie.Check != containergroup.CheckRegistry || !strings.Contains(ie.Message, "does not match its diffID") {
			t.Fatalf("Pull of an image claiming the victim's diffIDs: %v", err)
		}
		if gets, _ := requests("attacker/app", evilBlob); gets != 1 {
			t.Errorf("the attacker's blob was fetched %d times, want 1 (checked, not trusted)", gets)
		}
		if slices.Contains(c.blobs(privDiffID.String()), evilBlob.String()) {
			t.Errorf("the attacker's blob is noted for the victim's diffID: %v", c.blobs(privDiffID.String()))
		}
		mustContent(t, filepath.Join(victim.Layers[0], "etc/secret"), "the victim's private key\n")
	})

	t.Run("manifest without the blobs in the caller's repository", func(t *testing.T) {
		ri, err := c.Resolve(t.Context(), reg.host+"/attacker/mirror:v1", cred(reg.host, "attacker", secret))
		if err != nil || ri.Digest != victimDigest.String() {
			t.Fatalf("Resolve = %+v, %v; want the victim's digest", ri, err)
		}
		_, err = c.Pull(t.Context(), ri, cred(reg.host, "attacker", secret))
		if ie, ok := errors.AsType[*containergroup.ImageError](err); !ok || ie.Check != containergroup.CheckNotFound {
			t.Fatalf("Pull of the victim's manifest from a repository without its blobs: %v", err)
		}
		if gets, heads := requests("attacker/mirror", privBlob, appBlob); gets != 0 || heads != 0 {
			t.Errorf("%d GETs and %d HEADs reached the blobs, want none (the registry refused them)", gets, heads)
		}
	})

	t.Run("no pull right on the repository", func(t *testing.T) {
		_, err := pull(c, "attacker", "victim/app")
		if ie, ok := errors.AsType[*containergroup.ImageError](err); !ok || ie.Check != containergroup.CheckDenied {
			t.Fatalf("Pull of the victim's repository by the attacker: %v", err)
		}
	})

	t.Run("authorized caller reuses the layers", func(t *testing.T) {
		got, err := pull(c, "colleague", "team/app")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Layers, victim.Layers) {
			t.Errorf("layers %v, want the cached %v", got.Layers, victim.Layers)
		}
		if gets, heads := requests("team/app", privBlob, appBlob); gets != 0 || heads != 2 {
			t.Errorf("%d GETs and %d HEADs of the layers, want 0 and 2", gets, heads)
		}
		// The victim's own image from its repository: the record, no
		// blob request at all (Resolve fetched the manifest there).
		got, err = pull(c, "colleague", "victim/app")
		if err != nil || !slices.Equal(got.Layers, victim.Layers) {
			t.Fatalf("Pull = %+v, %v", got, err)
		}
		if gets, heads := requests("victim/app", privBlob, appBlob); gets != 2 || heads != 0 {
			t.Errorf("%d GETs and %d HEADs of the layers, want only the victim's 2 GETs", gets, heads)
		}
	})

	t.Run("another compression of a cached layer", func(t *testing.T) {
		got, err := pull(c, "colleague", "team/zstd")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Layers, victim.Layers) {
			t.Errorf("layers %v, want the cached %v", got.Layers, victim.Layers)
		}
		if gets, _ := requests("team/zstd", zstdBlob); gets != 1 {
			t.Errorf("the unknown blob was fetched %d times, want 1 (verified)", gets)
		}
		if gets, heads := requests("team/zstd", appBlob); gets != 0 || heads != 1 {
			t.Errorf("the known blob: %d GETs and %d HEADs, want 0 and 1", gets, heads)
		}
		if known := c.blobs(privDiffID.String()); !slices.Equal(known, []string{privBlob.String(), zstdBlob.String()}) {
			t.Errorf("blobs noted for the diffID: %v", known)
		}
	})

	t.Run("notes survive a restart", func(t *testing.T) {
		c2, err := New(Config{Dir: dir, Transport: reg.transport()})
		if err != nil {
			t.Fatal(err)
		}
		heads0 := acl.count(http.MethodHead, blobPath("team/app", privBlob))
		if _, err := pull(c2, "colleague", "team/app"); err != nil {
			t.Fatal(err)
		}
		if _, err := pull(c2, "attacker", "attacker/app"); err == nil {
			t.Error("the attacker's image pulled after a restart")
		}
		if gets, _ := requests("team/app", privBlob); gets != 0 || acl.count(http.MethodHead, blobPath("team/app", privBlob)) != heads0 {
			t.Errorf("team/app was pulled again: the record from before the restart was not used")
		}
	})
}

// TestPullIgnoresUnverifiedRecords: a record written before layers were
// checked per caller names no repositories; the image is pulled again
// (its layers checked and authorized) rather than trusted.
func TestPullIgnoresUnverifiedRecords(t *testing.T) {
	reg := newTestRegistry(t)
	l := plainLayer(layerTar(t, file("f", "x")))
	blob, _ := l.Digest()
	reg.push(t, "app:v1", testImage(t, "linux/amd64", l), nil)
	c := newCache(t, reg.transport())
	ri, err := c.Resolve(t.Context(), reg.host+"/app:v1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Pull(t.Context(), ri, nil); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(c.recordPath(ri.Digest))
	if err != nil {
		t.Fatal(err)
	}
	old := strings.Replace(string(data), `"repositories":["`+reg.host+`/app"]`, `"repositories":null`, 1)
	if old == string(data) {
		t.Fatalf("record without repositories: %s", data)
	}
	if err := os.WriteFile(c.recordPath(ri.Digest), []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	var heads int
	var mu sync.Mutex
	reg.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodHead && strings.HasSuffix(r.URL.Path, blob.String()) {
			mu.Lock()
			heads++
			mu.Unlock()
		}
		return true
	})
	if _, err := c.Pull(t.Context(), ri, nil); err != nil {
		t.Fatal(err)
	}
	if heads != 1 {
		t.Errorf("the layer was authorized %d times, want 1", heads)
	}
	if rec, ok := c.cached(ri.Digest); !ok || !slices.Equal(rec.Repositories, []string{reg.host + "/app"}) {
		t.Errorf("record after the pull: %+v, %v", rec, ok)
	}
}
