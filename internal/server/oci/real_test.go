package oci_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/cerulean/cerulean/internal/blob/fileblob"
	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/rbac"
	"github.com/cerulean/cerulean/internal/registry"
	"github.com/cerulean/cerulean/internal/resource"
	"github.com/cerulean/cerulean/internal/resourceid"
	"github.com/cerulean/cerulean/internal/sealbox"
	"github.com/cerulean/cerulean/internal/server"
	"github.com/cerulean/cerulean/internal/server/acrtoken"
	"github.com/cerulean/cerulean/internal/server/oci"
	"github.com/cerulean/cerulean/internal/server/servertest"
)

const realDomain = "azurecr.localhost"

// realEnv is the data plane as the composition root wires it: the real
// registry service on SQLite and the file blob store, the real token
// service, behind TLS with the registry host routed to them.
type realEnv struct {
	*servertest.Env
	regs *registry.Service
	reg  registry.Registry
	tr   *recorder
}

// recorder is a transport that remembers each exchange as
// "METHOD path?query STATUS".
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	seen []string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err == nil {
		r.mu.Lock()
		r.seen = append(r.seen, req.Method+" "+req.URL.RequestURI()+" "+strconv.Itoa(resp.StatusCode))
		r.mu.Unlock()
	}
	return resp, err
}

// took reports whether an exchange matching all the parts was seen.
func (r *recorder) took(parts ...string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.ContainsFunc(r.seen, func(s string) bool {
		for _, p := range parts {
			if !strings.Contains(s, p) {
				return false
			}
		}
		return true
	})
}

func newRealEnv(t testing.TB) *realEnv {
	t.Helper()
	ctx := t.Context()
	re := &realEnv{}
	re.Env = servertest.New(t, servertest.Options{
		DNSNames: []string{"*." + realDomain},
		Handler: func(e *servertest.Env) http.Handler {
			dir := t.TempDir()
			bs, err := fileblob.New(filepath.Join(dir, "blobs"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = bs.Close() })
			box, err := sealbox.LoadOrCreate(filepath.Join(dir, "sealing-key"))
			if err != nil {
				t.Fatal(err)
			}
			_, port, _ := net.SplitHostPort(e.Addr)
			re.regs = registry.NewService(registry.Config{
				Store: e.Store.Registry(), Blobs: bs, Sealer: box, Domain: realDomain, Port: port, Logger: e.Logger,
			})
			tokens := acrtoken.New(acrtoken.Config{Logger: e.Logger, Identity: e.Identity, RBAC: e.RBAC, Registries: re.regs, Signer: e.Signer})
			data := oci.New(oci.Config{Logger: e.Logger, Registries: re.regs, Auth: tokens})
			return server.Middleware(e.Logger, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/oauth2/token", "/oauth2/exchange":
					tokens.ServeHTTP(w, r)
				default:
					data.ServeHTTP(w, r)
				}
			}))
		},
	})
	if _, _, err := re.Resources.PutGroup(ctx, re.Subscription.ID, "rg", resource.GroupInput{Location: "eastus"}); err != nil {
		t.Fatal(err)
	}
	reg, _, err := re.regs.Create(ctx, registry.CreateInput{
		Group: resourceid.ForResourceGroup(re.Subscription.ID, "rg"), Name: "myreg", Location: "eastus", SKU: "Basic", CreatedBy: re.Owner.SP.ID,
	})
	if err != nil {
		t.Fatal(err)
	}
	re.reg = reg
	// Every registry host resolves to the test server, as a hosts entry
	// or wildcard DNS would make it.
	re.tr = &recorder{next: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: re.CA},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, re.Addr)
		},
	}}
	return re
}

// principal registers a service principal holding role on the registry
// (none when role is "").
func (re *realEnv) principal(t *testing.T, displayName, role string) authn.Authenticator {
	t.Helper()
	p := re.NewPrincipal(t, displayName, identity.OnApplication)
	if role != "" {
		re.Assign(t, p.SP.ID, role, re.reg.ID)
	}
	return &authn.Basic{Username: p.App.AppID, Password: p.Secret}
}

func (re *realEnv) opts(ctx context.Context, auth authn.Authenticator) []remote.Option {
	return []remote.Option{remote.WithAuth(auth), remote.WithTransport(re.tr), remote.WithContext(ctx)}
}

func (re *realEnv) ref(t *testing.T, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(re.reg.LoginServer + "/" + s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// wantStatus checks that err is a registry error with the status.
func wantStatus(t *testing.T, err error, status int) {
	t.Helper()
	var te *transport.Error
	if !errors.As(err, &te) || te.StatusCode != status {
		t.Fatalf("want a %d from the registry, got %v", status, err)
	}
}

// readAll pulls every layer of img, which go-containerregistry verifies
// against its digest.
func readAll(t *testing.T, img v1.Image) {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, rc); err != nil {
			t.Fatal(err)
		}
		if err := rc.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRealRegistry pushes and pulls with go-containerregistry (crane's
// library) through the real token service and registry, with the access
// each ACR role gives.
func TestRealRegistry(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	ctx := t.Context()
	re := newRealEnv(t)
	pusher := re.principal(t, "pusher", rbac.AcrPushID)
	puller := re.principal(t, "puller", rbac.AcrPullID)
	nobody := re.principal(t, "nobody", "")
	owner := &authn.Basic{Username: re.Owner.App.AppID, Password: re.Owner.Secret}

	img, err := random.Image(64<<10, 3)
	if err != nil {
		t.Fatal(err)
	}
	want, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	tagged := re.ref(t, "samples/hello:v1")

	t.Run("push with acrpush", func(t *testing.T) {
		if err := remote.Write(tagged, img, re.opts(ctx, pusher)...); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("pull with acrpull", func(t *testing.T) {
		got, err := remote.Image(tagged, re.opts(ctx, puller)...)
		if err != nil {
			t.Fatal(err)
		}
		if d, _ := got.Digest(); d != want {
			t.Fatalf("digest %s, want %s", d, want)
		}
		readAll(t, got)
	})
	t.Run("acrpull may not push", func(t *testing.T) {
		wantStatus(t, remote.Write(re.ref(t, "samples/hello:v2"), img, re.opts(ctx, puller)...), http.StatusUnauthorized)
	})
	t.Run("no role, no pull", func(t *testing.T) {
		_, err := remote.Image(tagged, re.opts(ctx, nobody)...)
		wantStatus(t, err, http.StatusUnauthorized)
	})
	t.Run("anonymous, no pull", func(t *testing.T) {
		_, err := remote.Image(tagged, re.opts(ctx, authn.Anonymous)...)
		wantStatus(t, err, http.StatusUnauthorized)
	})
	t.Run("cross-repository mount", func(t *testing.T) {
		src, err := remote.Image(tagged, re.opts(ctx, pusher)...)
		if err != nil {
			t.Fatal(err)
		}
		copied := re.ref(t, "copies/hello:v1")
		if err := remote.Write(copied, src, re.opts(ctx, pusher)...); err != nil {
			t.Fatal(err)
		}
		if !re.tr.took("POST /v2/copies/hello/blobs/uploads/?", "from=samples%2Fhello", "mount=sha256", " 201") {
			t.Errorf("no layer was mounted: %v", re.tr.seen)
		}
		got, err := remote.Image(copied, re.opts(ctx, puller)...)
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, got)
	})
	t.Run("index", func(t *testing.T) {
		idx, err := random.Index(1024, 1, 2)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.WriteIndex(re.ref(t, "samples/multi:v1"), idx, re.opts(ctx, pusher)...); err != nil {
			t.Fatal(err)
		}
		got, err := remote.Index(re.ref(t, "samples/multi:v1"), re.opts(ctx, puller)...)
		if err != nil {
			t.Fatal(err)
		}
		if d1, _ := got.Digest(); d1 != mustDigest(t, idx) {
			t.Errorf("index digest %s", d1)
		}
	})
	t.Run("referrers", func(t *testing.T) {
		subject, err := remote.Get(tagged, re.opts(ctx, pusher)...)
		if err != nil {
			t.Fatal(err)
		}
		art := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), "application/vnd.example.sbom.v1")
		art = mutate.Subject(art, subject.Descriptor).(v1.Image)
		artDigest := mustDigest(t, art)
		if err := remote.Write(re.ref(t, "samples/hello:sbom"), art, re.opts(ctx, pusher)...); err != nil {
			t.Fatal(err)
		}
		d, err := name.NewDigest(re.reg.LoginServer + "/samples/hello@" + subject.Digest.String())
		if err != nil {
			t.Fatal(err)
		}
		idx, err := remote.Referrers(d, re.opts(ctx, puller)...)
		if err != nil {
			t.Fatal(err)
		}
		im, err := idx.IndexManifest()
		if err != nil {
			t.Fatal(err)
		}
		if len(im.Manifests) != 1 || im.Manifests[0].Digest != artDigest || im.Manifests[0].ArtifactType != "application/vnd.example.sbom.v1" {
			t.Errorf("referrers %+v", im.Manifests)
		}
		if !re.tr.took("GET /v2/samples/hello/referrers/"+subject.Digest.String(), " 200") {
			t.Errorf("the referrers API was not used: %v", re.tr.seen)
		}
	})
	t.Run("list", func(t *testing.T) {
		tags, err := remote.List(tagged.Context(), re.opts(ctx, puller)...)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(tags, []string{"sbom", "v1"}) {
			t.Errorf("tags %v", tags)
		}
		repos, err := remote.Catalog(ctx, tagged.Context().Registry, re.opts(ctx, puller)...)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(repos, []string{"copies/hello", "samples/hello", "samples/multi"}) {
			t.Errorf("repositories %v", repos)
		}
	})
	t.Run("delete", func(t *testing.T) {
		byDigest := re.ref(t, "samples/hello@"+want.String())
		wantStatus(t, remote.Delete(byDigest, re.opts(ctx, pusher)...), http.StatusUnauthorized) // AcrPush has no delete
		if err := remote.Delete(byDigest, re.opts(ctx, owner)...); err != nil {
			t.Fatal(err)
		}
		_, err := remote.Image(tagged, re.opts(ctx, puller)...)
		wantStatus(t, err, http.StatusNotFound)
	})
}

type digester interface{ Digest() (v1.Hash, error) }

func mustDigest(t *testing.T, d digester) v1.Hash {
	t.Helper()
	h, err := d.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestRealChallengeAndIsolation checks the stack's 401 challenge byte for
// byte, and that a token minted for one registry is refused by another.
func TestRealChallengeAndIsolation(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	ctx := t.Context()
	re := newRealEnv(t)
	other, _, err := re.regs.Create(ctx, registry.CreateInput{
		Group: resourceid.ForResourceGroup(re.Subscription.ID, "rg"), Name: "otherreg", Location: "eastus", SKU: "Basic", CreatedBy: re.Owner.SP.ID,
	})
	if err != nil {
		t.Fatal(err)
	}
	p := re.NewPrincipal(t, "pusher", identity.OnApplication)
	re.Assign(t, p.SP.ID, rbac.AcrPushID, re.SubscriptionScope()) // on both registries
	client := &http.Client{Transport: re.tr}
	ls := re.reg.LoginServer
	get := func(url, auth string) *http.Response {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = resp.Body.Close() })
		return resp
	}

	resp := get("https://"+ls+"/v2/", "")
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Www-Authenticate") != `Bearer realm="https://`+ls+`/oauth2/token",service="`+ls+`"` {
		t.Fatalf("%d %q", resp.StatusCode, resp.Header.Get("Www-Authenticate"))
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+ls+"/oauth2/token?service="+ls+"&scope=repository:samples/hello:pull", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(p.App.AppID, p.Secret)
	tokResp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tokResp.Body.Close() }()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(tokResp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token: %d %v", tokResp.StatusCode, err)
	}

	// The token works where it was minted: the repository is simply empty.
	resp = get("https://"+ls+"/v2/samples/hello/manifests/v1", "Bearer "+tok.AccessToken)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("own registry: %d", resp.StatusCode)
	}
	// Elsewhere it is refused with a challenge naming the other registry.
	resp = get("https://"+other.LoginServer+"/v2/samples/hello/manifests/v1", "Bearer "+tok.AccessToken)
	ols := other.LoginServer
	if resp.StatusCode != http.StatusUnauthorized ||
		resp.Header.Get("Www-Authenticate") != `Bearer realm="https://`+ols+`/oauth2/token",service="`+ols+`",scope="repository:samples/hello:pull",error="invalid_token"` {
		t.Errorf("other registry: %d %q", resp.StatusCode, resp.Header.Get("Www-Authenticate"))
	}
	// An unknown registry host is 404 NAME_UNKNOWN.
	resp = get("https://nothere."+realDomain+":"+strings.Split(ls, ":")[1]+"/v2/", "")
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown registry: %d", resp.StatusCode)
	}
}
