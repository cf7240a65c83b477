package oci

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/cerulean/cerulean/api/oci"
	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/registry"
	"github.com/cerulean/cerulean/internal/server"
)

// This file is ACR's own data-plane API, /acr/v1 (api-version 2021-07-01,
// which is accepted and ignored like any other): repository, tag and
// manifest attributes, listings with n/last/orderby and relative Link
// headers, and deletes answered with 202.

var errOrderByInvalid = errdefs.New(errdefs.InvalidArgument, "ORDERBY_INVALID", "orderby must be timedesc, timeasc or none")

// acrTime formats a time as ACR does: UTC with seven fractional digits.
func acrTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.0000000Z") }

func attributes(a registry.Attributes) oci.ChangeableAttributes {
	return oci.ChangeableAttributes{DeleteEnabled: a.DeleteEnabled, WriteEnabled: a.WriteEnabled, ReadEnabled: a.ReadEnabled, ListEnabled: a.ListEnabled}
}

// decodePatch reads the attribute flags of a PATCH body; a GET has none
// (nil). Properties ACR has that Cerulean does not (teleportEnabled) are
// ignored, not refused.
func decodePatch(r *http.Request) (*registry.AttributesPatch, error) {
	if r.Method != http.MethodPatch {
		return nil, nil
	}
	var u oci.AttributesUpdate
	if err := server.DecodeJSON(r, &u, false); err != nil {
		return nil, err
	}
	return &registry.AttributesPatch{DeleteEnabled: u.DeleteEnabled, WriteEnabled: u.WriteEnabled, ReadEnabled: u.ReadEnabled, ListEnabled: u.ListEnabled}, nil
}

// parseOrderBy accepts ACR's orderby values; "none" is the default order.
func parseOrderBy(q url.Values) (string, error) {
	switch o := q.Get("orderby"); o {
	case "", "none":
		return "", nil
	case "timedesc", "timeasc":
		return o, nil
	default:
		return "", errOrderByInvalid
	}
}

// acrCatalog is GET /acr/v1/_catalog?n=&last=.
func (h *handler) acrCatalog(w http.ResponseWriter, r *http.Request, c *call) error {
	names, p, more, err := h.listRepositories(r, c)
	if err != nil {
		return err
	}
	if more {
		w.Header().Set("Link", link("/acr/v1/_catalog", "last", names[len(names)-1], "n", strconv.Itoa(p.n), "orderby", ""))
	}
	server.WriteJSON(w, http.StatusOK, oci.Catalog{Repositories: names})
	return nil
}

func (h *handler) repositoryProperties(c *call, info registry.RepositoryInfo) oci.RepositoryProperties {
	return oci.RepositoryProperties{
		Registry: c.reg.LoginServer, ImageName: c.route.name,
		CreatedTime: acrTime(info.CreatedAt), LastUpdateTime: acrTime(info.UpdatedAt),
		ManifestCount: info.ManifestCount, TagCount: info.TagCount,
		ChangeableAttributes: attributes(info.Attributes),
	}
}

// acrRepository is GET and PATCH /acr/v1/<name>.
func (h *handler) acrRepository(w http.ResponseWriter, r *http.Request, c *call) error {
	patch, err := decodePatch(r)
	if err != nil {
		return err
	}
	var info registry.RepositoryInfo
	if patch == nil {
		info, err = h.regs.Repository(r.Context(), c.reg.Name, c.route.name)
	} else {
		info, err = h.regs.UpdateRepository(r.Context(), c.reg.Name, c.route.name, *patch)
	}
	if err != nil {
		return err
	}
	server.WriteJSON(w, http.StatusOK, h.repositoryProperties(c, info))
	return nil
}

// acrDeleteRepository is DELETE /acr/v1/<name>: 202 with what was deleted.
func (h *handler) acrDeleteRepository(w http.ResponseWriter, r *http.Request, c *call) error {
	manifests, tags, err := h.regs.DeleteRepository(r.Context(), c.reg.Name, c.route.name)
	if err != nil {
		return err
	}
	out := oci.DeletedRepository{ManifestsDeleted: make([]string, len(manifests)), TagsDeleted: tags}
	for i, d := range manifests {
		out.ManifestsDeleted[i] = d.String()
	}
	if out.TagsDeleted == nil {
		out.TagsDeleted = []string{}
	}
	server.WriteJSON(w, http.StatusAccepted, out)
	return nil
}

func tagAttributes(t registry.Tag) oci.TagAttributes {
	return oci.TagAttributes{
		Name: t.Name, Digest: t.Digest.String(),
		CreatedTime: acrTime(t.CreatedAt), LastUpdateTime: acrTime(t.UpdatedAt),
		ChangeableAttributes: attributes(t.Attributes),
	}
}

// acrTags is GET /acr/v1/<name>/_tags?n=&last=&orderby=&digest=.
func (h *handler) acrTags(w http.ResponseWriter, r *http.Request, c *call) error {
	q := r.URL.Query()
	p, err := parsePage(q, defaultCatalogPage, maxCatalogPage)
	if err != nil {
		return err
	}
	orderby, err := parseOrderBy(q)
	if err != nil {
		return err
	}
	filter := q.Get("digest")
	if filter != "" {
		if _, err := parseDigest(filter); err != nil {
			return err
		}
	}
	tags, more, err := h.tagPage(r.Context(), c, p, orderby, filter)
	if err != nil {
		return err
	}
	out := oci.Tags{Registry: c.reg.LoginServer, ImageName: c.route.name, Tags: make([]oci.TagAttributes, len(tags))}
	for i, t := range tags {
		out.Tags[i] = tagAttributes(t)
	}
	if more {
		params := []string{"last", tags[len(tags)-1].Name, "n", strconv.Itoa(p.n), "orderby", q.Get("orderby")}
		if filter != "" {
			params = append(params, "digest", filter)
		}
		w.Header().Set("Link", link("/acr/v1/"+c.route.name+"/_tags", params...))
	}
	server.WriteJSON(w, http.StatusOK, out)
	return nil
}

// tagPage reads one page of tags. The registry lists tags by name; a
// time order or a digest filter is applied here to the repository's whole
// tag list, with last naming the tag to continue after in that order.
func (h *handler) tagPage(ctx context.Context, c *call, p page, orderby, filter string) ([]registry.Tag, bool, error) {
	if orderby == "" && filter == "" {
		ask := p.ask()
		if p.n == 0 {
			ask.N = 1
		}
		tags, err := h.regs.Tags(ctx, c.reg.Name, c.route.name, ask)
		if err != nil {
			return nil, false, err
		}
		if len(tags) > p.n {
			return tags[:p.n], p.n > 0, nil
		}
		return tags, false, nil
	}
	all, err := h.regs.Tags(ctx, c.reg.Name, c.route.name, registry.Page{})
	if err != nil {
		return nil, false, err
	}
	if filter != "" {
		all = slices.DeleteFunc(all, func(t registry.Tag) bool { return t.Digest.String() != filter })
	}
	switch orderby {
	case "timeasc":
		slices.SortStableFunc(all, func(a, b registry.Tag) int { return a.UpdatedAt.Compare(b.UpdatedAt) })
	case "timedesc":
		slices.SortStableFunc(all, func(a, b registry.Tag) int { return b.UpdatedAt.Compare(a.UpdatedAt) })
	}
	if p.last != "" {
		var i int
		if orderby == "" {
			// Name order, the registry's: continue after last even if it is gone.
			if i = slices.IndexFunc(all, func(t registry.Tag) bool { return t.Name > p.last }); i < 0 {
				i = len(all)
			}
		} else {
			// Time order: continue after last, or stop if it is gone.
			if i = slices.IndexFunc(all, func(t registry.Tag) bool { return t.Name == p.last }); i < 0 {
				return []registry.Tag{}, false, nil
			}
			i++
		}
		all = all[i:]
	}
	if len(all) > p.n {
		return all[:p.n], p.n > 0, nil
	}
	return all, false, nil
}

// tagRef checks the route's tag.
func tagRef(c *call) (string, error) {
	if !validTag(c.route.ref) {
		return "", errTagInvalid.WithMessage("invalid tag %q", truncate(c.route.ref))
	}
	return c.route.ref, nil
}

// tagUnknown turns the registry's "no such tag" into ACR's TAG_UNKNOWN;
// an unknown repository stays NAME_UNKNOWN.
func tagUnknown(err error) error {
	if errdefs.IsKind(err, errdefs.NotFound) && !errors.Is(err, registry.ErrNameUnknown) {
		return errTagUnknown.WithCause(err)
	}
	return err
}

// acrTag is GET and PATCH /acr/v1/<name>/_tags/<tag>.
func (h *handler) acrTag(w http.ResponseWriter, r *http.Request, c *call) error {
	tag, err := tagRef(c)
	if err != nil {
		return err
	}
	patch, err := decodePatch(r)
	if err != nil {
		return err
	}
	var t registry.Tag
	if patch == nil {
		t, err = h.regs.Tag(r.Context(), c.reg.Name, c.route.name, tag)
	} else {
		t, err = h.regs.UpdateTag(r.Context(), c.reg.Name, c.route.name, tag, *patch)
	}
	if err != nil {
		return tagUnknown(err)
	}
	server.WriteJSON(w, http.StatusOK, oci.TagProperties{Registry: c.reg.LoginServer, ImageName: c.route.name, Tag: tagAttributes(t)})
	return nil
}

// acrDeleteTag is DELETE /acr/v1/<name>/_tags/<tag> (202).
func (h *handler) acrDeleteTag(w http.ResponseWriter, r *http.Request, c *call) error {
	tag, err := tagRef(c)
	if err != nil {
		return err
	}
	if err := h.regs.DeleteTag(r.Context(), c.reg.Name, c.route.name, tag); err != nil {
		return tagUnknown(err)
	}
	return accepted(w)
}

// manifestAttributes describes a manifest. Children of an index are named
// by digest only (their platforms are not part of the registry's model).
func manifestAttributes(m registry.ManifestInfo) oci.ManifestAttributes {
	a := oci.ManifestAttributes{
		Digest: m.Digest.String(), ImageSize: m.Size,
		CreatedTime: acrTime(m.CreatedAt), LastUpdateTime: acrTime(m.UpdatedAt),
		Architecture: m.Architecture, OS: m.OS, MediaType: m.MediaType, ConfigMediaType: m.ConfigMediaType,
		Tags: m.Tags, ChangeableAttributes: attributes(m.Attributes),
	}
	for _, d := range m.Manifests {
		a.References = append(a.References, oci.ManifestReference{Digest: d.String()})
	}
	return a
}

// acrManifests is GET /acr/v1/<name>/_manifests?n=&last=&orderby=.
func (h *handler) acrManifests(w http.ResponseWriter, r *http.Request, c *call) error {
	q := r.URL.Query()
	p, err := parsePage(q, defaultCatalogPage, maxCatalogPage)
	if err != nil {
		return err
	}
	orderby, err := parseOrderBy(q)
	if err != nil {
		return err
	}
	ask := p.ask()
	if p.n == 0 {
		ask.N = 1
	}
	ms, err := h.regs.ManifestList(r.Context(), c.reg.Name, c.route.name, ask, orderby)
	if err != nil {
		return err
	}
	more := p.n > 0 && len(ms) > p.n
	ms = ms[:min(len(ms), p.n)]
	out := oci.Manifests{Registry: c.reg.LoginServer, ImageName: c.route.name, Manifests: make([]oci.ManifestAttributes, len(ms))}
	for i, m := range ms {
		out.Manifests[i] = manifestAttributes(m)
	}
	if more {
		w.Header().Set("Link", link("/acr/v1/"+c.route.name+"/_manifests", "last", ms[len(ms)-1].Digest.String(), "n", strconv.Itoa(p.n), "orderby", q.Get("orderby")))
	}
	server.WriteJSON(w, http.StatusOK, out)
	return nil
}

// acrManifest is GET and PATCH /acr/v1/<name>/_manifests/<digest>.
func (h *handler) acrManifest(w http.ResponseWriter, r *http.Request, c *call) error {
	d, err := parseDigest(c.route.ref)
	if err != nil {
		return err
	}
	patch, err := decodePatch(r)
	if err != nil {
		return err
	}
	var m registry.ManifestInfo
	if patch == nil {
		m, err = h.regs.Manifest(r.Context(), c.reg.Name, c.route.name, d)
	} else {
		m, err = h.regs.UpdateManifest(r.Context(), c.reg.Name, c.route.name, d, *patch)
	}
	if err != nil {
		return err
	}
	server.WriteJSON(w, http.StatusOK, oci.ManifestProperties{Registry: c.reg.LoginServer, ImageName: c.route.name, Manifest: manifestAttributes(m)})
	return nil
}
