package oci

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/cerulean/cerulean/api/oci"
	"github.com/cerulean/cerulean/internal/registry"
	"github.com/cerulean/cerulean/internal/server"
)

// Page sizes. The spec lets a registry return fewer entries than asked as
// long as a Link header points at the rest, so every listing is bounded.
const (
	defaultCatalogPage = 100   // _catalog and /acr/v1 lists without n (ACR's default)
	maxCatalogPage     = 1000  // the most any of those returns at once
	maxTagPage         = 10000 // tags/list, which the spec asks to return whole
)

// page is a parsed ?n=&last= pair.
type page struct {
	n    int // entries to return; 0 returns none
	last string
}

// parsePage reads n and last; n absent means def, n above limit is
// lowered to it (with a Link to the rest), n malformed or negative is
// PAGINATION_NUMBER_INVALID.
func parsePage(q url.Values, def, limit int) (page, error) {
	p := page{n: def, last: q.Get("last")}
	if s := q.Get("n"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return page{}, errPaginationInvalid
		}
		p.n = min(n, limit)
	}
	return p, nil
}

// ask is the registry page that tells whether more follows: one entry
// beyond what is returned.
func (p page) ask() registry.Page { return registry.Page{Last: p.last, N: p.n + 1} }

// link formats a Link header for the next page: a path relative to the
// registry root (the Azure SDK joins it to its endpoint), with the query
// parameters in the order given.
func link(path string, params ...string) string {
	var b strings.Builder
	b.WriteByte('<')
	b.WriteString(path)
	for i := 0; i+1 < len(params); i += 2 {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(params[i])
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(params[i+1]))
	}
	b.WriteString(`>; rel="next"`)
	return b.String()
}

// tagList is GET /v2/<name>/tags/list?n=&last=: tag names in lexical
// order, 404 NAME_UNKNOWN for a repository that does not exist.
func (h *handler) tagList(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := parsePage(r.URL.Query(), maxTagPage, maxTagPage)
	if err != nil {
		return err
	}
	ask := p.ask()
	if p.n == 0 {
		ask.N = 1 // still tells an unknown repository apart
	}
	tags, err := h.regs.Tags(r.Context(), c.reg.Name, c.route.name, ask)
	if err != nil {
		return err
	}
	names := make([]string, 0, min(len(tags), p.n))
	for i := 0; i < len(tags) && i < p.n; i++ {
		names = append(names, tags[i].Name)
	}
	if p.n > 0 && len(tags) > p.n {
		w.Header().Set("Link", link("/v2/"+c.route.name+"/tags/list", "last", names[len(names)-1], "n", strconv.Itoa(p.n)))
	}
	server.WriteJSON(w, http.StatusOK, oci.TagList{Name: c.route.name, Tags: names})
	return nil
}

// catalog is GET /v2/_catalog?n=&last=: repository names in lexical order.
func (h *handler) catalog(w http.ResponseWriter, r *http.Request, c *call) error {
	names, p, more, err := h.listRepositories(r, c)
	if err != nil {
		return err
	}
	if more {
		w.Header().Set("Link", link("/v2/_catalog", "last", names[len(names)-1], "n", strconv.Itoa(p.n)))
	}
	server.WriteJSON(w, http.StatusOK, oci.Catalog{Repositories: names})
	return nil
}

// listRepositories reads one catalog page and whether more follow.
func (h *handler) listRepositories(r *http.Request, c *call) ([]string, page, bool, error) {
	p, err := parsePage(r.URL.Query(), defaultCatalogPage, maxCatalogPage)
	if err != nil {
		return nil, p, false, err
	}
	if p.n == 0 {
		return []string{}, p, false, nil
	}
	names, err := h.regs.Catalog(r.Context(), c.reg.Name, p.ask())
	if err != nil {
		return nil, p, false, err
	}
	if len(names) > p.n {
		return names[:p.n], p, true, nil
	}
	if names == nil {
		names = []string{}
	}
	return names, p, false, nil
}

// referrers is GET /v2/<name>/referrers/<digest>[?artifactType=]: an OCI
// image index of the manifests whose subject is the digest, filtered by
// artifactType when asked (OCI-Filters-Applied says so). The spec forbids
// a 404 here: an unknown repository or digest has an empty index.
func (h *handler) referrers(w http.ResponseWriter, r *http.Request, c *call) error {
	d, err := parseDigest(c.route.ref)
	if err != nil {
		return err
	}
	at := r.URL.Query().Get("artifactType")
	ms, err := h.regs.Referrers(r.Context(), c.reg.Name, c.route.name, d, at)
	if err != nil && !errors.Is(err, registry.ErrNameUnknown) {
		return err
	}
	idx := oci.Index{SchemaVersion: 2, MediaType: oci.MediaTypeImageIndex, Manifests: make([]oci.Descriptor, 0, len(ms))}
	for _, m := range ms {
		idx.Manifests = append(idx.Manifests, oci.Descriptor{
			MediaType: m.MediaType, Digest: m.Digest.String(), Size: m.Size,
			ArtifactType: m.ArtifactType, Annotations: m.Annotations,
		})
	}
	data, err := json.Marshal(idx)
	if err != nil {
		return err
	}
	hd := w.Header()
	if at != "" {
		hd.Set("Oci-Filters-Applied", "artifactType")
	}
	hd.Set("Content-Type", oci.MediaTypeImageIndex)
	hd.Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(data)
	return nil
}
