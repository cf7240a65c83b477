package e2e

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/cerulean/cerulean/test/roundrobin"
)

// cluster is two Cerulean servers sharing one PostgreSQL database and one
// S3 prefix, behind a round-robin proxy on loopback that sends every
// request to the other server than the last one. env drives it through
// the proxy, as clients of a load-balanced deployment would.
type cluster struct {
	servers []*server
	proxy   *roundrobin.Proxy
	env     *registryEnv
}

func startCluster(t *testing.T) *cluster {
	t.Helper()
	storeURL := postgresDatabase(t)
	blobsURL, _ := s3Blobs(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, proxyPort, _ := net.SplitHostPort(ln.Addr().String())
	// Every server names registries by the proxy's port, as servers behind
	// a load balancer name them by the balancer's.
	args := []string{"--store", storeURL, "--blobs", blobsURL, "--registry-port", proxyPort}
	c := &cluster{}
	for range 2 {
		c.servers = append(c.servers, startServer(t, t.TempDir(), freeAddr(t), args...))
	}
	a := c.servers[0]
	caPEM, err := os.ReadFile(filepath.Join(a.dataDir, "tls", "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range c.servers[1:] {
		other, err := os.ReadFile(filepath.Join(s.dataDir, "tls", "ca.pem"))
		if err != nil || !bytes.Equal(other, caPEM) {
			t.Fatalf("servers on one store have different CAs (%v)", err)
		}
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	cert, err := tls.LoadX509KeyPair(filepath.Join(a.dataDir, "tls", "server.pem"), filepath.Join(a.dataDir, "tls", "server-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	var backends []string
	for _, s := range c.servers {
		backends = append(backends, s.addr)
	}
	c.proxy, err = roundrobin.New(backends, roots)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = c.proxy.Serve(ln, cert) }()
	t.Cleanup(func() { ln.Close() })

	// az and go-containerregistry talk to the proxy, with the first
	// server's bootstrap credentials (every server's are the same).
	front := &server{dataDir: a.dataDir, addr: ln.Addr().String(), log: a.log}
	for _, kv := range a.env {
		if !strings.HasPrefix(kv, "CERULEAN_ENDPOINT=") && !strings.HasPrefix(kv, "AZURE_CONFIG_DIR=") {
			front.env = append(front.env, kv)
		}
	}
	front.env = append(front.env, "CERULEAN_ENDPOINT=https://"+front.addr, "AZURE_CONFIG_DIR="+filepath.Join(t.TempDir(), "az"))
	c.env = &registryEnv{server: front, transport: loopbackTransport(t, front)}
	c.env.mustAz(t, "login", "-o", "none")
	c.env.mustAz(t, "group", "create", "-n", "registries", "-l", "eastus", "-o", "none")
	return c
}

// direct is an environment that talks to server i alone, with its own az
// profile.
func (c *cluster) direct(t *testing.T, i int) *registryEnv {
	t.Helper()
	s := c.servers[i]
	e := &registryEnv{server: s, transport: loopbackTransport(t, s)}
	e.mustAz(t, "login", "-o", "none")
	return e
}

// TestScaleOutRegistry pushes and pulls through two servers that take
// turns on every request: tokens issued by one are honoured by the other,
// an upload begun on one is continued and committed on the other, chunk
// by chunk, and everything is read back through both.
func TestScaleOutRegistry(t *testing.T) {
	c := startCluster(t)
	e := c.env
	id, ls := e.createRegistry(t, "scaleout")
	pusher := e.newPrincipal(t, "scaleout-pusher", "acrpush", id)
	puller := e.newPrincipal(t, "scaleout-puller", "acrpull", id)

	// Layers beyond one S3 part go through multipart uploads.
	img, err := random.Image(7<<20, 3)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(ls + "/samples/spread:v1")
	if err != nil {
		t.Fatal(err)
	}
	opts := func(p principal) []remote.Option {
		return []remote.Option{remote.WithAuth(p.basic()), remote.WithTransport(e.transport), remote.WithContext(t.Context())}
	}
	if err := remote.Write(ref, img, opts(pusher)...); err != nil {
		t.Fatalf("push: %v\n%s\n%s", err, c.servers[0].log, c.servers[1].log)
	}
	for range 2 { // each request of the second pull lands where the first's did not
		pullAll(t, ref, img, opts(puller))
	}
	if err := remote.Write(mustRef(t, ls+"/samples/denied:v1"), img, opts(puller)...); err == nil {
		t.Fatal("the acrpull principal pushed")
	}

	// A chunked upload whose every request goes to the other server.
	blob := make([]byte, 13<<20)
	_, _ = rand.Read(blob)
	loc := startUploadAt(t, e, ls, "samples/chunked", pusher)
	var offset int
	for _, n := range []int{6 << 20, 6 << 20, 1 << 20} {
		loc = patchChunk(t, e, loc, pusher, blob[offset:offset+n], offset)
		offset += n
	}
	d := commitUpload(t, e, loc, pusher, blob)
	for range 2 {
		if got := getBlob(t, e, ls, "samples/chunked", d, pusher); !bytes.Equal(got, blob) {
			t.Fatalf("the chunked blob reads back different (%d bytes)", len(got))
		}
	}

	tags := e.mustAz(t, "acr", "repository", "show-tags", "-n", "scaleout", "--repository", "samples/spread", "-o", "tsv")
	if tags != "v1" {
		t.Fatalf("show-tags: %q", tags)
	}
	for i := range c.servers {
		if c.proxy.Served(i) < 20 {
			t.Fatalf("server %d served %d requests; the proxy should spread them evenly", i, c.proxy.Served(i))
		}
	}
}

// TestScaleOutRevocation checks that what one server revokes, the other
// refuses on the very next request: a regenerated admin password, a
// deleted role assignment, a deleted service principal.
func TestScaleOutRevocation(t *testing.T) {
	c := startCluster(t)
	a, b := c.direct(t, 0), c.direct(t, 1)
	id, ls := c.env.createRegistry(t, "revoked")
	pusher := c.env.newPrincipal(t, "revoked-pusher", "acrpush", id)

	// Admin user: enabled and regenerated on A, refused on B at once.
	a.mustAz(t, "acr", "update", "-n", "revoked", "--admin-enabled", "true", "-o", "none")
	old := a.mustAz(t, "acr", "credential", "show", "-n", "revoked", "--query", "passwords[0].value", "-o", "tsv")
	if st := basicStatus(t, b, ls, "revoked", old); st != http.StatusOK {
		t.Fatalf("admin password on B: %d", st)
	}
	a.mustAz(t, "acr", "credential", "renew", "-n", "revoked", "--password-name", "password", "-o", "none")
	if st := basicStatus(t, b, ls, "revoked", old); st != http.StatusUnauthorized {
		t.Fatalf("the old admin password after a renewal on A: %d on B, want 401", st)
	}

	// A principal's role: deleted on A, its Basic credentials refused on B.
	push := func(e *registryEnv, tag string) error {
		img, _ := random.Image(1024, 1)
		return remote.Write(mustRef(t, ls+"/revocation/check:"+tag), img,
			remote.WithAuth(pusher.basic()), remote.WithTransport(e.transport), remote.WithContext(t.Context()))
	}
	if err := push(b, "before"); err != nil {
		t.Fatalf("push on B: %v", err)
	}
	// An Entra token issued by B, for ARM, before the principal is deleted.
	armToken := clientCredentialsToken(t, b, pusher)
	if st, _ := b.armCall(t, armToken, http.MethodGet, "/subscriptions?api-version=2022-12-01", ""); st != http.StatusOK {
		t.Fatalf("ARM with the principal's token on B: %d", st)
	}
	a.mustAz(t, "role", "assignment", "delete", "--assignee", pusher.appID, "--role", "acrpush", "--scope", id)
	if err := push(b, "after"); err == nil {
		t.Fatal("B accepted a push from a principal whose role assignment A deleted")
	}

	// The principal itself: deleted on A; the token B issued is refused by B.
	a.mustAz(t, "ad", "sp", "delete", "--id", pusher.appID)
	if st, body := b.armCall(t, armToken, http.MethodGet, "/subscriptions?api-version=2022-12-01", ""); st != http.StatusUnauthorized {
		t.Fatalf("ARM on B with the token of a principal deleted on A: %d %s", st, body)
	}
}

// TestScaleOutKillMidPush kills one server while a chunk of an upload is
// streaming to it; the client asks the other server where the upload
// stands, sends the rest there and commits it, and the blob is whole.
// Then, with the dead server out of the rotation, a push through the
// proxy succeeds.
func TestScaleOutKillMidPush(t *testing.T) {
	c := startCluster(t)
	a, b := c.direct(t, 0), c.direct(t, 1)
	id, ls := c.env.createRegistry(t, "killed")
	pusher := c.env.newPrincipal(t, "killed-pusher", "acrpush", id)

	blob := make([]byte, 16<<20)
	_, _ = rand.Read(blob)
	loc := startUploadAt(t, a, ls, "samples/killed", pusher)
	loc = patchChunk(t, b, loc, pusher, blob[:6<<20], 0)

	// The second chunk streams to A, which dies half-way through it.
	pr, pw := io.Pipe()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPatch, absolute(ls, loc), pr)
	req.SetBasicAuth(pusher.appID, pusher.password)
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Content-Range", fmt.Sprintf("%d-%d", 6<<20, 12<<20-1))
	req.ContentLength = 6 << 20
	done := make(chan error, 1)
	go func() {
		resp, err := (&http.Client{Transport: a.transport}).Do(req)
		if err == nil {
			resp.Body.Close()
			err = fmt.Errorf("the PATCH to the killed server answered %s", resp.Status)
		}
		done <- err
	}()
	if _, err := pw.Write(blob[6<<20 : 9<<20]); err != nil {
		t.Fatal(err)
	}
	if err := c.servers[0].cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-c.servers[0].done
	pw.CloseWithError(io.ErrUnexpectedEOF)
	if err := <-done; err == nil {
		t.Fatal("the PATCH to the killed server succeeded")
	}
	c.proxy.SetDown(0, true)

	// B tells where the upload stands; the client resumes from there.
	status, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, absolute(ls, loc), nil)
	status.SetBasicAuth(pusher.appID, pusher.password)
	resp, err := (&http.Client{Transport: b.transport}).Do(status)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var last int
	if resp.StatusCode != http.StatusNoContent || !strings.HasPrefix(resp.Header.Get("Range"), "0-") {
		t.Fatalf("upload status on B: %s, Range %q", resp.Status, resp.Header.Get("Range"))
	}
	if _, err := fmt.Sscanf(resp.Header.Get("Range"), "0-%d", &last); err != nil || last+1 < 6<<20 || last+1 > 12<<20 {
		t.Fatalf("upload status on B: Range %q, want the first chunk at least", resp.Header.Get("Range"))
	}
	offset := last + 1
	loc = absolute(ls, resp.Header.Get("Location"))
	loc = patchChunk(t, b, loc, pusher, blob[offset:], offset)
	d := commitUpload(t, b, loc, pusher, blob)
	if got := getBlob(t, b, ls, "samples/killed", d, pusher); !bytes.Equal(got, blob) {
		t.Fatalf("the resumed blob reads back different (%d bytes)", len(got))
	}

	// The proxy now sends everything to B.
	img, err := random.Image(6<<20, 2)
	if err != nil {
		t.Fatal(err)
	}
	ref := mustRef(t, ls+"/samples/survivor:v1")
	opts := []remote.Option{remote.WithAuth(pusher.basic()), remote.WithTransport(c.env.transport), remote.WithContext(t.Context())}
	if err := remote.Write(ref, img, opts...); err != nil {
		t.Fatalf("push through the proxy after A died: %v", err)
	}
	pullAll(t, ref, img, opts)
}

// absolute resolves an upload Location against the login server.
func absolute(loginServer, loc string) string {
	if strings.HasPrefix(loc, "https://") {
		return loc
	}
	return "https://" + loginServer + loc
}

func startUploadAt(t *testing.T, e *registryEnv, loginServer, repo string, p principal) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, "https://"+loginServer+"/v2/"+repo+"/blobs/uploads/", nil)
	req.SetBasicAuth(p.appID, p.password)
	resp, err := (&http.Client{Transport: e.transport}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || resp.Header.Get("Location") == "" {
		t.Fatalf("start upload: %s", resp.Status)
	}
	return absolute(loginServer, resp.Header.Get("Location"))
}

// patchChunk sends chunk at offset and returns the next Location.
func patchChunk(t *testing.T, e *registryEnv, loc string, p principal, chunk []byte, offset int) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPatch, loc, bytes.NewReader(chunk))
	req.SetBasicAuth(p.appID, p.password)
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Content-Range", fmt.Sprintf("%d-%d", offset, offset+len(chunk)-1))
	resp, err := (&http.Client{Transport: e.transport}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("PATCH at %d: %s %s", offset, resp.Status, body)
	}
	if want := fmt.Sprintf("0-%d", offset+len(chunk)-1); resp.Header.Get("Range") != want {
		t.Fatalf("PATCH at %d: Range %q, want %q", offset, resp.Header.Get("Range"), want)
	}
	u, _ := url.Parse(loc)
	next, err := u.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return next.String()
}

// commitUpload finishes an upload of blob and returns its digest.
func commitUpload(t *testing.T, e *registryEnv, loc string, p principal, blob []byte) string {
	t.Helper()
	sum := sha256.Sum256(blob)
	d := "sha256:" + hex.EncodeToString(sum[:])
	u, _ := url.Parse(loc)
	q := u.Query()
	q.Set("digest", d)
	u.RawQuery = q.Encode()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPut, u.String(), nil)
	req.SetBasicAuth(p.appID, p.password)
	resp, err := (&http.Client{Transport: e.transport}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("commit: %s %s", resp.Status, body)
	}
	return d
}

func getBlob(t *testing.T, e *registryEnv, loginServer, repo, d string, p principal) []byte {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "https://"+loginServer+"/v2/"+repo+"/blobs/"+d, nil)
	req.SetBasicAuth(p.appID, p.password)
	resp, err := (&http.Client{Transport: e.transport}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET blob: %s", resp.Status)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// basicStatus is the status of GET /v2/ on e with HTTP Basic credentials.
func basicStatus(t *testing.T, e *registryEnv, loginServer, user, password string) int {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "https://"+loginServer+"/v2/", nil)
	req.SetBasicAuth(user, password)
	resp, err := (&http.Client{Transport: e.transport}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// clientCredentialsToken is an Entra token for ARM issued to p by e.
func clientCredentialsToken(t *testing.T, e *registryEnv, p principal) string {
	t.Helper()
	tenant := e.mustAz(t, "account", "show", "--query", "tenantId", "-o", "tsv")
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {p.appID}, "client_secret": {p.password},
		"scope": {"https://management.azure.com/.default"}}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, "https://"+e.addr+"/"+tenant+"/oauth2/v2.0/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := (&http.Client{Transport: e.transport, Timeout: time.Minute}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.AccessToken == "" {
		t.Fatalf("client credentials token: %s %v", resp.Status, err)
	}
	return body.AccessToken
}

func mustRef(t *testing.T, s string) name.Reference {
	t.Helper()
	ref, err := name.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}
