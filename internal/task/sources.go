package task

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/registry"
	"github.com/cerulean/cerulean/internal/resourceid"
)

// The blob-storage emulation's content. Blob URLs are
// https://<account>.blob.<suffix>/<container>/<blob>?<SAS>, where the
// container is the registry's lower-cased name and the blob either
//
//   - source/<yyyymmddhhmm>/<uuid>.tar.gz, an uploaded build context
//     (listBuildSourceUploadUrl's relativePath), kept in the blob store,
//     content-addressed (its digest computed while it is written), with
//     its path → digest row in the metadata store; a block upload's blocks
//     are blobs of their own until the block list concatenates them. The
//     blob store's garbage collection removes them all once they are
//     older than its grace window (an hour): a build must start within it;
//   - logs/<run id>/rawtext.log, a run's log, read from the metadata store.

// Bounds of uploads.
const (
	MaxSourceSize = 2 << 30   // an uploaded build context
	MaxBlockSize  = 256 << 20 // one block of a block upload
	MaxBlocks     = 50_000
)

var (
	sourcePathRE = regexp.MustCompile(`^source/[0-9]{12}/[0-9a-f]{32}\.tar\.gz$`)
	logPathRE    = regexp.MustCompile(`^logs/(ca[0-9a-z]{1,12})/rawtext\.log$`)
)

// BlobGrant is a blob URL's path and SAS query, for the surfaces to put
// behind their blob host.
type BlobGrant struct {
	Container string // the registry's lower-cased name
	Path      string // the blob's path in the container
	Query     string // the SAS
	Expires   time.Time
}

// SourceUploadURL grants an upload of a new build context to the
// registry group/name: ACR's listBuildSourceUploadUrl.
func (s *Service) SourceUploadURL(ctx context.Context, group resourceid.ID, name string) (BlobGrant, error) {
	reg, err := s.registry(ctx, group, name)
	if err != nil {
		return BlobGrant{}, err
	}
	now := s.now().UTC()
	p := fmt.Sprintf("source/%s/%s.tar.gz", now.Format("200601021504"), randomHex(16))
	exp := now.Add(UploadURLLifetime)
	c := strings.ToLower(reg.Name)
	return BlobGrant{Container: c, Path: p, Query: s.sign(PermRead+PermWrite, exp, c, p, reg.InstanceID), Expires: exp}, nil
}

// LogURL grants reading a run's log: ACR's listLogSasUrl.
func (s *Service) LogURL(ctx context.Context, group resourceid.ID, name, id string) (BlobGrant, error) {
	reg, err := s.registry(ctx, group, name)
	if err != nil {
		return BlobGrant{}, err
	}
	r, err := s.getRun(ctx, reg, id)
	if err != nil {
		return BlobGrant{}, err
	}
	p := "logs/" + r.ID + "/rawtext.log"
	exp := s.now().UTC().Add(LogURLLifetime)
	c := strings.ToLower(reg.Name)
	return BlobGrant{Container: c, Path: p, Query: s.sign(PermRead, exp, c, p, reg.InstanceID), Expires: exp}, nil
}

// BlobRef is an authorized blob.
type BlobRef struct {
	reg   registry.Registry
	path  string
	runID string // for a log
}

// IsLog reports whether the blob is a run's log.
func (b BlobRef) IsLog() bool { return b.runID != "" }

// BlobProps are a blob's properties.
type BlobProps struct {
	Size     int64
	Modified time.Time
	ETag     string // quoted
	// Complete is a finished log's Complete metadata ("" otherwise).
	Complete string
}

// AuthorizeBlob checks a blob request's SAS (query) for the blob
// container/path, needing write (else read) permission.
func (s *Service) AuthorizeBlob(ctx context.Context, container, path string, query map[string][]string, write bool) (BlobRef, error) {
	need := PermRead
	if write {
		need = PermWrite
	}
	reg, err := s.registries.ByName(ctx, container)
	if err != nil || !strings.EqualFold(reg.Name, container) || container != strings.ToLower(container) {
		// An unknown container: the signature cannot match anything.
		return BlobRef{}, ErrSASInvalid.WithMessage("Server failed to authenticate the request. Signature did not match.")
	}
	if err := s.verify(query, need, container, path, reg.InstanceID); err != nil {
		return BlobRef{}, err
	}
	ref := BlobRef{reg: reg, path: path}
	if m := logPathRE.FindStringSubmatch(path); m != nil {
		ref.runID = m[1]
		if write {
			return BlobRef{}, ErrSASPermission
		}
	} else if !sourcePathRE.MatchString(path) {
		return BlobRef{}, ErrBlobNotFound
	}
	return ref, nil
}

// source returns an uploaded build context of reg.
func (s *Service) source(ctx context.Context, reg registry.Registry, location string) (Source, error) {
	if !sourcePathRE.MatchString(location) {
		return Source{}, ErrSourceNotFound.WithMessage("The source location '%s' is not an uploaded source of this registry: "+
			"Cerulean builds sources uploaded to listBuildSourceUploadUrl only.", clip(location)).WithTarget("sourceLocation")
	}
	src, err := s.store.GetSource(ctx, reg.Name, location)
	if errdefs.IsKind(err, errdefs.NotFound) {
		return Source{}, ErrSourceNotFound.WithMessage("The source location '%s' was not found: upload the source first.", clip(location)).WithTarget("sourceLocation")
	}
	return src, err
}

// fetchSource extracts a run's build context into rc.dir/context.
func (s *Service) fetchSource(ctx context.Context, rc *runContext, location string) error {
	rc.log.Printf("Downloading source code...")
	src, err := s.source(ctx, rc.reg, location)
	if err != nil {
		return err
	}
	f, err := s.blobs.Open(ctx, digest.Digest(src.Digest))
	if errdefs.IsKind(err, errdefs.NotFound) {
		return ErrSourceNotFound.WithMessage("failed to download context: the uploaded source is gone (sources are kept about an hour)")
	}
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	dir := filepath.Join(rc.dir, "context")
	if err := os.Mkdir(dir, 0o700); err != nil {
		return errdefs.Internalf(err, "context directory")
	}
	if err := extractContext(f, dir, defaultExtractLimits); err != nil {
		return err
	}
	rc.log.Printf("Finished downloading source code")
	return nil
}

// storeBlob writes r (at most limit bytes) to the blob store, hashing it
// on the way.
func (s *Service) storeBlob(ctx context.Context, r io.Reader, limit int64) (digest.Digest, int64, error) {
	up, err := s.blobs.Upload(ctx, "task-"+randomHex(16), true)
	if err != nil {
		return "", 0, err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(up, h), io.LimitReader(r, limit+1))
	if err == nil && n > limit {
		err = ErrBlobTooLarge.WithMessage("The request body is larger than %d bytes.", limit)
	}
	if err != nil {
		_ = up.Cancel(context.WithoutCancel(ctx))
		_ = up.Close()
		return "", 0, err
	}
	d := digestOf(h)
	if _, err := up.Commit(ctx, d, n); err != nil {
		_ = up.Close()
		return "", 0, err
	}
	return d, n, up.Close()
}

func digestOf(h hash.Hash) digest.Digest {
	return digest.Digest("sha256:" + hex.EncodeToString(h.Sum(nil)))
}

func (s *Service) sourceProps(src Source) BlobProps {
	return BlobProps{Size: src.Size, Modified: src.CreatedAt, ETag: `"` + strings.TrimPrefix(src.Digest, "sha256:")[:32] + `"`}
}

// notUploaded refuses a second upload through one upload URL: each
// stored source stays until GC's grace window ends, so replacing it again
// and again would fill the blob store. az uploads once.
func (s *Service) notUploaded(ctx context.Context, ref BlobRef) error {
	_, err := s.store.GetSource(ctx, ref.reg.Name, ref.path)
	switch {
	case err == nil:
		return ErrSourceExists
	case errdefs.IsKind(err, errdefs.NotFound):
		return nil
	}
	return err
}

// PutSource stores a whole uploaded source (Put Blob).
func (s *Service) PutSource(ctx context.Context, ref BlobRef, r io.Reader) (BlobProps, error) {
	if ref.IsLog() {
		return BlobProps{}, ErrSASPermission
	}
	if err := s.notUploaded(ctx, ref); err != nil {
		return BlobProps{}, err
	}
	d, n, err := s.storeBlob(ctx, r, MaxSourceSize)
	if err != nil {
		return BlobProps{}, err
	}
	src := Source{Registry: strings.ToLower(ref.reg.Name), Path: ref.path, Digest: d.String(), Size: n, CreatedAt: s.now().UTC()}
	if err := s.store.PutSource(ctx, src); err != nil {
		return BlobProps{}, err
	}
	return s.sourceProps(src), nil
}

// PutSourceBlock stores one block of a block upload (Put Block).
func (s *Service) PutSourceBlock(ctx context.Context, ref BlobRef, blockID string, r io.Reader) error {
	if ref.IsLog() {
		return ErrSASPermission
	}
	if blockID == "" || len(blockID) > 1024 {
		return ErrInvalidBlocks.WithMessage("The specified blockid is invalid.")
	}
	if err := s.notUploaded(ctx, ref); err != nil {
		return err
	}
	blocks, err := s.store.SourceBlocks(ctx, ref.reg.Name, ref.path)
	if err != nil {
		return err
	}
	if len(blocks) >= MaxBlocks {
		return ErrInvalidBlocks.WithMessage("The blob has more than %d uncommitted blocks.", MaxBlocks)
	}
	// Every byte written stays in the blob store until GC's grace window
	// ends, so what one upload URL may stage is bounded before writing:
	// no block is replaced (a replaced block's bytes would linger
	// uncounted), and the blocks together stay within a source's size.
	var staged int64
	for _, b := range blocks {
		if b.ID == blockID {
			return ErrBlockExists.WithMessage("The block '%s' was already uploaded; Cerulean does not replace uncommitted blocks.", clip(blockID))
		}
		staged += b.Size
	}
	room := min(int64(MaxBlockSize), MaxSourceSize-staged)
	if room <= 0 {
		return ErrBlobTooLarge.WithMessage("The uncommitted blocks already hold the %d bytes a source may have.", int64(MaxSourceSize))
	}
	d, n, err := s.storeBlob(ctx, r, room)
	if err != nil {
		return err
	}
	return s.store.PutSourceBlock(ctx, ref.reg.Name, ref.path, SourceBlock{ID: blockID, Digest: d.String(), Size: n})
}

// CommitSourceBlocks makes the source of the blocks ids, in order (Put
// Block List with Latest entries).
func (s *Service) CommitSourceBlocks(ctx context.Context, ref BlobRef, ids []string) (BlobProps, error) {
	if ref.IsLog() {
		return BlobProps{}, ErrSASPermission
	}
	if len(ids) > MaxBlocks {
		return BlobProps{}, ErrInvalidBlocks
	}
	if err := s.notUploaded(ctx, ref); err != nil {
		return BlobProps{}, err
	}
	blocks, err := s.store.SourceBlocks(ctx, ref.reg.Name, ref.path)
	if err != nil {
		return BlobProps{}, err
	}
	byID := map[string]SourceBlock{}
	for _, b := range blocks {
		byID[b.ID] = b
	}
	var total int64
	order := make([]SourceBlock, 0, len(ids))
	for _, id := range ids {
		b, ok := byID[id]
		if !ok {
			return BlobProps{}, ErrInvalidBlocks.WithMessage("The specified block list is invalid: the block '%s' was not uploaded.", clip(id))
		}
		total += b.Size
		order = append(order, b)
	}
	if total > MaxSourceSize {
		return BlobProps{}, ErrBlobTooLarge.WithMessage("The blob is larger than %d bytes.", int64(MaxSourceSize))
	}
	pr, pw := io.Pipe()
	go func() {
		for _, b := range order {
			f, err := s.blobs.Open(ctx, digest.Digest(b.Digest))
			if err != nil {
				_ = pw.CloseWithError(err)
				return
			}
			_, err = io.Copy(pw, f)
			_ = f.Close()
			if err != nil {
				_ = pw.CloseWithError(err)
				return
			}
		}
		_ = pw.Close()
	}()
	d, n, err := s.storeBlob(ctx, pr, MaxSourceSize)
	_ = pr.Close()
	if err != nil {
		return BlobProps{}, err
	}
	src := Source{Registry: strings.ToLower(ref.reg.Name), Path: ref.path, Digest: d.String(), Size: n, CreatedAt: s.now().UTC()}
	if err := s.store.PutSource(ctx, src); err != nil {
		return BlobProps{}, err
	}
	return s.sourceProps(src), nil
}

// StatBlob returns a blob's properties: NotFound for a source not yet
// uploaded, or the log of a run that does not exist.
func (s *Service) StatBlob(ctx context.Context, ref BlobRef) (BlobProps, error) {
	if ref.IsLog() {
		r, err := s.store.GetRun(ctx, ref.reg.Name, ref.runID)
		if errdefs.IsKind(err, errdefs.NotFound) {
			return BlobProps{}, ErrBlobNotFound
		}
		if err != nil {
			return BlobProps{}, err
		}
		if r.LogSize == 0 && r.LogComplete == "" {
			return BlobProps{}, ErrBlobNotFound // as ACR's log blob before the run writes
		}
		return BlobProps{
			Size: r.LogSize, Modified: r.UpdatedAt, Complete: r.LogComplete,
			ETag: fmt.Sprintf(`"0x%X%X"`, r.UpdatedAt.UnixNano(), r.LogSize),
		}, nil
	}
	src, err := s.store.GetSource(ctx, ref.reg.Name, ref.path)
	if errdefs.IsKind(err, errdefs.NotFound) {
		return BlobProps{}, ErrBlobNotFound
	}
	if err != nil {
		return BlobProps{}, err
	}
	return s.sourceProps(src), nil
}

// ReadBlob returns up to n bytes of a blob from off, and its properties.
func (s *Service) ReadBlob(ctx context.Context, ref BlobRef, off, n int64) ([]byte, BlobProps, error) {
	props, err := s.StatBlob(ctx, ref)
	if err != nil {
		return nil, BlobProps{}, err
	}
	n = max(min(n, props.Size-off), 0)
	if n == 0 {
		return []byte{}, props, nil
	}
	if ref.IsLog() {
		b, err := s.store.ReadLog(ctx, ref.reg.Name, ref.runID, off, n)
		return b, props, err
	}
	src, err := s.store.GetSource(ctx, ref.reg.Name, ref.path)
	if err != nil {
		return nil, BlobProps{}, err
	}
	f, err := s.blobs.Open(ctx, digest.Digest(src.Digest))
	if errdefs.IsKind(err, errdefs.NotFound) {
		return nil, BlobProps{}, ErrBlobNotFound
	}
	if err != nil {
		return nil, BlobProps{}, err
	}
	defer func() { _ = f.Close() }()
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return nil, BlobProps{}, err
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(f, b); err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, BlobProps{}, err
	}
	return b, props, nil
}
