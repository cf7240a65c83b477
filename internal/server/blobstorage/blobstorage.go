// Package blobstorage serves the slice of Azure Blob Storage that ACR
// Tasks' clients use: az uploads a build context to the URL of
// listBuildSourceUploadUrl (Put Blob, or Put Block + Put Block List) and
// tails a run's log at the URL of listLogSasUrl (HEAD for the size and the
// Complete metadata, ranged GETs), with the blob SDK of the 2018-11-09
// service version. The host is <account>.blob.<suffix>; the path is
// /<container>/<blob>; the only authorization is the shared access
// signature in the query, which the tasks service minted and checks.
package blobstorage

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/server"
	"github.com/cerulean/cerulean/internal/task"
)

// Blobs is the part of task.Service the surface calls.
type Blobs interface {
	AuthorizeBlob(ctx context.Context, container, path string, query map[string][]string, write bool) (task.BlobRef, error)
	PutSource(ctx context.Context, ref task.BlobRef, r io.Reader) (task.BlobProps, error)
	PutSourceBlock(ctx context.Context, ref task.BlobRef, blockID string, r io.Reader) error
	CommitSourceBlocks(ctx context.Context, ref task.BlobRef, ids []string) (task.BlobProps, error)
	StatBlob(ctx context.Context, ref task.BlobRef) (task.BlobProps, error)
	ReadBlob(ctx context.Context, ref task.BlobRef, off, n int64) ([]byte, task.BlobProps, error)
}

// Bounds of requests.
const (
	maxBlockList = 8 << 20  // a Put Block List body
	maxRead      = 64 << 20 // one GET's bytes: ranged reads for more
)

// New returns the blob surface's handler.
func New(logger *slog.Logger, blobs Blobs) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := &handler{blobs: blobs}
	return server.Adapt(logger, writeError, h.serve)
}

type handler struct{ blobs Blobs }

var (
	errMethod          = errdefs.New(errdefs.NotImplemented, "UnsupportedHttpVerb", "The resource doesn't support specified Http Verb.")
	errMissingHeader   = errdefs.New(errdefs.InvalidArgument, "MissingRequiredHeader", "An HTTP header that's mandatory for this request is not specified.")
	errInvalidHeader   = errdefs.New(errdefs.InvalidArgument, "InvalidHeaderValue", "The value for one of the HTTP headers is not in the correct format.")
	errInvalidQuery    = errdefs.New(errdefs.InvalidArgument, "InvalidQueryParameterValue", "Value for one of the query parameters specified in the request URI is invalid.")
	errInvalidRange    = errdefs.New(errdefs.InvalidArgument, "InvalidRange", "The range specified is invalid for the current size of the resource.")
	errInvalidXML      = errdefs.New(errdefs.InvalidArgument, "InvalidXmlDocument", "XML specified is not syntactically valid.")
	errInvalidResource = errdefs.New(errdefs.InvalidArgument, "InvalidUri", "The requested URI does not represent any resource on the server.")
	errTooLarge        = errdefs.New(errdefs.InvalidArgument, "RequestBodyTooLarge", "The request body is too large and exceeds the maximum permissible limit.")
)

func (h *handler) serve(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	hd := w.Header()
	hd.Set("x-ms-version", task.SASVersion)
	hd.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	container, path, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if !ok || container == "" || path == "" {
		return errInvalidResource
	}
	q := r.URL.Query()
	write := r.Method == http.MethodPut
	switch r.Method {
	case http.MethodPut, http.MethodGet, http.MethodHead:
	default:
		return errMethod
	}
	ref, err := h.blobs.AuthorizeBlob(ctx, container, path, q, write)
	if err != nil {
		return err
	}
	switch r.Method {
	case http.MethodPut:
		return h.put(w, r, ref, q)
	case http.MethodHead:
		props, err := h.blobs.StatBlob(ctx, ref)
		if err != nil {
			return err
		}
		setProps(hd, ref, props)
		hd.Set("Content-Length", strconv.FormatInt(props.Size, 10))
		w.WriteHeader(http.StatusOK)
		return nil
	default:
		return h.get(w, r, ref)
	}
}

func setProps(hd http.Header, ref task.BlobRef, p task.BlobProps) {
	hd.Set("Last-Modified", p.Modified.UTC().Format(http.TimeFormat))
	hd.Set("ETag", p.ETag)
	hd.Set("Accept-Ranges", "bytes")
	if ref.IsLog() {
		hd.Set("x-ms-blob-type", "AppendBlob")
		hd.Set("Content-Type", "text/plain; charset=utf-8")
	} else {
		hd.Set("x-ms-blob-type", "BlockBlob")
		hd.Set("Content-Type", "application/octet-stream")
	}
	hd.Set("x-ms-lease-status", "unlocked")
	hd.Set("x-ms-lease-state", "available")
	hd.Set("x-ms-server-encrypted", "true")
	if p.Complete != "" {
		hd.Set("x-ms-meta-Complete", p.Complete)
	}
}

func created(w http.ResponseWriter, p task.BlobProps) {
	hd := w.Header()
	hd.Set("ETag", p.ETag)
	hd.Set("Last-Modified", p.Modified.UTC().Format(http.TimeFormat))
	hd.Set("x-ms-request-server-encrypted", "true")
	hd.Set("Content-Length", "0")
	w.WriteHeader(http.StatusCreated)
}

// put serves Put Blob, Put Block and Put Block List.
func (h *handler) put(w http.ResponseWriter, r *http.Request, ref task.BlobRef, q url.Values) error {
	ctx := r.Context()
	switch comp := q.Get("comp"); comp {
	case "":
		switch bt := r.Header.Get("x-ms-blob-type"); {
		case bt == "":
			return errMissingHeader.WithMessage("An HTTP header that's mandatory for this request is not specified.\nx-ms-blob-type")
		case !strings.EqualFold(bt, "BlockBlob"):
			return errInvalidHeader.WithMessage("The value for one of the HTTP headers is not in the correct format: x-ms-blob-type must be BlockBlob.")
		}
		props, err := h.blobs.PutSource(ctx, ref, r.Body)
		if err != nil {
			return err
		}
		created(w, props)
		return nil
	case "block":
		id := q.Get("blockid")
		if id == "" {
			return errInvalidQuery.WithMessage("Value for one of the query parameters specified in the request URI is invalid.\nblockid")
		}
		if err := h.blobs.PutSourceBlock(ctx, ref, id, r.Body); err != nil {
			return err
		}
		w.Header().Set("x-ms-request-server-encrypted", "true")
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusCreated)
		return nil
	case "blocklist":
		data, err := io.ReadAll(io.LimitReader(r.Body, maxBlockList+1))
		if err != nil {
			return errInvalidXML.WithCause(err)
		}
		if len(data) > maxBlockList {
			return errTooLarge
		}
		ids, err := parseBlockList(data)
		if err != nil {
			return err
		}
		props, err := h.blobs.CommitSourceBlocks(ctx, ref, ids)
		if err != nil {
			return err
		}
		created(w, props)
		return nil
	default:
		return errInvalidQuery.WithMessage("Value for one of the query parameters specified in the request URI is invalid.\ncomp=%s is not supported.", clip(comp))
	}
}

// parseBlockList reads <BlockList> with Latest, Uncommitted or Committed
// entries, in document order (uncommitted blocks are the only ones
// Cerulean keeps, so all three name them).
func parseBlockList(data []byte) ([]string, error) {
	dec := xml.NewDecoder(strings.NewReader(string(data)))
	var (
		ids   []string
		depth int
		root  bool
	)
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, errInvalidXML.WithCause(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch {
			case depth == 1 && t.Name.Local == "BlockList":
				root = true
			case depth == 1:
				return nil, errInvalidXML
			case depth == 2 && (t.Name.Local == "Latest" || t.Name.Local == "Uncommitted" || t.Name.Local == "Committed"):
				var id string
				if err := dec.DecodeElement(&id, &t); err != nil {
					return nil, errInvalidXML.WithCause(err)
				}
				ids = append(ids, strings.TrimSpace(id))
				depth--
			default:
				return nil, errInvalidXML
			}
		case xml.EndElement:
			depth--
		}
	}
	if !root {
		return nil, errInvalidXML
	}
	return ids, nil
}

// get serves Get Blob, whole or a range (x-ms-range, else Range).
func (h *handler) get(w http.ResponseWriter, r *http.Request, ref task.BlobRef) error {
	ctx := r.Context()
	props, err := h.blobs.StatBlob(ctx, ref)
	if err != nil {
		return err
	}
	rng := r.Header.Get("x-ms-range")
	if rng == "" {
		rng = r.Header.Get("Range")
	}
	start, end := int64(0), props.Size-1
	if rng != "" {
		s, e, err := parseRange(rng)
		if err != nil {
			return err
		}
		if s >= props.Size {
			w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", props.Size))
			return errInvalidRange
		}
		start = s
		if e >= 0 {
			end = min(e, props.Size-1)
		}
	}
	n := end - start + 1
	if n > maxRead {
		return errInvalidRange.WithMessage("A read of more than %d bytes must use ranges.", maxRead)
	}
	data, props, err := h.blobs.ReadBlob(ctx, ref, start, n)
	if err != nil {
		return err
	}
	hd := w.Header()
	setProps(hd, ref, props)
	hd.Set("Content-Length", strconv.Itoa(len(data)))
	status := http.StatusOK
	if rng != "" {
		status = http.StatusPartialContent
		hd.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, start+int64(len(data))-1, props.Size))
	}
	w.WriteHeader(status)
	_, _ = w.Write(data)
	return nil
}

// parseRange parses "bytes=a-b" or "bytes=a-" (end -1).
func parseRange(s string) (int64, int64, error) {
	spec, ok := strings.CutPrefix(strings.TrimSpace(s), "bytes=")
	if !ok {
		return 0, 0, errInvalidHeader
	}
	a, b, ok := strings.Cut(spec, "-")
	if !ok || strings.Contains(b, ",") {
		return 0, 0, errInvalidHeader
	}
	start, err := strconv.ParseInt(a, 10, 64)
	if err != nil || start < 0 {
		return 0, 0, errInvalidHeader
	}
	if b == "" {
		return start, -1, nil
	}
	end, err := strconv.ParseInt(b, 10, 64)
	if err != nil || end < start {
		return 0, 0, errInvalidHeader
	}
	return start, end, nil
}

func clip(s string) string {
	if len(s) > 100 {
		return s[:100] + "…"
	}
	return s
}
