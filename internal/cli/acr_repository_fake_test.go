package cli

// The fake registry data plane behind the fake Azure server: requests whose
// Host is <registry>.azurecr.localhost[:port] (the login servers the fake
// ARM provider hands out) go here; everything else to fakeAzure.serve.
// Tokens follow ACR's flow (reference/acr-entra.md §1): the 401 challenge,
// /oauth2/exchange (an Entra token of the fake → an opaque refresh token
// bound to the registry), /oauth2/token (refresh_token and password
// grants, and docker's Basic GET) → an access token naming its scopes,
// which every /v2 and /acr/v1 route checks. /v2 content is served by
// go-containerregistry's in-memory registry; manifests pushed through it
// are recorded with deterministic times for the /acr/v1 metadata routes.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"

	"github.com/cerulean/cerulean/api/oci"
)

const fakeRegistryDomain = ".azurecr.localhost"

// newFakeTLSServer starts the fake Azure server with a certificate that
// also covers the registry login servers (*.azurecr.localhost), routing
// registry hosts to a fakeDataPlane.
func newFakeTLSServer(f *fakeAzure) *httptest.Server {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{Organization: []string{"Cerulean fake"}},
		NotBefore: time.Unix(0, 0), NotAfter: time.Date(2084, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
		DNSNames:    []string{"localhost", "example.com", "*" + fakeRegistryDomain, "*.blob" + fakeRegistryDomain},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	srv := httptest.NewUnstartedServer(&fakeRouter{f: f, dp: newFakeDataPlane(f)})
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes that tests make fail on purpose
	srv.StartTLS()
	return srv
}

type fakeRouter struct {
	f  *fakeAzure
	dp *fakeDataPlane
}

func (h *fakeRouter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		host = hh
	}
	if strings.HasSuffix(strings.ToLower(host), ".blob"+fakeRegistryDomain) {
		h.f.taskState().serveBlob(w, r)
		return
	}
	if name, ok := strings.CutSuffix(strings.ToLower(host), fakeRegistryDomain); ok && !strings.Contains(name, ".") {
		h.dp.serve(w, r, name)
		return
	}
	h.f.serve(w, r)
}

// dataPlaneOf returns the fake data plane of a test environment.
func (e *testEnv) dataPlane() *fakeDataPlane {
	return e.fake.srv.Config.Handler.(*fakeRouter).dp
}

// fakeDataPlane holds every fake registry's content and metadata.
type fakeDataPlane struct {
	f        *fakeAzure
	mu       sync.Mutex
	seq      int
	regs     map[string]*fakeDataRegistry
	requests []string

	// refuseExchange makes /oauth2/exchange answer 401.
	refuseExchange bool
	// hidden are registries ARM does not list (as for a principal that
	// may pull but not read the resource) but whose data plane answers.
	hidden map[string]*fakeRegistry
	// exchanges and tokens record the forms posted to /oauth2/exchange
	// and /oauth2/token.
	exchanges []url.Values
	tokens    []url.Values
}

type fakeDataRegistry struct {
	name  string
	oci   http.Handler
	repos map[string]*fakeRepo
}

type fakeRepo struct {
	name             string
	created, updated string
	manifests        map[string]*fakeManifest
	tags             map[string]*fakeTag
}

type fakeManifest struct {
	attrs oci.ManifestAttributes
}

type fakeTag struct {
	attrs oci.TagAttributes
}

func newFakeDataPlane(f *fakeAzure) *fakeDataPlane {
	return &fakeDataPlane{f: f, regs: map[string]*fakeDataRegistry{}}
}

// requestLog returns the data-plane requests as "METHOD URI".
func (dp *fakeDataPlane) requestLog() []string {
	dp.mu.Lock()
	defer dp.mu.Unlock()
	return append([]string(nil), dp.requests...)
}

// now is a deterministic ACR timestamp, a second later on every call.
func (dp *fakeDataPlane) now() string {
	dp.seq++
	return fakeTime.Add(time.Duration(dp.seq) * time.Second).Format("2006-01-02T15:04:05.0000000Z")
}

func acrErrorBody(w http.ResponseWriter, status int, code, msg string, detail any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(oci.ErrorResponse{Errors: []oci.Error{{Code: code, Message: msg, Detail: detail}}})
}

// fakeGrant is one access a token carries.
type fakeGrant struct{ typ, name, action string }

func (dp *fakeDataPlane) serve(w http.ResponseWriter, r *http.Request, name string) {
	dp.mu.Lock()
	defer dp.mu.Unlock()
	dp.requests = append(dp.requests, r.Method+" "+r.URL.RequestURI())
	w.Header().Set("x-ms-correlation-request-id", fmt.Sprintf("cccccccc-0000-0000-0000-%012d", len(dp.requests)))
	dp.f.mu.Lock()
	armReg := dp.f.registries[name]
	if armReg == nil {
		armReg = dp.hidden[name]
	}
	var admin []string
	if armReg != nil && armReg.reg.Properties.AdminUserEnabled {
		for _, p := range armReg.passwords {
			admin = append(admin, p.Value)
		}
	}
	dp.f.mu.Unlock()
	if armReg == nil {
		acrErrorBody(w, http.StatusNotFound, "NOT_FOUND", "registry "+name+" does not exist", nil)
		return
	}
	reg := dp.regs[name]
	if reg == nil {
		reg = &fakeDataRegistry{name: name, oci: ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))), repos: map[string]*fakeRepo{}}
		dp.regs[name] = reg
	}
	isAdmin := func(u, p string) bool {
		for _, a := range admin {
			if u == name && p == a {
				return true
			}
		}
		return false
	}
	path := r.URL.Path
	switch path {
	case "/oauth2/exchange":
		dp.exchange(w, r, name)
		return
	case "/oauth2/token":
		dp.token(w, r, name, isAdmin)
		return
	}
	// Everything else needs the access the route asks for.
	grants, authed := dp.grants(r, name, isAdmin)
	need, handler := dp.route(reg, r)
	if path == "/v2/" {
		if !authed {
			w.Header().Set("WWW-Authenticate", `Bearer realm="https://`+r.Host+`/oauth2/token",service="`+r.Host+`"`)
			acrErrorBody(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required, visit https://aka.ms/acr/authorization for more information.", nil)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = w.Write([]byte("{}"))
		return
	}
	if handler == nil {
		acrErrorBody(w, http.StatusNotFound, "NOT_FOUND", "not found", nil)
		return
	}
	if !granted(grants, need) {
		challenge := fmt.Sprintf(`Bearer realm="https://%s/oauth2/token",service="%s",scope="%s:%s:%s"`, r.Host, r.Host, need.typ, need.name, need.action)
		if authed {
			challenge += `,error="insufficient_scope"`
		}
		w.Header().Set("WWW-Authenticate", challenge)
		acrErrorBody(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required, visit https://aka.ms/acr/authorization for more information.",
			[]oci.AccessDetail{{Type: need.typ, Name: need.name, Action: need.action}})
		return
	}
	handler(w)
}

func granted(grants []fakeGrant, need fakeGrant) bool {
	for _, g := range grants {
		if g.typ == "*" {
			return true
		}
		if g.typ == need.typ && g.name == need.name && (g.action == need.action || g.action == "*") {
			return true
		}
	}
	return false
}

// grants reads the request's credential: an access token of this
// registry, or the admin user (all access).
func (dp *fakeDataPlane) grants(r *http.Request, name string, isAdmin func(u, p string) bool) ([]fakeGrant, bool) {
	if u, p, ok := r.BasicAuth(); ok {
		if isAdmin(u, p) {
			return []fakeGrant{{"*", "*", "*"}}, true
		}
		return nil, false
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	parts := strings.SplitN(tok, "|", 3)
	if !ok || len(parts) != 3 || parts[0] != "fake-access" || parts[1] != name {
		return nil, false
	}
	var out []fakeGrant
	for _, scope := range strings.Fields(parts[2]) {
		i, j := strings.IndexByte(scope, ':'), strings.LastIndexByte(scope, ':')
		if i < 0 || j <= i {
			continue
		}
		for _, a := range strings.Split(scope[j+1:], ",") {
			out = append(out, fakeGrant{scope[:i], scope[i+1 : j], a})
		}
	}
	return out, true
}

func (dp *fakeDataPlane) exchange(w http.ResponseWriter, r *http.Request, name string) {
	_ = r.ParseForm()
	dp.exchanges = append(dp.exchanges, r.PostForm)
	if r.Method != http.MethodPost {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	if dp.refuseExchange || r.PostForm.Get("grant_type") != "access_token" || !strings.HasPrefix(r.PostForm.Get("access_token"), "token-for-") {
		acrErrorBody(w, http.StatusUnauthorized, "UNAUTHORIZED", "the access token is not valid", nil)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"refresh_token": "fake-refresh|" + name})
}

func (dp *fakeDataPlane) token(w http.ResponseWriter, r *http.Request, name string, isAdmin func(u, p string) bool) {
	_ = r.ParseForm()
	access := func(scope string) string { return "fake-access|" + name + "|" + scope }
	if r.Method == http.MethodGet {
		u, p, _ := r.BasicAuth()
		scope := strings.Join(r.URL.Query()["scope"], " ")
		switch {
		case u == "00000000-0000-0000-0000-000000000000" && p == "fake-refresh|"+name:
			writeJSON(w, http.StatusOK, map[string]string{"access_token": access(scope), "refresh_token": "fake-refresh|" + name})
		case isAdmin(u, p):
			writeJSON(w, http.StatusOK, map[string]string{"access_token": access(scope)})
		default:
			acrErrorBody(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required", nil)
		}
		return
	}
	f := r.PostForm
	dp.tokens = append(dp.tokens, f)
	switch f.Get("grant_type") {
	case "refresh_token":
		if f.Get("refresh_token") != "fake-refresh|"+name {
			acrErrorBody(w, http.StatusUnauthorized, "UNAUTHORIZED", "the refresh token is not valid for this registry", nil)
			return
		}
	case "password":
		if !isAdmin(f.Get("username"), f.Get("password")) {
			acrErrorBody(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required", nil)
			return
		}
	default:
		acrErrorBody(w, http.StatusBadRequest, "UNSUPPORTED", "unsupported grant type", nil)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"access_token": access(f.Get("scope"))})
}

// route maps a data-plane request to the access it needs and its handler.
func (dp *fakeDataPlane) route(reg *fakeDataRegistry, r *http.Request) (fakeGrant, func(http.ResponseWriter)) {
	path, q := r.URL.Path, r.URL.Query()
	catalog := fakeGrant{"registry", "catalog", "*"}
	switch {
	case path == "/v2/_catalog" || path == "/acr/v1/_catalog":
		return catalog, func(w http.ResponseWriter) { dp.catalog(w, reg, path, q) }
	case strings.HasPrefix(path, "/v2/"):
		rest := strings.TrimPrefix(path, "/v2/")
		for _, marker := range []string{"/manifests/", "/blobs/", "/tags/list", "/referrers/"} {
			if i := strings.Index(rest, marker); i > 0 {
				repo, action := rest[:i], "pull"
				switch r.Method {
				case http.MethodPost, http.MethodPut, http.MethodPatch:
					action = "push"
				case http.MethodDelete:
					action = "delete"
				}
				return fakeGrant{"repository", repo, action}, func(w http.ResponseWriter) { dp.v2(w, r, reg, repo, marker) }
			}
		}
	case strings.HasPrefix(path, "/acr/v1/"):
		rest := strings.TrimPrefix(path, "/acr/v1/")
		repo, sub, item := rest, "", ""
		for _, marker := range []string{"/_tags", "/_manifests"} {
			if i := strings.Index(rest, marker); i > 0 {
				repo, sub, item = rest[:i], marker[1:], strings.TrimPrefix(rest[i+len(marker):], "/")
			}
		}
		action := "metadata_read"
		switch r.Method {
		case http.MethodPatch:
			action = "metadata_write"
		case http.MethodDelete:
			action = "delete"
		}
		return fakeGrant{"repository", repo, action}, func(w http.ResponseWriter) { dp.acr(w, r, reg, repo, sub, item) }
	}
	return fakeGrant{}, nil
}

// page applies n/last to sorted names and writes a Link when more remain.
func page(w http.ResponseWriter, names []string, q url.Values, link func(last string, n int) string) []string {
	if last := q.Get("last"); last != "" {
		for i, n := range names {
			if n == last {
				names = names[i+1:]
				break
			}
		}
	}
	if n, err := strconv.Atoi(q.Get("n")); err == nil && n >= 0 && n < len(names) {
		names = names[:n]
		if n > 0 {
			w.Header().Set("Link", "<"+link(names[n-1], n)+`>; rel="next"`)
		}
	}
	return names
}

func (dp *fakeDataPlane) catalog(w http.ResponseWriter, reg *fakeDataRegistry, path string, q url.Values) {
	names := []string{}
	for n := range reg.repos {
		names = append(names, n)
	}
	sort.Strings(names)
	names = page(w, names, q, func(last string, n int) string {
		return path + "?" + url.Values{"last": {last}, "n": {strconv.Itoa(n)}}.Encode()
	})
	writeJSON(w, http.StatusOK, oci.Catalog{Repositories: names})
}

// v2 forwards to the OCI registry and records manifest writes and deletes.
func (dp *fakeDataPlane) v2(w http.ResponseWriter, r *http.Request, reg *fakeDataRegistry, repo, marker string) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(strings.NewReader(string(body)))
	rec := httptest.NewRecorder()
	reg.oci.ServeHTTP(rec, r)
	if marker == "/manifests/" && rec.Code < 300 {
		ref := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
		switch r.Method {
		case http.MethodPut:
			dp.recordManifest(reg, repo, ref, r.Header.Get("Content-Type"), body, rec.Header().Get("Docker-Content-Digest"))
		case http.MethodDelete:
			if rp := reg.repos[repo]; rp != nil {
				dp.deleteManifest(reg, rp, ref)
			}
		}
	}
	for k, vs := range rec.Header() {
		w.Header()[k] = vs
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// ociGet reads content back from the OCI registry (no auth inside).
func (reg *fakeDataRegistry) ociGet(path string) []byte {
	rec := httptest.NewRecorder()
	reg.oci.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Body.Bytes()
}

func (reg *fakeDataRegistry) ociDelete(repo, ref string) {
	reg.oci.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodDelete, "/v2/"+repo+"/manifests/"+ref, nil))
}

func (dp *fakeDataPlane) recordManifest(reg *fakeDataRegistry, repo, ref, contentType string, body []byte, digest string) {
	now := dp.now()
	rp := reg.repos[repo]
	if rp == nil {
		rp = &fakeRepo{name: repo, created: now, manifests: map[string]*fakeManifest{}, tags: map[string]*fakeTag{}}
		reg.repos[repo] = rp
	}
	rp.updated = now
	var m struct {
		MediaType string `json:"mediaType"`
		Config    struct {
			MediaType string `json:"mediaType"`
			Digest    string `json:"digest"`
			Size      int64  `json:"size"`
		} `json:"config"`
		Layers []struct {
			Size int64 `json:"size"`
		} `json:"layers"`
		Manifests []struct {
			Digest   string `json:"digest"`
			Size     int64  `json:"size"`
			Platform *struct {
				OS           string `json:"os"`
				Architecture string `json:"architecture"`
			} `json:"platform"`
		} `json:"manifests"`
	}
	_ = json.Unmarshal(body, &m)
	mf := rp.manifests[digest]
	if mf == nil {
		mf = &fakeManifest{attrs: oci.ManifestAttributes{Digest: digest, CreatedTime: now, MediaType: contentType,
			ChangeableAttributes: oci.ChangeableAttributes{DeleteEnabled: true, WriteEnabled: true, ReadEnabled: true, ListEnabled: true}}}
		if mf.attrs.MediaType == "" {
			mf.attrs.MediaType = m.MediaType
		}
		if m.Config.Digest != "" {
			mf.attrs.ConfigMediaType = m.Config.MediaType
			mf.attrs.ImageSize = m.Config.Size
			for _, l := range m.Layers {
				mf.attrs.ImageSize += l.Size
			}
			var cfg struct {
				OS           string `json:"os"`
				Architecture string `json:"architecture"`
			}
			_ = json.Unmarshal(reg.ociGet("/v2/"+repo+"/blobs/"+m.Config.Digest), &cfg)
			mf.attrs.OS, mf.attrs.Architecture = cfg.OS, cfg.Architecture
		}
		for _, c := range m.Manifests {
			ref := oci.ManifestReference{Digest: c.Digest}
			if c.Platform != nil {
				ref.OS, ref.Architecture = c.Platform.OS, c.Platform.Architecture
			}
			mf.attrs.References = append(mf.attrs.References, ref)
			mf.attrs.ImageSize += c.Size
		}
		rp.manifests[digest] = mf
	}
	mf.attrs.LastUpdateTime = now
	if strings.Contains(ref, ":") {
		return // by digest
	}
	if old := rp.tags[ref]; old != nil {
		dp.untagManifest(rp, old.attrs.Digest, ref)
		old.attrs.Digest, old.attrs.LastUpdateTime = digest, now
	} else {
		rp.tags[ref] = &fakeTag{attrs: oci.TagAttributes{Name: ref, Digest: digest, CreatedTime: now, LastUpdateTime: now,
			ChangeableAttributes: oci.ChangeableAttributes{DeleteEnabled: true, WriteEnabled: true, ReadEnabled: true, ListEnabled: true}}}
	}
	mf.attrs.Tags = append(mf.attrs.Tags, ref)
	sort.Strings(mf.attrs.Tags)
}

func (dp *fakeDataPlane) untagManifest(rp *fakeRepo, digest, tag string) {
	if mf := rp.manifests[digest]; mf != nil {
		var kept []string
		for _, t := range mf.attrs.Tags {
			if t != tag {
				kept = append(kept, t)
			}
		}
		mf.attrs.Tags = kept
	}
}

// deleteManifest drops a manifest and its tags (ref is a digest or a tag).
func (dp *fakeDataPlane) deleteManifest(reg *fakeDataRegistry, rp *fakeRepo, ref string) {
	digest := ref
	if t := rp.tags[ref]; t != nil {
		digest = t.attrs.Digest
	}
	for name, t := range rp.tags {
		if t.attrs.Digest == digest {
			delete(rp.tags, name)
			reg.ociDelete(rp.name, name)
		}
	}
	delete(rp.manifests, digest)
	if len(rp.manifests) == 0 {
		delete(reg.repos, rp.name)
	}
}

// acr serves /acr/v1/<repo>[/_tags[/<tag>]|/_manifests[/<digest>]].
func (dp *fakeDataPlane) acr(w http.ResponseWriter, r *http.Request, reg *fakeDataRegistry, repo, sub, item string) {
	rp := reg.repos[repo]
	if rp == nil {
		acrErrorBody(w, http.StatusNotFound, "NAME_UNKNOWN", fmt.Sprintf("repository %q is not found", repo), map[string]string{"Name": repo})
		return
	}
	loginServer := r.Host
	var patch oci.AttributesUpdate
	if r.Method == http.MethodPatch {
		_ = json.NewDecoder(r.Body).Decode(&patch)
	}
	switch {
	case sub == "" && r.Method == http.MethodDelete:
		var out oci.DeletedRepository
		for d := range rp.manifests {
			out.ManifestsDeleted = append(out.ManifestsDeleted, d)
			reg.ociDelete(repo, d)
		}
		for t := range rp.tags {
			out.TagsDeleted = append(out.TagsDeleted, t)
			reg.ociDelete(repo, t)
		}
		sort.Strings(out.ManifestsDeleted)
		sort.Strings(out.TagsDeleted)
		delete(reg.repos, repo)
		writeJSON(w, http.StatusAccepted, out)
	case sub == "":
		props := oci.RepositoryProperties{Registry: loginServer, ImageName: repo, CreatedTime: rp.created, LastUpdateTime: rp.updated,
			ManifestCount: len(rp.manifests), TagCount: len(rp.tags),
			ChangeableAttributes: oci.ChangeableAttributes{DeleteEnabled: true, WriteEnabled: true, ReadEnabled: true, ListEnabled: true}}
		writeJSON(w, http.StatusOK, props)
	case sub == "_tags" && item == "":
		tags := make([]*fakeTag, 0, len(rp.tags))
		for _, t := range rp.tags {
			tags = append(tags, t)
		}
		sortByTime(tags, func(t *fakeTag) (string, string) { return t.attrs.Name, t.attrs.LastUpdateTime }, r.URL.Query().Get("orderby"))
		names := make([]string, len(tags))
		for i, t := range tags {
			names[i] = t.attrs.Name
		}
		names = page(w, names, r.URL.Query(), func(last string, n int) string {
			return fmt.Sprintf("/acr/v1/%s/_tags?last=%s&n=%d&orderby=%s", repo, url.QueryEscape(last), n, r.URL.Query().Get("orderby"))
		})
		out := oci.Tags{Registry: loginServer, ImageName: repo, Tags: []oci.TagAttributes{}}
		for _, n := range names {
			out.Tags = append(out.Tags, rp.tags[n].attrs)
		}
		writeJSON(w, http.StatusOK, out)
	case sub == "_tags":
		t := rp.tags[item]
		if t == nil {
			acrErrorBody(w, http.StatusNotFound, "TAG_UNKNOWN", "the specified tag does not exist", map[string]string{"Tag": item})
			return
		}
		switch r.Method {
		case http.MethodDelete:
			delete(rp.tags, item)
			dp.untagManifest(rp, t.attrs.Digest, item)
			reg.ociDelete(repo, item)
			w.WriteHeader(http.StatusAccepted)
			return
		case http.MethodPatch:
			applyAttributes(&t.attrs.ChangeableAttributes, patch)
		}
		writeJSON(w, http.StatusOK, oci.TagProperties{Registry: loginServer, ImageName: repo, Tag: t.attrs})
	case sub == "_manifests" && item == "":
		ms := make([]*fakeManifest, 0, len(rp.manifests))
		for _, m := range rp.manifests {
			ms = append(ms, m)
		}
		sortByTime(ms, func(m *fakeManifest) (string, string) { return m.attrs.Digest, m.attrs.LastUpdateTime }, r.URL.Query().Get("orderby"))
		digests := make([]string, len(ms))
		for i, m := range ms {
			digests[i] = m.attrs.Digest
		}
		digests = page(w, digests, r.URL.Query(), func(last string, n int) string {
			return fmt.Sprintf("/acr/v1/%s/_manifests?last=%s&n=%d&orderby=%s", repo, url.QueryEscape(last), n, r.URL.Query().Get("orderby"))
		})
		out := oci.Manifests{Registry: loginServer, ImageName: repo, Manifests: []oci.ManifestAttributes{}}
		for _, d := range digests {
			out.Manifests = append(out.Manifests, rp.manifests[d].attrs)
		}
		writeJSON(w, http.StatusOK, out)
	default:
		m := rp.manifests[item]
		if m == nil {
			acrErrorBody(w, http.StatusNotFound, "MANIFEST_UNKNOWN", fmt.Sprintf("manifest %s is not found", item), nil)
			return
		}
		if r.Method == http.MethodPatch {
			applyAttributes(&m.attrs.ChangeableAttributes, patch)
		}
		writeJSON(w, http.StatusOK, oci.ManifestProperties{Registry: loginServer, ImageName: repo, Manifest: m.attrs})
	}
}

// sortByTime orders by name, or by last update time for timeasc/timedesc.
func sortByTime[T any](items []T, key func(T) (name, updated string), orderby string) {
	sort.Slice(items, func(i, j int) bool {
		ni, ti := key(items[i])
		nj, tj := key(items[j])
		switch {
		case orderby == "timedesc" && ti != tj:
			return ti > tj
		case orderby == "timeasc" && ti != tj:
			return ti < tj
		}
		return ni < nj
	})
}

func applyAttributes(a *oci.ChangeableAttributes, p oci.AttributesUpdate) {
	for _, f := range []struct {
		dst *bool
		src *bool
	}{{&a.DeleteEnabled, p.DeleteEnabled}, {&a.WriteEnabled, p.WriteEnabled}, {&a.ReadEnabled, p.ReadEnabled}, {&a.ListEnabled, p.ListEnabled}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
}
