package client

// Sources of image copies: a registry reference, a local OCI image layout
// or a docker-archive tarball, opened with go-containerregistry; and the
// translation of its errors to errdefs.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/cerulean/cerulean/internal/errdefs"
)

// refNameAnnotation names an image in an OCI layout's index.json.
const refNameAnnotation = "org.opencontainers.image.ref.name"

// ImageSource is an image or an image index to copy.
type ImageSource struct {
	// Name describes the source in messages.
	Name  string
	image v1.Image
	index v1.ImageIndex
}

// Digest is the digest of the source's top-level manifest.
func (s *ImageSource) Digest() (string, error) {
	var h v1.Hash
	var err error
	if s.index != nil {
		h, err = s.index.Digest()
	} else {
		h, err = s.image.Digest()
	}
	if err != nil {
		return "", sourceError(s.Name, err)
	}
	return h.String(), nil
}

// IsIndex reports whether the source is an image index (several platforms).
func (s *ImageSource) IsIndex() bool { return s.index != nil }

// RegistryAuth authenticates to a registry through go-containerregistry:
// Token is a registry bearer token used as is; otherwise a Username and
// Password go through the registry's token flow (Basic); none is anonymous.
type RegistryAuth struct {
	Username string
	Password string
	Token    string
}

func (a RegistryAuth) authenticator() authn.Authenticator {
	switch {
	case a.Token != "":
		return &authn.Bearer{Token: a.Token}
	case a.Username != "" || a.Password != "":
		return &authn.Basic{Username: a.Username, Password: a.Password}
	}
	return authn.Anonymous
}

// RemoteSource locates an image in a registry.
type RemoteSource struct {
	// Reference is registry/repository[:tag|@digest].
	Reference string
	// Transport reaches the registry: RegistryTransport for a Cerulean
	// login server, an ordinary HTTPS transport for any other registry.
	Transport http.RoundTripper
	Auth      RegistryAuth
	UserAgent string
}

// OpenRemoteSource resolves a registry reference to its manifest.
func OpenRemoteSource(ctx context.Context, src RemoteSource) (*ImageSource, error) {
	ref, err := name.ParseReference(src.Reference)
	if err != nil {
		return nil, &errdefs.Error{Kind: errdefs.InvalidArgument, Message: fmt.Sprintf("Invalid source image reference '%s': %v", src.Reference, err)}
	}
	desc, err := remote.Get(ref, remote.WithContext(ctx), remote.WithTransport(src.Transport),
		remote.WithAuth(src.Auth.authenticator()), remote.WithUserAgent(src.UserAgent))
	if err != nil {
		return nil, sourceError(src.Reference, err)
	}
	out := &ImageSource{Name: src.Reference}
	switch {
	case desc.MediaType.IsSchema1():
		return nil, &errdefs.Error{Kind: errdefs.InvalidArgument,
			Message: fmt.Sprintf("The source image '%s' has a Docker schema 1 manifest, which is not supported.", src.Reference)}
	case desc.MediaType.IsIndex():
		out.index, err = desc.ImageIndex()
	default:
		out.image, err = desc.Image()
	}
	if err != nil {
		return nil, sourceError(src.Reference, err)
	}
	return out, nil
}

// OpenLayoutSource opens the image of an OCI image layout directory: the
// manifest whose org.opencontainers.image.ref.name annotation is tag (or
// ends with ":"+tag), or the only manifest when tag is empty.
func OpenLayoutSource(dir, tag string) (*ImageSource, error) {
	display := "oci-layout:" + dir
	if tag != "" {
		display += ":" + tag
	}
	if _, err := os.Stat(filepath.Join(dir, "oci-layout")); err != nil {
		return nil, &errdefs.Error{Kind: errdefs.NotFound, Message: fmt.Sprintf("'%s' is not an OCI image layout: %v", dir, err)}
	}
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, sourceError(display, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, sourceError(display, err)
	}
	var found []v1.Descriptor
	var names []string
	for _, d := range im.Manifests {
		ref := d.Annotations[refNameAnnotation]
		if ref != "" {
			names = append(names, ref)
		}
		if tag == "" || ref == tag || strings.HasSuffix(ref, ":"+tag) {
			found = append(found, d)
		}
	}
	switch {
	case len(found) == 0:
		return nil, &errdefs.Error{Kind: errdefs.NotFound,
			Message: fmt.Sprintf("The OCI layout '%s' has no image tagged '%s'. Its images: %s.", dir, tag, strings.Join(names, ", "))}
	case len(found) > 1 && tag == "":
		return nil, &errdefs.Error{Kind: errdefs.InvalidArgument,
			Message: fmt.Sprintf("The OCI layout '%s' holds %d images: name one as oci-layout:%s:<tag> (its tags: %s).", dir, len(found), dir, strings.Join(names, ", "))}
	case len(found) > 1:
		return nil, &errdefs.Error{Kind: errdefs.InvalidArgument,
			Message: fmt.Sprintf("The OCI layout '%s' holds %d images tagged '%s'.", dir, len(found), tag)}
	}
	out := &ImageSource{Name: display}
	if found[0].MediaType.IsIndex() {
		out.index, err = idx.ImageIndex(found[0].Digest)
	} else {
		out.image, err = idx.Image(found[0].Digest)
	}
	if err != nil {
		return nil, sourceError(display, err)
	}
	return out, nil
}

// OpenArchiveSource opens an image of a docker-archive tarball (`docker
// save`): the one named ref (repository:tag), or the only one when ref is
// empty.
func OpenArchiveSource(path, ref string) (*ImageSource, error) {
	display := "docker-archive:" + path
	var tag *name.Tag
	if ref != "" {
		display += ":" + ref
		t, err := name.NewTag(ref)
		if err != nil {
			return nil, &errdefs.Error{Kind: errdefs.InvalidArgument, Message: fmt.Sprintf("Invalid image reference '%s' in '%s': %v", ref, display, err)}
		}
		tag = &t
	}
	if _, err := os.Stat(path); err != nil {
		return nil, &errdefs.Error{Kind: errdefs.NotFound, Message: fmt.Sprintf("Cannot read the docker archive '%s': %v", path, err)}
	}
	img, err := tarball.ImageFromPath(path, tag)
	if err != nil {
		return nil, sourceError(display, err)
	}
	return &ImageSource{Name: display, image: img}, nil
}

// sourceError describes a failure to read the source.
func sourceError(src string, err error) error {
	if e, ok := errors.AsType[*errdefs.Error](err); ok {
		return e
	}
	return registryPushError(fmt.Sprintf("Cannot read the source image '%s'", src), err)
}

// registryPushError turns a go-containerregistry error into an
// *errdefs.Error: a registry's error response keeps its status and code.
func registryPushError(prefix string, err error) error {
	var te *transport.Error
	if errors.As(err, &te) {
		code, msg := "", te.Error()
		if len(te.Errors) > 0 {
			code, msg = string(te.Errors[0].Code), te.Errors[0].Message
		}
		return &errdefs.Error{Kind: KindForStatus(te.StatusCode, code), Reason: code, Message: fmt.Sprintf("%s: %s", prefix, msg), Cause: err}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &errdefs.Error{Kind: errdefs.Unavailable, Message: fmt.Sprintf("%s: %v", prefix, err), Cause: err}
}
