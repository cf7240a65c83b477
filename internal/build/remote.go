package build

import (
	"context"
	"io"
	"net/http"
	"os"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"

	"github.com/cerulean/cerulean/internal/containergroup"
	"github.com/cerulean/cerulean/internal/task"
)

// httpsOnly sends every request over TLS: go-containerregistry would fall
// back to plain HTTP for loopback and *.local(host) registries, and
// Cerulean's registries always speak TLS (as internal/image does).
type httpsOnly struct{ next http.RoundTripper }

func (h httpsOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" {
		req = req.Clone(req.Context())
		req.URL.Scheme = "https"
	}
	return h.next.RoundTrip(req)
}

// credentials asks the run's RegistryAuth for host's credentials.
func credentials(ctx context.Context, auth task.RegistryAuth, host string) (*containergroup.Credential, error) {
	if auth == nil {
		return nil, nil
	}
	user, password, ok, err := auth(ctx, host)
	if err != nil || !ok {
		return nil, err
	}
	return &containergroup.Credential{Server: host, Username: user, Password: password}, nil
}

func authenticator(cred *containergroup.Credential) authn.Authenticator {
	if cred == nil {
		return authn.Anonymous
	}
	return authn.FromConfig(authn.AuthConfig{Username: cred.Username, Password: cred.Password})
}

func (b *Builder) remoteOptions(ctx context.Context, cred *containergroup.Credential) []remote.Option {
	return []remote.Option{
		remote.WithContext(ctx), remote.WithAuth(authenticator(cred)),
		remote.WithTransport(httpsOnly{b.transport}), remote.WithJobs(4),
	}
}

// remoteImage fetches the (platform) image manifest a resolved reference
// names, for its config and its layers' descriptors: a build pushes the
// base image's layers as they are (mounted from their repository when the
// registry allows).
func (b *Builder) remoteImage(ctx context.Context, digestRef string, cred *containergroup.Credential) (v1.Image, error) {
	ref, err := name.NewDigest(digestRef)
	if err != nil {
		return nil, err
	}
	return remote.Image(ref, b.remoteOptions(ctx, cred)...)
}

// blobLayer is a layer the build made, read from the cache's blob.
type blobLayer struct {
	path      string
	rec       cacheRecord
	mediaType types.MediaType
}

var _ v1.Layer = blobLayer{}

func (l blobLayer) Digest() (v1.Hash, error) { return v1.NewHash(l.rec.Digest) }
func (l blobLayer) DiffID() (v1.Hash, error) { return v1.NewHash(l.rec.DiffID) }
func (l blobLayer) Compressed() (io.ReadCloser, error) {
	return os.Open(l.path)
}
func (l blobLayer) Uncompressed() (io.ReadCloser, error) {
	f, err := os.Open(l.path)
	if err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return readCloser{zr, func() error { _ = zr.Close(); return f.Close() }}, nil
}
func (l blobLayer) Size() (int64, error)                { return l.rec.Size, nil }
func (l blobLayer) MediaType() (types.MediaType, error) { return l.mediaType, nil }

type readCloser struct {
	io.Reader
	close func() error
}

func (r readCloser) Close() error { return r.close() }
