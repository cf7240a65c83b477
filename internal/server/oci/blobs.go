package oci

import (
	// The digest algorithms registries must support; go-digest needs their
	// hashes linked in to accept them.
	_ "crypto/sha256"
	_ "crypto/sha512"
	"io"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
)

// base is GET /v2/: 200 {} for any authenticated caller (a token with no
// access included), which is how docker and az check a login.
func (h *handler) base(w http.ResponseWriter, r *http.Request, _ *call) error {
	hd := w.Header()
	hd.Set("Content-Type", "application/json; charset=utf-8")
	hd.Set("Content-Length", "2")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write([]byte("{}"))
	}
	return nil
}

// parseDigest parses a digest from a path or query; anything malformed or
// of an unsupported algorithm is DIGEST_INVALID.
func parseDigest(s string) (digest.Digest, error) {
	d, err := digest.Parse(s)
	if err != nil {
		return "", errDigestInvalid.WithMessage("invalid digest %q", truncate(s))
	}
	return d, nil
}

// blobHeaders sets the headers every blob response carries. A blob's
// content never changes, so clients may cache it for good.
func blobHeaders(w http.ResponseWriter, d digest.Digest) {
	hd := w.Header()
	hd.Set("Docker-Content-Digest", d.String())
	hd.Set("Etag", `"`+d.String()+`"`)
	hd.Set("Content-Type", "application/octet-stream")
	hd.Set("Cache-Control", "max-age=31536000")
}

// getBlob is GET /v2/<name>/blobs/<digest>: the blob streamed with Range
// (206 + Content-Range), If-None-Match and If-Range support, or a redirect
// to the blob store when it hands out URLs.
func (h *handler) getBlob(w http.ResponseWriter, r *http.Request, c *call) error {
	d, err := parseDigest(c.route.ref)
	if err != nil {
		return err
	}
	if h.redirect != nil {
		if done, err := h.redirectBlob(w, r, c, d); done || err != nil {
			return err
		}
	}
	rd, err := h.regs.OpenBlob(r.Context(), c.reg.Name, c.route.name, d)
	if err != nil {
		return err
	}
	defer func() { _ = rd.Close() }()
	blobHeaders(w, d)
	if conditional(r) {
		dropEmptySuffixRanges(r.Header, rd.Size())
		http.ServeContent(w, r, "", time.Time{}, rd)
		return nil
	}
	// The common case, a whole blob: the blob store's WriteTo streams it
	// in 1 MiB chunks (around the page cache for large blobs), where
	// ServeContent would copy 32 KiB at a time.
	hd := w.Header()
	hd.Set("Accept-Ranges", "bytes")
	hd.Set("Content-Length", strconv.FormatInt(rd.Size(), 10))
	w.WriteHeader(http.StatusOK)
	_, _ = copyBlob(w, rd)
	return nil
}

// redirectBlob answers a blob GET with 307 Temporary Redirect to the blob
// store's presigned URL, as Distribution does with redirects on; the
// client sends its Range and preconditions there. done is false when the
// store does not redirect. The blob is looked up through the registry
// first, so that a URL, which anyone holding it may use until it
// expires, is only handed to callers whose repository links the blob;
// the store does not check existence, so this also keeps 404s ours. The
// URL is signed first, as that costs no round trip and a store without
// redirects on then costs nothing.
func (h *handler) redirectBlob(w http.ResponseWriter, r *http.Request, c *call, d digest.Digest) (done bool, err error) {
	u, ok, err := h.redirect.RedirectURL(r.Context(), d)
	if err != nil || !ok {
		return false, err
	}
	if _, err := h.regs.StatBlob(r.Context(), c.reg.Name, c.route.name, d); err != nil {
		return false, err
	}
	hd := w.Header()
	hd.Set("Docker-Content-Digest", d.String())
	hd.Set("Location", u.String())
	// The URL expires: the 307 must not be cached the way blob bytes are.
	hd.Set("Cache-Control", "no-store")
	hd.Set("Content-Length", "0")
	w.WriteHeader(http.StatusTemporaryRedirect)
	return true, nil
}

// dropEmptySuffixRanges removes from a Range header the suffix ranges
// that select no bytes ("-0", or any suffix of an empty blob) before
// http.ServeContent reads it: RFC 9110 §14.1.2 makes them unsatisfiable,
// but ServeContent answers them with a 206 whose Content-Range ends before
// it starts ("bytes 20-19/20", golang/go#81262). A header left with no
// range asks for one past the end instead, which ServeContent answers
// with 416 (200 for an empty blob) after weighing If-Range as usual.
func dropEmptySuffixRanges(h http.Header, size int64) {
	specs, ok := strings.CutPrefix(h.Get("Range"), "bytes=")
	if !ok {
		return // not a byte range: ServeContent refuses it
	}
	var keep []string
	dropped := false
	for spec := range strings.SplitSeq(specs, ",") {
		start, end, _ := strings.Cut(textproto.TrimString(spec), "-")
		start, end = textproto.TrimString(start), textproto.TrimString(end)
		if start == "" && end != "" && end[0] != '-' {
			if n, err := strconv.ParseInt(end, 10, 64); err == nil && min(n, size) == 0 {
				dropped = true
				continue
			}
		}
		keep = append(keep, spec)
	}
	if !dropped {
		return
	}
	if strings.TrimSpace(strings.Join(keep, "")) == "" {
		keep = []string{strconv.FormatInt(size, 10) + "-"}
	}
	h.Set("Range", "bytes="+strings.Join(keep, ","))
}

// copyBlob copies a blob to the response, with the reader's WriteTo when
// it has one, else with a 1 MiB buffer.
func copyBlob(w io.Writer, rd io.Reader) (int64, error) {
	if wt, ok := rd.(io.WriterTo); ok {
		return wt.WriteTo(writerOnly{w})
	}
	buf := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(buf)
	return io.CopyBuffer(writerOnly{w}, readerOnly{rd}, *buf)
}

// conditional reports whether a GET needs http.ServeContent: a range or a
// precondition to evaluate.
func conditional(r *http.Request) bool {
	h := r.Header
	return h.Get("Range") != "" || h.Get("If-Range") != "" || h.Get("If-None-Match") != "" ||
		h.Get("If-Match") != "" || h.Get("If-Modified-Since") != "" || h.Get("If-Unmodified-Since") != ""
}

// copyBufferSize is the buffer blob downloads are copied with.
const copyBufferSize = 1 << 20

var copyBuffers = sync.Pool{New: func() any {
	b := make([]byte, copyBufferSize)
	return &b
}}

// writerOnly and readerOnly hide ReadFrom and WriteTo, so that
// io.CopyBuffer uses the buffer it is given.
type writerOnly struct{ io.Writer }

type readerOnly struct{ io.Reader }

// headBlob is HEAD /v2/<name>/blobs/<digest>: the headers of GET, from the
// blob's metadata alone.
func (h *handler) headBlob(w http.ResponseWriter, r *http.Request, c *call) error {
	d, err := parseDigest(c.route.ref)
	if err != nil {
		return err
	}
	info, err := h.regs.StatBlob(r.Context(), c.reg.Name, c.route.name, d)
	if err != nil {
		return err
	}
	blobHeaders(w, d)
	hd := w.Header()
	hd.Set("Accept-Ranges", "bytes")
	hd.Set("Content-Length", strconv.FormatInt(info.Size, 10))
	w.WriteHeader(http.StatusOK)
	return nil
}

// deleteBlob is DELETE /v2/<name>/blobs/<digest>: the blob is unlinked
// from the repository (202); its bytes go when nothing references them.
func (h *handler) deleteBlob(w http.ResponseWriter, r *http.Request, c *call) error {
	d, err := parseDigest(c.route.ref)
	if err != nil {
		return err
	}
	if err := h.regs.DeleteBlob(r.Context(), c.reg.Name, c.route.name, d); err != nil {
		return err
	}
	return accepted(w)
}

// accepted writes an empty 202.
func accepted(w http.ResponseWriter) error {
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusAccepted)
	return nil
}
