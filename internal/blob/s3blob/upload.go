package s3blob

// Upload sessions on S3 multipart uploads. The session's state object
// (uploads/<id>/state) is the whole truth about it: whichever server
// resumes the session reads it, and Close rewrites it.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/opencontainers/go-digest"

	"github.com/cerulean/cerulean/internal/blob"
	"github.com/cerulean/cerulean/internal/errdefs"
)

const (
	// minPart is S3's smallest part but the last; bytes short of it stay
	// in the session's tail, saved with its state.
	minPart = 5 << 20
	// basePart is the size at which Write sends a part. It doubles every
	// 1000 parts so that a blob fits S3's 10,000 parts however large.
	basePart = 8 << 20
	maxPart  = 5 << 30

	stateVersion = 1
)

var (
	errUploadExists = errdefs.New(errdefs.AlreadyExists, "", "the upload session exists already")
	errUploadClosed = errdefs.New(errdefs.FailedPrecondition, "", "the upload session is closed")
)

// partSize is the size of part n (from 1).
func partSize(n int) int {
	return min(basePart<<((n-1)/1000), maxPart)
}

func (s *Store) stateKey(id string) string { return s.prefix + uploadsDir + id + "/state" }
func (s *Store) dataKey(id string) string  { return s.prefix + uploadsDir + id + "/data" }

// state is the JSON head of a session's state object; the tail's bytes
// follow it after a newline.
type state struct {
	Version   int       `json:"version"`
	StartedAt time.Time `json:"startedAt"`
	// Size counts every byte written: the parts' and the tail's.
	Size int64 `json:"size"`
	// UploadID is the multipart upload of uploads/<id>/data, made when
	// the first part is sent.
	UploadID string `json:"uploadId,omitempty"`
	Parts    []part `json:"parts,omitempty"`
	// The running sha256's state (encoding.BinaryMarshaler), so that
	// commit verifies a sha256 digest without reading back. (States saved
	// before 2026-12 also hold a sha512 state, which is ignored: a sha512
	// digest is verified by reading the data back at commit.)
	SHA256 []byte `json:"sha256"`
}

type part struct {
	Number int    `json:"number"`
	ETag   string `json:"etag"`
	Size   int64  `json:"size"`
}

// resumableHash is a hash whose state can be saved and restored, as
// crypto/sha256's can.
type resumableHash interface {
	hash.Hash
	encoding.BinaryMarshaler
	encoding.BinaryUnmarshaler
}

// upload is an open session, used by one goroutine at a time.
type upload struct {
	s      *Store
	id     string
	st     state
	tail   []byte
	sha256 resumableHash
	dirty  bool // the state object is behind
	done   bool // closed, committed or cancelled

	inflight chan partResult // the part being sent, if any
	failed   error           // a part failed: the session is broken
}

var _ blob.Upload = (*upload)(nil)

func (u *upload) ID() string           { return u.id }
func (u *upload) Size() int64          { return u.st.Size }
func (u *upload) StartedAt() time.Time { return u.st.StartedAt }

// Upload creates or resumes the session id. Creating writes its state
// object at once, conditionally (If-None-Match), so that of two servers
// creating one id exactly one succeeds, and WalkUploads sees it.
func (s *Store) Upload(ctx context.Context, id string, create bool) (blob.Upload, error) {
	if !blob.ValidUploadID(id) {
		return nil, blob.ErrUploadNotFound.WithCause(errors.New("invalid upload id"))
	}
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	if !create {
		return s.resume(ctx, id)
	}
	u := &upload{
		s: s, id: id, st: state{Version: stateVersion, StartedAt: time.Now().UTC()},
		sha256: sha256.New().(resumableHash),
	}
	if err := u.save(ctx, true); err != nil {
		if isPreconditionFailed(err) {
			return nil, errUploadExists.WithCause(err)
		}
		return nil, s3Err(ctx, err, "create upload %s", id)
	}
	return u, nil
}

func (s *Store) resume(ctx context.Context, id string) (*upload, error) {
	st, tail, err := s.readState(ctx, id)
	if err != nil {
		return nil, err
	}
	u := &upload{s: s, id: id, st: st, tail: tail, sha256: sha256.New().(resumableHash)}
	if err := u.sha256.UnmarshalBinary(st.SHA256); err != nil {
		return nil, s.corrupt(ctx, id, st, err)
	}
	return u, nil
}

// readState reads and checks a session's state object.
func (s *Store) readState(ctx context.Context, id string) (state, []byte, error) {
	body, _, _, err := s.c.GetObject(ctx, s.bucket, s.stateKey(id), minio.GetObjectOptions{})
	if err != nil {
		if isNotFound(err) {
			return state{}, nil, blob.ErrUploadNotFound.WithCause(err)
		}
		return state{}, nil, s3Err(ctx, err, "read upload %s", id)
	}
	raw, err := io.ReadAll(body)
	_ = body.Close()
	if err != nil {
		if isNotFound(err) {
			return state{}, nil, blob.ErrUploadNotFound.WithCause(err)
		}
		return state{}, nil, s3Err(ctx, err, "read upload %s", id)
	}
	head, tail, ok := bytes.Cut(raw, []byte("\n"))
	var st state
	if !ok {
		return state{}, nil, s.corrupt(ctx, id, st, errors.New("no newline after the state"))
	}
	if err := json.Unmarshal(head, &st); err != nil {
		return state{}, nil, s.corrupt(ctx, id, st, err)
	}
	var inParts int64
	for _, p := range st.Parts {
		inParts += p.Size
	}
	if st.Version != stateVersion || inParts+int64(len(tail)) != st.Size || (len(st.Parts) > 0 && st.UploadID == "") {
		return state{}, nil, s.corrupt(ctx, id, st, fmt.Errorf("inconsistent state: version %d, %d bytes in parts, %d in the tail, size %d",
			st.Version, inParts, len(tail), st.Size))
	}
	return st, tail, nil
}

// corrupt removes a session that cannot be resumed and reports it missing.
func (s *Store) corrupt(ctx context.Context, id string, st state, cause error) error {
	_ = s.removeSession(ctx, id, st.UploadID)
	return blob.ErrUploadNotFound.WithCause(fmt.Errorf("corrupt upload session removed: %w", cause))
}

// save writes the session's state object, with the tail after it; with
// create, only if there is none (If-None-Match: *).
func (u *upload) save(ctx context.Context, create bool) error {
	var err error
	if u.st.SHA256, err = u.sha256.MarshalBinary(); err != nil {
		return err
	}
	head, err := json.Marshal(u.st)
	if err != nil {
		return err
	}
	body := io.MultiReader(bytes.NewReader(head), strings.NewReader("\n"), bytes.NewReader(u.tail))
	opts := minio.PutObjectOptions{ContentType: "application/octet-stream"}
	if create {
		opts.SetMatchETagExcept("*")
	}
	_, err = u.s.c.PutObject(ctx, u.s.bucket, u.s.stateKey(u.id), body, int64(len(head)+1+len(u.tail)), "", "", opts)
	if err == nil {
		u.dirty = false
	}
	return err
}

// Write appends p to the tail and the running hash. Whenever the tail
// reaches the part size it goes to S3 as the next part, in the background
// while Write fills the next one (one part in flight at a time). The bytes
// count once they are in the tail; a part that fails breaks the session
// (Close then saves nothing, so a resume finds the state of the last
// Close).
func (u *upload) Write(p []byte) (int, error) {
	if u.done {
		return 0, errUploadClosed
	}
	if u.failed != nil {
		return 0, u.failed
	}
	n := 0
	for len(p) > 0 {
		size := partSize(len(u.st.Parts) + 1)
		k := min(size-len(u.tail), len(p))
		u.tail = append(u.tail, p[:k]...)
		n += k
		p = p[k:]
		if err := u.appended(k, size); err != nil {
			return n, err
		}
	}
	return n, nil
}

// ReadFrom appends everything r yields, reading it straight into the tail
// (io.Copy would copy each read once more, through a buffer of its own),
// and sends each full tail as Write does. r's failure is returned as it
// is, as io.Copy would.
func (u *upload) ReadFrom(r io.Reader) (int64, error) {
	if u.done {
		return 0, errUploadClosed
	}
	if u.failed != nil {
		return 0, u.failed
	}
	var n int64
	for {
		size := partSize(len(u.st.Parts) + 1)
		if cap(u.tail) < size {
			u.tail = append(make([]byte, 0, size), u.tail...)
		}
		m, rerr := r.Read(u.tail[len(u.tail):size])
		if m > 0 {
			u.tail = u.tail[:len(u.tail)+m]
			n += int64(m)
			if err := u.appended(m, size); err != nil {
				return n, err
			}
		}
		if errors.Is(rerr, io.EOF) {
			return n, nil
		}
		if rerr != nil {
			return n, rerr
		}
	}
}

// appended accounts for the last k bytes of the tail, just added: they go
// into the running hash and the size, and a tail that has reached the part
// size goes to S3.
func (u *upload) appended(k, size int) error {
	u.sha256.Write(u.tail[len(u.tail)-k:])
	u.st.Size += int64(k)
	u.dirty = true
	if len(u.tail) >= size {
		return u.sendTail(context.Background(), true)
	}
	return nil
}

// sendTail sends the tail as the next part, starting the multipart upload
// if this is the first; in the background when async is set (wait
// collects it).
func (u *upload) sendTail(ctx context.Context, async bool) error {
	if err := u.wait(); err != nil {
		return err
	}
	if u.st.UploadID == "" {
		id, err := u.s.c.NewMultipartUpload(ctx, u.s.bucket, u.s.dataKey(u.id), minio.PutObjectOptions{})
		if err != nil {
			return s3Err(ctx, err, "upload %s: start multipart upload", u.id)
		}
		u.st.UploadID = id
	}
	n, data := len(u.st.Parts)+1, u.tail
	u.tail = nil
	if !async {
		p, err := u.putPart(ctx, n, data)
		if err != nil {
			u.tail = data
			return err
		}
		u.st.Parts = append(u.st.Parts, p)
		return nil
	}
	u.tail = make([]byte, 0, partSize(n+1))
	done := make(chan partResult, 1)
	go func() {
		p, err := u.putPart(ctx, n, data)
		done <- partResult{p, err}
	}()
	u.inflight = done
	return nil
}

type partResult struct {
	p   part
	err error
}

// wait collects the part in flight, if any.
func (u *upload) wait() error {
	if u.inflight != nil {
		r := <-u.inflight
		u.inflight = nil
		if r.err != nil {
			u.failed = r.err
		} else {
			u.st.Parts = append(u.st.Parts, r.p)
		}
	}
	return u.failed
}

// putPart sends data as part n of the session's multipart upload.
func (u *upload) putPart(ctx context.Context, n int, data []byte) (part, error) {
	p, err := u.s.c.PutObjectPart(ctx, u.s.bucket, u.s.dataKey(u.id), u.st.UploadID, n,
		bytes.NewReader(data), int64(len(data)), minio.PutObjectPartOptions{})
	if err != nil {
		return part{}, s3Err(ctx, err, "upload %s: part %d", u.id, n)
	}
	return part{Number: n, ETag: p.ETag, Size: int64(len(data))}, nil
}

// Close sends the tail as a part when it is large enough, and saves the
// state for the session's next writer, here or on another server.
func (u *upload) Close() error {
	if u.done {
		return nil
	}
	u.done = true
	ctx := context.Background()
	if err := u.wait(); err != nil {
		return err
	}
	if !u.dirty {
		return nil
	}
	if len(u.tail) >= minPart {
		if err := u.sendTail(ctx, false); err != nil {
			return err
		}
	}
	if err := u.save(ctx, false); err != nil {
		return s3Err(ctx, err, "save upload %s", u.id)
	}
	return nil
}

// Commit verifies size and digest, then writes the blob: a session that
// never filled a part is put in one request; a larger one's multipart
// upload is completed with the tail as its last part and copied into
// place server-side. A sha256 digest is verified from the running hash; a
// sha512 one (rare: no running hash is kept for it) from the tail, or by
// reading the completed upload back once. A mismatch discards the
// session; a malformed or unsupported digest, a cancelled ctx or an S3
// failure leaves it open, for the caller to Close or Cancel (one that
// failed after its upload was completed can only be cancelled).
func (u *upload) Commit(ctx context.Context, d digest.Digest, size int64) (blob.Info, error) {
	if u.done {
		return blob.Info{}, errUploadClosed
	}
	alg, hexd, err := parseDigest(d)
	if err != nil {
		return blob.Info{}, err
	}
	if err := ctxErr(ctx); err != nil {
		return blob.Info{}, err
	}
	if err := u.wait(); err != nil {
		return blob.Info{}, err
	}
	if size >= 0 && size != u.st.Size {
		_ = u.discard(ctx)
		return blob.Info{}, blob.SizeMismatch(u.st.Size, size, "")
	}
	verified := false
	switch {
	case alg == digest.SHA256:
		err, verified = blob.VerifySum(d, u.sha256.Sum(nil)), true
	case len(u.st.Parts) == 0: // the tail is the whole content
		h := hashes[alg]()
		h.Write(u.tail)
		err, verified = blob.VerifySum(d, h.Sum(nil)), true
	}
	if err != nil {
		_ = u.discard(ctx)
		return blob.Info{}, err
	}
	if !verified { // sha512 over parts: complete the upload and read it back
		if err := u.complete(ctx, d); err != nil {
			return blob.Info{}, err
		}
		if err := u.s.verifyObject(ctx, u.s.dataKey(u.id), d, u.st.Size); err != nil {
			if errors.Is(err, blob.ErrDigestMismatch) {
				_ = u.discard(ctx)
			}
			return blob.Info{}, err
		}
	}
	key := u.s.blobKey(alg, hexd)
	if info, err := u.s.stat(ctx, d, key); err == nil {
		_ = u.discard(ctx)
		return info, nil
	} else if !errdefs.IsKind(err, errdefs.NotFound) {
		return blob.Info{}, err
	}
	if len(u.st.Parts) == 0 {
		if _, err := u.s.c.PutObject(ctx, u.s.bucket, key, bytes.NewReader(u.tail), int64(len(u.tail)), "", "",
			minio.PutObjectOptions{}); err != nil {
			return blob.Info{}, s3Err(ctx, err, "commit %s", d)
		}
	} else {
		if verified { // not completed above
			if err := u.complete(ctx, d); err != nil {
				return blob.Info{}, err
			}
		}
		if err := u.s.copy(ctx, u.s.dataKey(u.id), key, u.st.Size); err != nil {
			return blob.Info{}, s3Err(ctx, err, "commit %s", d)
		}
	}
	info, err := u.s.written(ctx, d, key, u.st.Size)
	if err != nil {
		return blob.Info{}, err
	}
	_ = u.discard(ctx)
	return info, nil
}

// complete completes the session's multipart upload into its data object,
// with the tail as the last part (which may be short). The tail's part
// does not enter the session's state: should the commit fail before
// completion, the session stays as it was.
func (u *upload) complete(ctx context.Context, d digest.Digest) error {
	parts := u.st.Parts
	if len(u.tail) > 0 {
		last, err := u.putPart(ctx, len(parts)+1, u.tail)
		if err != nil {
			return err
		}
		parts = append(parts[:len(parts):len(parts)], last)
	}
	complete := make([]minio.CompletePart, len(parts))
	for i, p := range parts {
		complete[i] = minio.CompletePart{PartNumber: p.Number, ETag: p.ETag}
	}
	if _, err := u.s.c.CompleteMultipartUpload(ctx, u.s.bucket, u.s.dataKey(u.id), u.st.UploadID, complete, minio.PutObjectOptions{}); err != nil {
		return s3Err(ctx, err, "commit %s: complete upload %s", d, u.id)
	}
	return nil
}

// verifyObject reads the object at key, which must hold size bytes, and
// checks it against d.
func (s *Store) verifyObject(ctx context.Context, key string, d digest.Digest, size int64) error {
	obj, err := s.c.Client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return s3Err(ctx, err, "verify %s", d)
	}
	defer func() { _ = obj.Close() }() // read-only: nothing to lose
	h := hashes[d.Algorithm()]()
	n, err := io.Copy(h, obj)
	if err != nil {
		return s3Err(ctx, err, "verify %s", d)
	}
	if n != size {
		return errdefs.Internalf(fmt.Errorf("read %d bytes, want %d", n, size), "s3blob: verify %s", d)
	}
	return blob.VerifySum(d, h.Sum(nil))
}

// Cancel discards the session.
func (u *upload) Cancel(ctx context.Context) error {
	if u.done {
		return errUploadClosed
	}
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return u.discard(ctx)
}

func (u *upload) discard(ctx context.Context) error {
	_ = u.wait() // the part in flight must land before its upload is aborted
	u.done = true
	u.tail = nil
	return u.s.removeSession(ctx, u.id, u.st.UploadID)
}

// removeSession deletes a session: its state object first (so no one
// resumes it), then its multipart uploads (the recorded one and any a
// crash left unrecorded) and its completed data.
// blob.ErrUploadNotFound if the state object is gone already.
func (s *Store) removeSession(ctx context.Context, id, uploadID string) error {
	ctx = context.WithoutCancel(ctx) // half a removal helps no one
	key := s.stateKey(id)
	if _, err := s.c.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{}); err != nil {
		if isNotFound(err) {
			return blob.ErrUploadNotFound.WithCause(err)
		}
		return s3Err(ctx, err, "remove upload %s", id)
	}
	if err := s.c.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil {
		return s3Err(ctx, err, "remove upload %s", id)
	}
	data := s.dataKey(id)
	if uploadID != "" {
		_ = s.c.AbortMultipartUpload(ctx, s.bucket, data, uploadID)
	}
	for mu := range s.c.ListIncompleteUploads(ctx, s.bucket, data, false) {
		if mu.Err == nil && mu.Key == data && mu.UploadID != uploadID {
			_ = s.c.AbortMultipartUpload(ctx, s.bucket, data, mu.UploadID)
		}
	}
	_ = s.c.RemoveObject(ctx, s.bucket, data, minio.RemoveObjectOptions{})
	return nil
}

// DeleteUpload discards a session; blob.ErrUploadNotFound if there is none.
func (s *Store) DeleteUpload(ctx context.Context, id string) error {
	if !blob.ValidUploadID(id) {
		return blob.ErrUploadNotFound.WithCause(errors.New("invalid upload id"))
	}
	if err := ctxErr(ctx); err != nil {
		return err
	}
	st, _, err := s.readState(ctx, id)
	if err != nil {
		return err
	}
	return s.removeSession(ctx, id, st.UploadID)
}

// WalkUploads calls fn with each session's id and the time its state was
// last saved.
func (s *Store) WalkUploads(ctx context.Context, fn func(id string, modified time.Time) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	root := s.prefix + uploadsDir
	for oi := range s.c.Client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: root, Recursive: true}) {
		if oi.Err != nil {
			return s3Err(ctx, oi.Err, "list uploads")
		}
		id, ok := strings.CutSuffix(strings.TrimPrefix(oi.Key, root), "/state")
		if !ok || !blob.ValidUploadID(id) {
			continue
		}
		if err := fn(id, oi.LastModified.UTC()); err != nil {
			return err
		}
	}
	return ctxErr(ctx)
}
