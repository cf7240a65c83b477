package oci

import (
	"errors"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/cerulean/cerulean/internal/registry"
)

// startUpload is POST /v2/<name>/blobs/uploads/, in its three forms:
//   - ?mount=<digest>[&from=<repo>]: link a blob the registry holds (201),
//     or, when it cannot, start an upload (202); without from any of the
//     registry's repositories may provide it;
//   - ?digest=<digest> with the body: a monolithic upload (201);
//   - otherwise: start an upload session (202).
func (h *handler) startUpload(w http.ResponseWriter, r *http.Request, c *call) error {
	ctx := r.Context()
	q := r.URL.Query()
	if mount := q.Get("mount"); mount != "" {
		d, err := parseDigest(mount)
		if err != nil {
			return err
		}
		from := q.Get("from")
		if from != "" && !validName(from) {
			return errNameInvalid.WithMessage("invalid repository name %q in the from parameter", truncate(from))
		}
		info, err := h.regs.MountBlob(ctx, c.reg.Name, c.route.name, from, d)
		switch {
		case err == nil:
			return blobCreated(w, c.route.name, info.Digest)
		case !errors.Is(err, registry.ErrBlobUnknown):
			return err
		}
		// Not mountable: fall back to an upload session, as the spec says.
	} else if dg := q.Get("digest"); dg != "" {
		d, err := parseDigest(dg)
		if err != nil {
			return err
		}
		info, err := h.regs.PutBlob(ctx, c.reg.Name, c.route.name, d, r.ContentLength, r.Body)
		if err != nil {
			return err
		}
		return blobCreated(w, c.route.name, info.Digest)
	}
	st, err := h.regs.StartUpload(ctx, c.reg.Name, c.route.name)
	if err != nil {
		return err
	}
	uploadHeaders(w, c.route.name, st)
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// uploadID checks the route's upload id (after authorization, like every
// reference).
func uploadID(c *call) (string, error) {
	if !validUploadID(c.route.ref) {
		return "", errUploadUnknown
	}
	return c.route.ref, nil
}

// patchUpload is PATCH /v2/<name>/blobs/uploads/<id>: a chunk (with
// Content-Range "<start>-<end>", which must continue the upload: 416
// otherwise) or a stream (without it), appended as it arrives.
func (h *handler) patchUpload(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := uploadID(c)
	if err != nil {
		return err
	}
	start, body, err := chunk(r)
	if err != nil {
		return err
	}
	st, err := h.regs.WriteUpload(r.Context(), c.reg.Name, c.route.name, id, start, body)
	if err != nil {
		return err
	}
	uploadHeaders(w, c.route.name, st)
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// completeUpload is PUT /v2/<name>/blobs/uploads/<id>?digest=<digest>,
// optionally with a last chunk: the upload is verified against the digest
// of the whole blob and committed (201).
func (h *handler) completeUpload(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := uploadID(c)
	if err != nil {
		return err
	}
	dg := r.URL.Query().Get("digest")
	if dg == "" {
		return errDigestInvalid.WithMessage("the digest parameter is required to complete an upload")
	}
	d, err := parseDigest(dg)
	if err != nil {
		return err
	}
	start, body, err := chunk(r)
	if err != nil {
		return err
	}
	info, err := h.regs.CompleteUpload(r.Context(), c.reg.Name, c.route.name, id, start, body, d)
	if err != nil {
		return err
	}
	return blobCreated(w, c.route.name, info.Digest)
}

// uploadStatus is GET /v2/<name>/blobs/uploads/<id>: where the upload
// stands (204 with Range), so a client can resume after a 416.
func (h *handler) uploadStatus(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := uploadID(c)
	if err != nil {
		return err
	}
	st, err := h.regs.UploadStatus(r.Context(), c.reg.Name, c.route.name, id)
	if err != nil {
		return err
	}
	uploadHeaders(w, c.route.name, st)
	w.Header().Del("Content-Length")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// cancelUpload is DELETE /v2/<name>/blobs/uploads/<id> (204).
func (h *handler) cancelUpload(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := uploadID(c)
	if err != nil {
		return err
	}
	if err := h.regs.CancelUpload(r.Context(), c.reg.Name, c.route.name, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// uploadHeaders are the headers of an upload in progress. Range is the
// last byte received ("0-0" before the first, as distribution writes it).
func uploadHeaders(w http.ResponseWriter, name string, st registry.UploadState) {
	hd := w.Header()
	hd.Set("Location", "/v2/"+name+"/blobs/uploads/"+st.ID)
	hd.Set("Docker-Upload-Uuid", st.ID)
	hd.Set("Range", "0-"+strconv.FormatInt(max(st.Offset-1, 0), 10))
	hd.Set("Content-Length", "0")
}

// blobCreated answers a committed or mounted blob (201).
func blobCreated(w http.ResponseWriter, name string, d digest.Digest) error {
	hd := w.Header()
	hd.Set("Location", "/v2/"+name+"/blobs/"+d.String())
	hd.Set("Docker-Content-Digest", d.String())
	hd.Set("Content-Length", "0")
	w.WriteHeader(http.StatusCreated)
	return nil
}

// chunk reads a PATCH or PUT's Content-Range. Without one the body is
// appended wherever the upload stands (start -1). With one, the body must
// be exactly the range's length: a declared Content-Length must agree
// (416 otherwise, as distribution answers), and a body of unknown length
// is cut off at the range's end and checked to reach it.
func chunk(r *http.Request) (int64, io.Reader, error) {
	cr := r.Header.Get("Content-Range")
	if cr == "" {
		return -1, r.Body, nil
	}
	start, end, ok := parseContentRange(cr)
	if !ok {
		return 0, nil, errRangeInvalid.WithMessage("invalid Content-Range %q", truncate(cr))
	}
	n := end - start + 1
	if r.ContentLength >= 0 {
		if r.ContentLength != n {
			return 0, nil, errRangeInvalid.WithMessage("the Content-Range %d-%d does not match the Content-Length %d", start, end, r.ContentLength)
		}
		return start, r.Body, nil
	}
	return start, &exactReader{r: r.Body, left: n}, nil
}

// parseContentRange parses "<start>-<end>" (the spec's form), tolerating
// a "bytes " or "bytes=" prefix and a "/<size>" or "/*" suffix that some
// clients add. Both ends are inclusive, so end ≥ start.
func parseContentRange(s string) (start, end int64, ok bool) {
	s = strings.TrimSpace(s)
	if rest, found := strings.CutPrefix(s, "bytes"); found {
		s = strings.TrimLeft(rest, " =")
	}
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	a, b, found := strings.Cut(s, "-")
	if !found {
		return 0, 0, false
	}
	start, err1 := strconv.ParseInt(a, 10, 64)
	end, err2 := strconv.ParseInt(b, 10, 64)
	// 0-9223372036854775807 is refused too: its length, end-start+1,
	// overflows an int64.
	if err1 != nil || err2 != nil || start < 0 || end < start || end-start == math.MaxInt64 {
		return 0, 0, false
	}
	return start, end, true
}

// errChunkLength is the failure of a chunk whose body does not match its
// Content-Range.
var errChunkLength = errRangeInvalid.WithMessage("the chunk's length does not match its Content-Range")

// exactReader reads exactly left bytes from r: fewer is an error at EOF,
// more is an error as soon as it is seen.
type exactReader struct {
	r    io.Reader
	left int64
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.left == 0 {
		// The range is complete: the body must end here.
		var one [1]byte
		if n, _ := io.ReadFull(e.r, one[:]); n > 0 {
			return 0, errChunkLength
		}
		return 0, io.EOF
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.r.Read(p)
	e.left -= int64(n)
	if errors.Is(err, io.EOF) {
		if e.left > 0 {
			return n, errChunkLength
		}
		err = nil // the next call checks that nothing follows
	}
	return n, err
}
