package oci

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/cerulean/cerulean/internal/registry"
)

const acrTestTime = "2024-05-06T07:08:09.1234567Z"

func TestACRTime(t *testing.T) {
	for in, want := range map[time.Time]string{
		testTime: acrTestTime,
		time.Date(2022, 12, 13, 9, 17, 12, 0, time.UTC):                       "2022-12-13T09:17:12.0000000Z",
		time.Date(2022, 12, 13, 10, 17, 12, 5e8, time.FixedZone("CET", 3600)): "2022-12-13T09:17:12.5000000Z",
	} {
		if got := acrTime(in); got != want {
			t.Errorf("acrTime(%v) = %s, want %s", in, got, want)
		}
	}
}

func TestACRRepository(t *testing.T) {
	e := newEnv(t)
	d := e.tagRepo("a/b", "v1", "v2")
	props := func(attrs string) string {
		return `{"registry":"myreg.azurecr.localhost:8443","imageName":"a/b","createdTime":"` + acrTestTime + `","lastUpdateTime":"` + acrTestTime +
			`","manifestCount":1,"tagCount":2,"changeableAttributes":` + attrs + `}`
	}
	all := `{"deleteEnabled":true,"writeEnabled":true,"readEnabled":true,"listEnabled":true}`
	for _, path := range []string{"/acr/v1/a/b", "/acr/v1/a%2Fb?api-version=2021-07-01"} {
		rec := e.do("GET", path, authPull, nil)
		wantStatus(t, rec, http.StatusOK)
		if got := strings.TrimSpace(rec.Body.String()); got != props(all) {
			t.Errorf("GET %s\n got %s\nwant %s", path, got, props(all))
		}
	}

	rec := e.do("PATCH", "/acr/v1/a%2Fb", authAll, strings.NewReader(`{"writeEnabled":false,"teleportEnabled":false}`), "Content-Type", "application/json")
	wantStatus(t, rec, http.StatusOK)
	want := props(`{"deleteEnabled":true,"writeEnabled":false,"readEnabled":true,"listEnabled":true}`)
	if got := strings.TrimSpace(rec.Body.String()); got != want {
		t.Errorf("PATCH\n got %s\nwant %s", got, want)
	}
	wantError(t, e.do("PATCH", "/acr/v1/a/b", authAll, strings.NewReader(`{"writeEnabled":"no"}`)), 400, "UNSUPPORTED")
	wantError(t, e.do("PATCH", "/acr/v1/a/b", authAll, strings.NewReader(``)), 400, "UNSUPPORTED")
	wantError(t, e.do("PATCH", "/acr/v1/a/b", authAll, strings.NewReader(`{}`), "Content-Type", "text/plain"), 415, "UNSUPPORTED")
	wantError(t, e.do("GET", "/acr/v1/nothing", authAll, nil), 404, "NAME_UNKNOWN")

	rec = e.do("DELETE", "/acr/v1/a/b", authAll, nil)
	wantStatus(t, rec, http.StatusAccepted)
	if got, want := strings.TrimSpace(rec.Body.String()), `{"manifestsDeleted":["`+d.String()+`"],"tagsDeleted":["v1","v2"]}`; got != want {
		t.Errorf("DELETE\n got %s\nwant %s", got, want)
	}
	wantError(t, e.do("DELETE", "/acr/v1/a/b", authAll, nil), 404, "NAME_UNKNOWN")
}

func TestACRDeleteEmptyRepository(t *testing.T) {
	e := newEnv(t)
	e.pushBlob("empty", []byte("x"))
	rec := e.do("DELETE", "/acr/v1/empty", authAll, nil)
	wantStatus(t, rec, http.StatusAccepted)
	if got := strings.TrimSpace(rec.Body.String()); got != `{"manifestsDeleted":[],"tagsDeleted":[]}` {
		t.Errorf("body %s", got)
	}
}

func TestACRTags(t *testing.T) {
	e := newEnv(t)
	d := e.tagRepo("a", "v1", "v2", "v3")
	_, od := e.pushImage("a", "w", `,"annotations":{"x":"y"}`)
	// Give the tags distinct times: v2 newest, then w, v3, v1.
	r := e.regs.repos["a"]
	for name, age := range map[string]int{"v2": 0, "w": 1, "v3": 2, "v1": 3} {
		tg := r.tags[name]
		tg.UpdatedAt = testTime.Add(-time.Duration(age) * time.Hour)
		r.tags[name] = tg
	}
	tag := func(name string, dg digest.Digest, age int) string {
		ts := acrTime(testTime.Add(-time.Duration(age) * time.Hour))
		return `{"name":"` + name + `","digest":"` + dg.String() + `","createdTime":"` + acrTestTime + `","lastUpdateTime":"` + ts +
			`","signed":false,"changeableAttributes":{"deleteEnabled":true,"writeEnabled":true,"readEnabled":true,"listEnabled":true}}`
	}
	list := func(tags ...string) string {
		return `{"registry":"myreg.azurecr.localhost:8443","imageName":"a","tags":[` + strings.Join(tags, ",") + `]}`
	}
	v1, v2, v3, w := tag("v1", d, 3), tag("v2", d, 0), tag("v3", d, 2), tag("w", od, 1)
	tests := []struct {
		name, query, body, link string
	}{
		{"all by name", "", list(v1, v2, v3, w), ""},
		{"page by name", "?n=2", list(v1, v2), `</acr/v1/a/_tags?last=v2&n=2&orderby=>; rel="next"`},
		{"next by name", "?n=2&last=v2", list(v3, w), ""},
		{"newest first", "?orderby=timedesc", list(v2, w, v3, v1), ""},
		{"newest first, paged", "?orderby=timedesc&n=2", list(v2, w), `</acr/v1/a/_tags?last=w&n=2&orderby=timedesc>; rel="next"`},
		{"newest first, next", "?orderby=timedesc&n=2&last=w", list(v3, v1), ""},
		{"oldest first", "?orderby=timeasc", list(v1, v3, w, v2), ""},
		{"gone last in time order", "?orderby=timeasc&last=gone", list(), ""},
		{"by digest", "?digest=" + od.String(), list(w), ""},
		{"by digest, paged", "?digest=" + d.String() + "&n=1&last=v1", list(v2), `</acr/v1/a/_tags?last=v2&n=1&orderby=&digest=` + strings.Replace(d.String(), ":", "%3A", 1) + `>; rel="next"`},
		{"none is the default order", "?orderby=none", list(v1, v2, v3, w), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := e.do("GET", "/acr/v1/a/_tags"+tt.query, authPull, nil)
			wantStatus(t, rec, http.StatusOK)
			if got := strings.TrimSpace(rec.Body.String()); got != tt.body {
				t.Errorf("body\n got %s\nwant %s", got, tt.body)
			}
			wantHeaders(t, rec, "Link", tt.link)
		})
	}
	wantError(t, e.do("GET", "/acr/v1/a/_tags?orderby=random", authPull, nil), 400, "UNSUPPORTED")
	wantError(t, e.do("GET", "/acr/v1/a/_tags?digest=nope", authPull, nil), 400, "DIGEST_INVALID")
	wantError(t, e.do("GET", "/acr/v1/nothing/_tags", authPull, nil), 404, "NAME_UNKNOWN")
	wantError(t, e.do("GET", "/acr/v1/nothing/_tags?orderby=timedesc", authPull, nil), 404, "NAME_UNKNOWN")
}

func TestACRTag(t *testing.T) {
	e := newEnv(t)
	d := e.tagRepo("a", "v1")
	want := func(attrs string) string {
		return `{"registry":"myreg.azurecr.localhost:8443","imageName":"a","tag":{"name":"v1","digest":"` + d.String() + `","createdTime":"` + acrTestTime +
			`","lastUpdateTime":"` + acrTestTime + `","signed":false,"changeableAttributes":` + attrs + `}}`
	}
	rec := e.do("GET", "/acr/v1/a/_tags/v1", authPull, nil)
	wantStatus(t, rec, http.StatusOK)
	if got := strings.TrimSpace(rec.Body.String()); got != want(`{"deleteEnabled":true,"writeEnabled":true,"readEnabled":true,"listEnabled":true}`) {
		t.Errorf("GET %s", got)
	}
	rec = e.do("PATCH", "/acr/v1/a/_tags/v1", authAll, strings.NewReader(`{"deleteEnabled":false,"listEnabled":false}`))
	wantStatus(t, rec, http.StatusOK)
	if got := strings.TrimSpace(rec.Body.String()); got != want(`{"deleteEnabled":false,"writeEnabled":true,"readEnabled":true,"listEnabled":false}`) {
		t.Errorf("PATCH %s", got)
	}
	wantError(t, e.do("GET", "/acr/v1/a/_tags/nope", authPull, nil), 404, "TAG_UNKNOWN")
	wantError(t, e.do("PATCH", "/acr/v1/a/_tags/nope", authAll, strings.NewReader(`{}`)), 404, "TAG_UNKNOWN")
	wantError(t, e.do("GET", "/acr/v1/nothing/_tags/v1", authPull, nil), 404, "NAME_UNKNOWN")
	wantError(t, e.do("GET", "/acr/v1/a/_tags/.bad", authPull, nil), 400, "TAG_INVALID")

	rec = e.do("DELETE", "/acr/v1/a/_tags/v1", authAll, nil)
	wantStatus(t, rec, http.StatusAccepted)
	wantError(t, e.do("DELETE", "/acr/v1/a/_tags/v1", authAll, nil), 404, "TAG_UNKNOWN")
	wantStatus(t, e.do("HEAD", "/v2/a/manifests/"+d.String(), authAll, nil), http.StatusOK)
}

func TestACRManifests(t *testing.T) {
	e := newEnv(t)
	body, d := e.pushImage("a", "v1", "")
	r := e.regs.repos["a"]
	m := r.manifests[d]
	m.m.Architecture, m.m.OS = "amd64", "linux"
	index := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + d.String() + `","size":1}]}`)
	id := digest.FromBytes(index)
	r.manifests[id] = &fakeManifest{body: index, m: registry.Manifest{Digest: id, MediaType: "application/vnd.oci.image.index.v1+json",
		Size: int64(len(index)), Manifests: []digest.Digest{d}, Attributes: registry.DefaultAttributes, CreatedAt: testTime, UpdatedAt: testTime}}

	attrs := `{"deleteEnabled":true,"writeEnabled":true,"readEnabled":true,"listEnabled":true}`
	image := `{"digest":"` + d.String() + `","imageSize":` + itoa(len(body)) + `,"createdTime":"` + acrTestTime + `","lastUpdateTime":"` + acrTestTime +
		`","architecture":"amd64","os":"linux","mediaType":"application/vnd.oci.image.manifest.v1+json","configMediaType":"application/vnd.oci.image.config.v1+json","tags":["v1"],"changeableAttributes":` + attrs + `}`
	idx := `{"digest":"` + id.String() + `","imageSize":` + itoa(len(index)) + `,"createdTime":"` + acrTestTime + `","lastUpdateTime":"` + acrTestTime +
		`","mediaType":"application/vnd.oci.image.index.v1+json","references":[{"digest":"` + d.String() + `"}],"changeableAttributes":` + attrs + `}`
	first, second := image, idx
	if id < d {
		first, second = idx, image
	}
	list := func(items ...string) string {
		return `{"registry":"myreg.azurecr.localhost:8443","imageName":"a","manifests":[` + strings.Join(items, ",") + `]}`
	}
	firstDigest := d
	if id < d {
		firstDigest = id
	}
	tests := []struct {
		name, query, body, link, call string
	}{
		{"all", "", list(first, second), "", "ManifestList:"},
		{"page", "?n=1", list(first), `</acr/v1/a/_manifests?last=` + strings.Replace(firstDigest.String(), ":", "%3A", 1) + `&n=1&orderby=>; rel="next"`, "ManifestList:"},
		{"next", "?n=1&last=" + firstDigest.String(), list(second), "", "ManifestList:"},
		{"ordered", "?orderby=timedesc", list(first, second), "", "ManifestList:timedesc"},
		{"n zero", "?n=0", list(), "", "ManifestList:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.log.reset()
			rec := e.do("GET", "/acr/v1/a/_manifests"+tt.query, authPull, nil)
			wantStatus(t, rec, http.StatusOK)
			if got := strings.TrimSpace(rec.Body.String()); got != tt.body {
				t.Errorf("body\n got %s\nwant %s", got, tt.body)
			}
			wantHeaders(t, rec, "Link", tt.link)
			if calls := e.log.list(); calls[len(calls)-1] != tt.call {
				t.Errorf("calls %v", calls)
			}
		})
	}

	props := `{"registry":"myreg.azurecr.localhost:8443","imageName":"a","manifest":` + image + `}`
	rec := e.do("GET", "/acr/v1/a/_manifests/"+d.String(), authPull, nil)
	wantStatus(t, rec, http.StatusOK)
	if got := strings.TrimSpace(rec.Body.String()); got != props {
		t.Errorf("GET\n got %s\nwant %s", got, props)
	}
	rec = e.do("PATCH", "/acr/v1/a/_manifests/"+d.String(), authAll, strings.NewReader(`{"readEnabled":false}`))
	wantStatus(t, rec, http.StatusOK)
	if got := strings.TrimSpace(rec.Body.String()); !strings.Contains(got, `"changeableAttributes":{"deleteEnabled":true,"writeEnabled":true,"readEnabled":false,"listEnabled":true}`) {
		t.Errorf("PATCH %s", got)
	}
	wantError(t, e.do("GET", "/acr/v1/a/_manifests/"+digest.FromString("x").String(), authPull, nil), 404, "MANIFEST_UNKNOWN")
	wantError(t, e.do("GET", "/acr/v1/a/_manifests/wrong-digest", authPull, nil), 400, "DIGEST_INVALID")
	wantError(t, e.do("GET", "/acr/v1/a/_manifests?orderby=x", authPull, nil), 400, "UNSUPPORTED")
	wantError(t, e.do("GET", "/acr/v1/a/_manifests?n=-2", authPull, nil), 400, "PAGINATION_NUMBER_INVALID")
	wantError(t, e.do("GET", "/acr/v1/nothing/_manifests", authPull, nil), 404, "NAME_UNKNOWN")
}
