package oci

import (
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/cerulean/cerulean/internal/blob"
	"github.com/cerulean/cerulean/internal/registry"
)

// maxManifest is the largest manifest accepted: the spec asks registries
// to take at least 4 MB, and ACR's limit is 4 MiB.
const maxManifest = 4 << 20

// checkReference validates a manifest reference: a digest (it has a
// colon, which no tag has) or a tag.
func checkReference(ref string) error {
	if strings.IndexByte(ref, ':') >= 0 {
		_, err := parseDigest(ref)
		return err
	}
	if !validTag(ref) {
		return errTagInvalid.WithMessage("invalid tag %q", truncate(ref))
	}
	return nil
}

// getManifest is GET and HEAD /v2/<name>/manifests/<reference>: the
// manifest's bytes as they were pushed, with the stored media type as
// Content-Type (no Accept negotiation: every client of a schema-2
// registry accepts what it pushed), Docker-Content-Digest and ETag, and
// 304 for a matching If-None-Match.
func (h *handler) getManifest(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := checkReference(c.route.ref); err != nil {
		return err
	}
	var (
		m   registry.Manifest
		rd  blob.Reader
		err error
	)
	if ml, ok := h.regs.(manifestLookuper); ok && c.lookup != nil {
		m, rd, err = ml.GetLookedUpManifest(r.Context(), *c.lookup)
	} else {
		m, rd, err = h.regs.GetManifest(r.Context(), c.reg.Name, c.route.name, c.route.ref)
	}
	if err != nil {
		return err
	}
	defer func() { _ = rd.Close() }()
	dg := m.Digest.String()
	etag := `"` + dg + `"`
	hd := w.Header()
	hd.Set("Docker-Content-Digest", dg)
	hd.Set("Etag", etag)
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatches(inm, etag) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	hd.Set("Content-Type", m.MediaType)
	hd.Set("Content-Length", strconv.FormatInt(m.Size, 10))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = io.CopyN(w, rd, m.Size)
	}
	return nil
}

// etagMatches reports whether an If-None-Match list names etag (or is *).
func etagMatches(header, etag string) bool {
	for v := range strings.SplitSeq(header, ",") {
		v = strings.TrimPrefix(strings.TrimSpace(v), "W/")
		if v == etag || v == "*" {
			return true
		}
	}
	return false
}

// putManifest is PUT /v2/<name>/manifests/<reference>: the body (at most
// 4 MiB; 413 beyond) is validated and stored by the registry (201 with
// Location, Docker-Content-Digest and, for a manifest with a subject,
// OCI-Subject, which tells clients the referrers API indexed it).
func (h *handler) putManifest(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := checkReference(c.route.ref); err != nil {
		return err
	}
	if r.ContentLength > maxManifest {
		return tooLarge()
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxManifest+1))
	if err != nil {
		return registry.ErrManifestInvalid.WithMessage("the manifest could not be read").WithCause(err)
	}
	if len(body) > maxManifest {
		return tooLarge()
	}
	m, err := h.regs.PutManifest(r.Context(), c.reg.Name, c.route.name, c.route.ref, mediaType(r.Header.Get("Content-Type")), body)
	if err != nil {
		return err
	}
	dg := m.Digest.String()
	hd := w.Header()
	hd.Set("Location", "/v2/"+c.route.name+"/manifests/"+dg)
	hd.Set("Docker-Content-Digest", dg)
	if m.Subject != "" {
		hd.Set("Oci-Subject", m.Subject.String())
	}
	hd.Set("Content-Length", "0")
	w.WriteHeader(http.StatusCreated)
	return nil
}

func tooLarge() error {
	return registry.ErrManifestTooLarge.WithMessage("the manifest exceeds the limit of %d bytes", maxManifest)
}

// mediaType is a Content-Type without its parameters (the spec tells
// registries to ignore them), or the value as sent when it does not parse.
func mediaType(ct string) string {
	if ct == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return strings.TrimSpace(ct)
	}
	return mt
}

// deleteManifest is DELETE /v2/<name>/manifests/<reference>: by digest the
// manifest and its tags go, by tag only the tag (202).
func (h *handler) deleteManifest(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := checkReference(c.route.ref); err != nil {
		return err
	}
	if err := h.regs.DeleteManifest(r.Context(), c.reg.Name, c.route.name, c.route.ref); err != nil {
		return err
	}
	return accepted(w)
}
