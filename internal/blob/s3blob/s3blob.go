// Package s3blob is a blob.Store on an S3-compatible object store, so that
// several Cerulean servers can share one set of blobs.
//
// Layout under the bucket and prefix of the store's URL
// (s3://bucket/prefix?endpoint=…&region=…):
//
//	<prefix>/blobs/<alg>/<hex>        committed blobs, only ever written after their digest verified
//	<prefix>/uploads/<id>/state       an upload session: JSON state, a newline, then the unsent tail
//	<prefix>/uploads/<id>/data        the session's S3 multipart upload, completed at commit
//	<prefix>/tmp/<random>             a large Put on its way in (verified, then copied to blobs/)
//	<prefix>/deleted/<alg>/<hex>      a deleted blob kept for readers opened before the Delete
//
// Everything a session needs to resume lives in its state object, rewritten
// on each Close: the multipart upload id, its parts and their ETags, the
// sha256 hash state, and the tail of bytes too short for an S3 part (5 MiB
// at least). Any server can resume a session another started, and commit
// verifies a sha256 digest from the saved hash state without reading the
// data back; a sha512 digest, which few clients use, is verified by
// reading the completed upload once (as fileblob does), so that the common
// push does not hash every byte twice.
package s3blob

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/opencontainers/go-digest"

	"github.com/cerulean/cerulean/internal/blob"
	"github.com/cerulean/cerulean/internal/errdefs"
)

const (
	blobsDir   = "blobs/"
	uploadsDir = "uploads/"
	tmpDir     = "tmp/"
	deletedDir = "deleted/"

	// deletedGrace is how long a deleted blob stays readable for readers
	// opened before its Delete; Walk removes older ones.
	deletedGrace = time.Hour
	// staleTmp is the age after which Walk removes a temporary object a
	// crashed Put left behind.
	staleTmp = 24 * time.Hour
	// presignExpiry is how long a redirect URL stays valid.
	presignExpiry = 20 * time.Minute
	// maxCopy is the largest object one CopyObject request may copy;
	// larger ones are copied part by part.
	maxCopy = 5 << 30
)

var hashes = map[digest.Algorithm]func() hash.Hash{
	digest.SHA256: sha256.New,
	digest.SHA512: sha512.New,
}

// Options are the settings a store URL carries.
type Options struct {
	Bucket string
	Prefix string // without leading or trailing slash; may be empty
	// Endpoint is the S3 service's http(s) URL; empty means AWS. A custom
	// endpoint is addressed path-style (http://host/bucket/key), which
	// S3-compatible stores expect.
	Endpoint *url.URL
	Region   string
	// Redirect lets RedirectURL hand out presigned GET URLs.
	Redirect bool
}

// ParseURL parses s3://bucket/prefix?endpoint=…&region=…&redirect=true.
func ParseURL(raw string) (Options, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Options{}, fmt.Errorf("blobs %q: %w", raw, err)
	}
	if u.Scheme != "s3" {
		return Options{}, fmt.Errorf("blobs %q: want s3://bucket/prefix", raw)
	}
	if u.Host == "" || u.User != nil || u.Port() != "" {
		return Options{}, fmt.Errorf("blobs %q: want s3://bucket/prefix with a bucket name", raw)
	}
	o := Options{Bucket: u.Host, Prefix: strings.Trim(u.Path, "/")}
	q := u.Query()
	for k := range q {
		switch k {
		case "endpoint", "region", "redirect":
		default:
			return Options{}, fmt.Errorf("blobs %q: unknown parameter %q (want endpoint, region, redirect)", raw, k)
		}
	}
	if ep := q.Get("endpoint"); ep != "" {
		e, err := url.Parse(ep)
		if err != nil || (e.Scheme != "http" && e.Scheme != "https") || e.Host == "" || strings.Trim(e.Path, "/") != "" ||
			e.RawQuery != "" || e.User != nil {
			return Options{}, fmt.Errorf("blobs %q: endpoint %q: want an http(s) URL without a path", raw, ep)
		}
		o.Endpoint = e
	}
	o.Region = q.Get("region")
	if r := q.Get("redirect"); r != "" {
		on, err := strconv.ParseBool(r)
		if err != nil {
			return Options{}, fmt.Errorf("blobs %q: redirect %q: want true or false", raw, r)
		}
		o.Redirect = on
	}
	if o.Endpoint == nil && o.Region == "" {
		return Options{}, fmt.Errorf("blobs %q: region is required for AWS", raw)
	}
	return o, nil
}

// Store is a blob.Store on S3. Its methods are safe for concurrent use.
type Store struct {
	c        *minio.Core
	bucket   string
	prefix   string // "" or "<prefix>/"
	redirect bool
}

var (
	_ blob.Store      = (*Store)(nil)
	_ blob.Redirector = (*Store)(nil)
)

// New opens the store a URL names, with credentials from the standard AWS
// environment variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN) or, on AWS, the instance's role. The bucket must
// exist.
func New(ctx context.Context, raw string) (*Store, error) {
	o, err := ParseURL(raw)
	if err != nil {
		return nil, err
	}
	return Open(ctx, o)
}

// Open opens the store o describes (see New).
func Open(ctx context.Context, o Options) (*Store, error) {
	host, secure, lookup := "s3.amazonaws.com", true, minio.BucketLookupAuto
	if o.Endpoint != nil {
		host, secure, lookup = o.Endpoint.Host, o.Endpoint.Scheme == "https", minio.BucketLookupPath
	}
	tr, err := minio.DefaultTransport(secure)
	if err != nil {
		return nil, fmt.Errorf("s3blob: %w", err)
	}
	// Parallel layer pushes each hold a connection.
	tr.MaxIdleConnsPerHost = 256
	creds := credentials.NewChainCredentials([]credentials.Provider{
		&credentials.EnvAWS{},
		&credentials.IAM{Client: &http.Client{Transport: http.DefaultTransport}},
	})
	c, err := minio.NewCore(host, &minio.Options{
		Creds: creds, Secure: secure, Region: o.Region, BucketLookup: lookup, Transport: tr,
	})
	if err != nil {
		return nil, fmt.Errorf("s3blob: %w", err)
	}
	ok, err := c.BucketExists(ctx, o.Bucket)
	if err != nil {
		return nil, fmt.Errorf("s3blob: bucket %s: %w", o.Bucket, err)
	}
	if !ok {
		return nil, fmt.Errorf("s3blob: bucket %s does not exist", o.Bucket)
	}
	s := &Store{c: c, bucket: o.Bucket, redirect: o.Redirect}
	if o.Prefix != "" {
		s.prefix = o.Prefix + "/"
	}
	return s, nil
}

// Close releases the store (it holds nothing that needs closing).
func (s *Store) Close() error { return nil }

func (s *Store) blobKey(alg digest.Algorithm, hex string) string {
	return s.prefix + blobsDir + alg.String() + "/" + hex
}

func (s *Store) deletedKey(alg digest.Algorithm, hex string) string {
	return s.prefix + deletedDir + alg.String() + "/" + hex
}

// parseDigest validates d: malformed digests are InvalidArgument, digests
// of other algorithms blob.ErrUnsupported.
func parseDigest(d digest.Digest) (alg digest.Algorithm, hex string, err error) {
	if err := d.Validate(); err != nil {
		if errors.Is(err, digest.ErrDigestUnsupported) {
			return "", "", blob.ErrUnsupported.WithCause(err)
		}
		return "", "", blob.ErrDigestMismatch.WithMessage("the digest is malformed").WithCause(err)
	}
	if _, ok := hashes[d.Algorithm()]; !ok {
		return "", "", blob.ErrUnsupported.WithCause(fmt.Errorf("algorithm %s", d.Algorithm()))
	}
	return d.Algorithm(), d.Encoded(), nil
}

// createdAt is a blob's commit time as both HEAD (seconds, in an HTTP
// date) and LIST (milliseconds) report it: truncated to the second, so that
// Put, Stat and Walk agree.
func createdAt(t time.Time) time.Time { return t.Truncate(time.Second).UTC() }

// ctxErr reports a cancelled or expired context as an *errdefs.Error that
// still matches context.Canceled / context.DeadlineExceeded with errors.Is.
func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return errdefs.As(err)
	}
	return nil
}

// s3Err wraps a failed S3 call: a cancelled context stays recognisable,
// anything else is Internal.
func s3Err(ctx context.Context, err error, format string, args ...any) error {
	if cerr := ctxErr(ctx); cerr != nil {
		return cerr
	}
	return errdefs.Internalf(err, "s3blob: "+format, args...)
}

func isNotFound(err error) bool {
	r := minio.ToErrorResponse(err)
	return r.StatusCode == http.StatusNotFound || r.Code == "NoSuchKey" || r.Code == "NoSuchUpload"
}

func isPreconditionFailed(err error) bool {
	r := minio.ToErrorResponse(err)
	return r.StatusCode == http.StatusPreconditionFailed || r.Code == "PreconditionFailed"
}

// Stat describes a committed blob.
func (s *Store) Stat(ctx context.Context, d digest.Digest) (blob.Info, error) {
	alg, hex, err := parseDigest(d)
	if err != nil {
		return blob.Info{}, err
	}
	if err := ctxErr(ctx); err != nil {
		return blob.Info{}, err
	}
	return s.stat(ctx, d, s.blobKey(alg, hex))
}

func (s *Store) stat(ctx context.Context, d digest.Digest, key string) (blob.Info, error) {
	oi, err := s.c.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		if isNotFound(err) {
			return blob.Info{}, blob.ErrNotFound.WithCause(err)
		}
		return blob.Info{}, s3Err(ctx, err, "stat %s", d)
	}
	return blob.Info{Digest: d, Size: oi.Size, CreatedAt: createdAt(oi.LastModified)}, nil
}

// written describes a blob this store has just written under key. A
// Delete that ran after the write may have removed it already; the write
// still happened (Put, then Delete), so that is no error for the writer.
func (s *Store) written(ctx context.Context, d digest.Digest, key string, size int64) (blob.Info, error) {
	info, err := s.stat(ctx, d, key)
	if errdefs.IsKind(err, errdefs.NotFound) {
		return blob.Info{Digest: d, Size: size, CreatedAt: createdAt(time.Now())}, nil
	}
	return info, err
}

// Delete removes a committed blob. Readers opened before keep reading: the
// blob is copied to deleted/ first, where they find it, and Walk removes it
// from there after deletedGrace.
func (s *Store) Delete(ctx context.Context, d digest.Digest) error {
	alg, hex, err := parseDigest(d)
	if err != nil {
		return err
	}
	if err := ctxErr(ctx); err != nil {
		return err
	}
	key := s.blobKey(alg, hex)
	info, err := s.stat(ctx, d, key)
	if err != nil {
		return err
	}
	if err := s.copy(ctx, key, s.deletedKey(alg, hex), info.Size); err != nil {
		if isNotFound(err) {
			return blob.ErrNotFound.WithCause(err) // deleted meanwhile
		}
		return s3Err(ctx, err, "keep %s for its readers", d)
	}
	if err := s.c.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil {
		return s3Err(ctx, err, "delete %s", d)
	}
	return nil
}

// copy copies an object within the bucket, server-side.
func (s *Store) copy(ctx context.Context, src, dst string, size int64) error {
	srcOpts := minio.CopySrcOptions{Bucket: s.bucket, Object: src}
	dstOpts := minio.CopyDestOptions{Bucket: s.bucket, Object: dst}
	var err error
	if size > maxCopy {
		_, err = s.c.ComposeObject(ctx, dstOpts, srcOpts)
	} else {
		_, err = s.c.Client.CopyObject(ctx, dstOpts, srcOpts)
	}
	return err
}

// Walk calls fn for every committed blob. It also removes what crashed
// Puts left in tmp/ and deleted blobs older than their grace period: it is
// the garbage collector's sweep.
func (s *Store) Walk(ctx context.Context, fn func(blob.Info) error) error {
	if err := s.sweep(ctx, tmpDir, staleTmp); err != nil {
		return err
	}
	if err := s.sweep(ctx, deletedDir, deletedGrace); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the listing when fn stops the walk
	root := s.prefix + blobsDir
	for oi := range s.c.Client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: root, Recursive: true}) {
		if oi.Err != nil {
			return s3Err(ctx, oi.Err, "list blobs")
		}
		alg, hex, ok := strings.Cut(strings.TrimPrefix(oi.Key, root), "/")
		d := digest.NewDigestFromEncoded(digest.Algorithm(alg), hex)
		if !ok || d.Validate() != nil {
			continue // not ours
		}
		if err := fn(blob.Info{Digest: d, Size: oi.Size, CreatedAt: createdAt(oi.LastModified)}); err != nil {
			return err
		}
	}
	return ctxErr(ctx)
}

// sweep removes the objects under dir older than age.
func (s *Store) sweep(ctx context.Context, dir string, age time.Duration) error {
	cutoff := time.Now().Add(-age)
	for oi := range s.c.Client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix + dir, Recursive: true}) {
		if oi.Err != nil {
			return s3Err(ctx, oi.Err, "list %s", dir)
		}
		if oi.LastModified.Before(cutoff) {
			if err := s.c.RemoveObject(ctx, s.bucket, oi.Key, minio.RemoveObjectOptions{}); err != nil && !isNotFound(err) {
				return s3Err(ctx, err, "remove %s", oi.Key)
			}
		}
	}
	return nil
}

// RedirectURL returns a presigned GET URL of blob d when the store's URL
// asked for redirects (?redirect=true), so that a registry can send pulls
// straight to the object store; ok is false otherwise. It does not check
// that the blob exists.
func (s *Store) RedirectURL(ctx context.Context, d digest.Digest) (u *url.URL, ok bool, err error) {
	if !s.redirect {
		return nil, false, nil
	}
	alg, hex, err := parseDigest(d)
	if err != nil {
		return nil, false, err
	}
	u, err = s.c.PresignedGetObject(ctx, s.bucket, s.blobKey(alg, hex), presignExpiry, nil)
	if err != nil {
		return nil, false, s3Err(ctx, err, "presign %s", d)
	}
	return u, true, nil
}
