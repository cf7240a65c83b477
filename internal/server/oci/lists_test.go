package oci

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

// tagRepo makes repo with the tags, all on one manifest.
func (e *testEnv) tagRepo(repo string, tags ...string) digest.Digest {
	e.t.Helper()
	body, d := e.pushImage(repo, tags[0], "")
	for _, tag := range tags[1:] {
		rec := e.do("PUT", "/v2/"+repo+"/manifests/"+tag, authAll, bytes.NewReader(body), "Content-Type", mediaTypeOCIManifest)
		wantStatus(e.t, rec, http.StatusCreated)
	}
	return d
}

func TestTagList(t *testing.T) {
	e := newEnv(t)
	e.tagRepo("a/b", "v3", "latest", "v1", "v2")
	tests := []struct {
		name, query, body, link string
	}{
		{"all", "", `{"name":"a/b","tags":["latest","v1","v2","v3"]}`, ""},
		{"first page", "?n=2", `{"name":"a/b","tags":["latest","v1"]}`, `</v2/a/b/tags/list?last=v1&n=2>; rel="next"`},
		{"next page", "?n=2&last=v1", `{"name":"a/b","tags":["v2","v3"]}`, ""},
		{"last only", "?last=v1", `{"name":"a/b","tags":["v2","v3"]}`, ""},
		{"exactly n", "?n=4", `{"name":"a/b","tags":["latest","v1","v2","v3"]}`, ""},
		{"n zero", "?n=0", `{"name":"a/b","tags":[]}`, ""},
		{"past the end", "?last=zzz", `{"name":"a/b","tags":[]}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := e.do("GET", "/v2/a/b/tags/list"+tt.query, authPull, nil)
			wantStatus(t, rec, http.StatusOK)
			if got := strings.TrimSpace(rec.Body.String()); got != tt.body {
				t.Errorf("body %s, want %s", got, tt.body)
			}
			wantHeaders(t, rec, "Link", tt.link, "Content-Type", "application/json; charset=utf-8")
		})
	}
	t.Run("escaped name", func(t *testing.T) {
		rec := e.do("GET", "/v2/a%2Fb/tags/list?n=1", authPull, nil)
		wantStatus(t, rec, http.StatusOK)
		wantHeaders(t, rec, "Link", `</v2/a/b/tags/list?last=latest&n=1>; rel="next"`)
	})
	t.Run("unknown repository", func(t *testing.T) {
		wantError(t, e.do("GET", "/v2/nothing/tags/list", authPull, nil), 404, "NAME_UNKNOWN")
		wantError(t, e.do("GET", "/v2/nothing/tags/list?n=0", authPull, nil), 404, "NAME_UNKNOWN")
	})
	for _, n := range []string{"-1", "x", "1.5", "99999999999999999999"} {
		t.Run("n="+n, func(t *testing.T) {
			wantError(t, e.do("GET", "/v2/a/b/tags/list?n="+n, authPull, nil), 400, "PAGINATION_NUMBER_INVALID")
		})
	}
	t.Run("n is capped", func(t *testing.T) {
		e.log.reset()
		wantStatus(t, e.do("GET", "/v2/a/b/tags/list?n=1000000", authPull, nil), http.StatusOK)
		if calls := e.log.list(); calls[len(calls)-1] != "Tags:10001" {
			t.Errorf("calls %v", calls)
		}
	})
}

func TestCatalog(t *testing.T) {
	e := newEnv(t)
	for _, r := range []string{"c", "a", "b/x"} {
		e.pushBlob(r, []byte("x"))
	}
	tests := []struct {
		name, path, body, link string
	}{
		{"all", "/v2/_catalog", `{"repositories":["a","b/x","c"]}`, ""},
		{"page", "/v2/_catalog?n=2", `{"repositories":["a","b/x"]}`, `</v2/_catalog?last=b%2Fx&n=2>; rel="next"`},
		{"next", "/v2/_catalog?n=2&last=b%2Fx", `{"repositories":["c"]}`, ""},
		{"zero", "/v2/_catalog?n=0", `{"repositories":[]}`, ""},
		{"acr all", "/acr/v1/_catalog", `{"repositories":["a","b/x","c"]}`, ""},
		{"acr page", "/acr/v1/_catalog?n=1&api-version=2021-07-01", `{"repositories":["a"]}`, `</acr/v1/_catalog?last=a&n=1&orderby=>; rel="next"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := e.do("GET", tt.path, authAll, nil)
			wantStatus(t, rec, http.StatusOK)
			if got := strings.TrimSpace(rec.Body.String()); got != tt.body {
				t.Errorf("body %s, want %s", got, tt.body)
			}
			wantHeaders(t, rec, "Link", tt.link)
		})
	}
	t.Run("empty registry", func(t *testing.T) {
		e := newEnv(t)
		rec := e.do("GET", "/v2/_catalog", authAll, nil)
		if got := strings.TrimSpace(rec.Body.String()); got != `{"repositories":[]}` {
			t.Errorf("body %s", got)
		}
	})
	t.Run("default page size", func(t *testing.T) {
		e.log.reset()
		e.do("GET", "/v2/_catalog", authAll, nil)
		if calls := e.log.list(); calls[len(calls)-1] != "Catalog:101" {
			t.Errorf("calls %v", calls)
		}
	})
}

func TestReferrers(t *testing.T) {
	e := newEnv(t)
	_, subject := e.pushImage("a", "v1", "")
	subj := `,"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + subject.String() + `","size":1}`
	sbom, sbomDigest := e.pushImage("a", "sbom", `,"artifactType":"application/vnd.example.sbom","annotations":{"k":"v"}`+subj)
	sig, sigDigest := e.pushImage("a", "sig", subj)

	sbomEntry := `{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + sbomDigest.String() + `","size":` + itoa(len(sbom)) + `,"artifactType":"application/vnd.example.sbom","annotations":{"k":"v"}}`
	sigEntry := `{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + sigDigest.String() + `","size":` + itoa(len(sig)) + `,"artifactType":"application/vnd.oci.image.config.v1+json"}`
	entries := []string{sbomEntry, sigEntry}
	if sigDigest < sbomDigest {
		entries = []string{sigEntry, sbomEntry}
	}
	index := func(e ...string) string {
		return `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[` + strings.Join(e, ",") + `]}`
	}
	tests := []struct {
		name, path, body, filters string
	}{
		{"all", "/v2/a/referrers/" + subject.String(), index(entries...), ""},
		{"filtered", "/v2/a/referrers/" + subject.String() + "?artifactType=application/vnd.example.sbom", index(sbomEntry), "artifactType"},
		{"filtered to nothing", "/v2/a/referrers/" + subject.String() + "?artifactType=x", index(), "artifactType"},
		{"unknown digest", "/v2/a/referrers/" + digest.FromString("x").String(), index(), ""},
		{"unknown repository", "/v2/nothing/referrers/" + subject.String(), index(), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := e.do("GET", tt.path, authPull, nil)
			wantStatus(t, rec, http.StatusOK)
			wantHeaders(t, rec, "Content-Type", "application/vnd.oci.image.index.v1+json", "Oci-Filters-Applied", tt.filters)
			if got := rec.Body.String(); got != tt.body {
				t.Errorf("body\n got %s\nwant %s", got, tt.body)
			}
		})
	}
	t.Run("malformed digest", func(t *testing.T) {
		wantError(t, e.do("GET", "/v2/a/referrers/sha256:x", authPull, nil), 400, "DIGEST_INVALID")
	})
	t.Run("registry failure", func(t *testing.T) {
		e.regs.fail["Referrers"] = errTagUnknown
		wantError(t, e.do("GET", "/v2/a/referrers/"+subject.String(), authPull, nil), 404, "TAG_UNKNOWN")
	})
}

func TestLink(t *testing.T) {
	for _, tt := range []struct {
		path   string
		params []string
		want   string
	}{
		{"/v2/_catalog", nil, `</v2/_catalog>; rel="next"`},
		{"/v2/a/tags/list", []string{"last", "v1", "n", "2"}, `</v2/a/tags/list?last=v1&n=2>; rel="next"`},
		{"/acr/v1/a/_manifests", []string{"last", "sha256:ab", "n", "1", "orderby", ""}, `</acr/v1/a/_manifests?last=sha256%3Aab&n=1&orderby=>; rel="next"`},
	} {
		if got := link(tt.path, tt.params...); got != tt.want {
			t.Errorf("got %s, want %s", got, tt.want)
		}
	}
}
