package build

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/cerulean/cerulean/internal/atomicfile"
	"github.com/cerulean/cerulean/internal/containergroup"
)

// The image cache unpacks each layer once, under the diffID an image's
// config claims, and hands the unpacked directory to any later image
// claiming the same diffID without fetching anything. A caller who knows
// the diffIDs of an image they may not pull (on this server or any
// other) could push an image of their own whose config claims them, and
// build on — or COPY --from — the other image's files; the layer cache,
// keyed by the chain of diffIDs, would hand them the RUN results made on
// those files too. So before a build uses a base image's layers it checks
// that the caller's registry serves, for each layer, content whose
// uncompressed digest is the claimed diffID: once per repository and
// layer digest (a repository that served a blob once serves it to anyone
// who may read its manifest), remembered under verified/.

// verifiedPath is where a verified (repository, layer digest) pair
// records its diffID.
func (c *layerCache) verifiedPath(repo name.Repository, digest v1.Hash) string {
	s := sha256.Sum256([]byte(repo.Name() + "\n" + digest.String()))
	return c.path("verified", hex.EncodeToString(s[:]))
}

// verifyLayers checks each of ls (an image of repo, as the caller's
// credentials fetch it) against its diffID.
func (b *Builder) verifyLayers(ctx context.Context, repo name.Repository, ls []v1.Layer, diffIDs []v1.Hash) error {
	for i, l := range ls {
		if err := ctx.Err(); err != nil {
			return err
		}
		digest, err := l.Digest()
		if err != nil {
			return err
		}
		p := b.cache.verifiedPath(repo, digest)
		if b, err := os.ReadFile(p); err == nil && string(b) == diffIDs[i].String() {
			continue
		}
		got, err := uncompressedDigest(l)
		if err != nil {
			return userErr("fetching layer %s of %s: %s", digest, repo, err)
		}
		if got != diffIDs[i] {
			return userErr("layer %s of %s does not match its diffID %s (its content is %s): the image is refused", digest, repo, diffIDs[i], got)
		}
		if err := atomicfile.WriteFile(p, []byte(got.String()), 0o600); err != nil {
			return err
		}
	}
	return nil
}

func uncompressedDigest(l v1.Layer) (v1.Hash, error) {
	rc, err := l.Uncompressed()
	if err != nil {
		return v1.Hash{}, err
	}
	defer func() { _ = rc.Close() }()
	h := sha256.New()
	if _, err := io.Copy(h, rc); err != nil {
		return v1.Hash{}, err
	}
	return v1.NewHash("sha256:" + hex.EncodeToString(h.Sum(nil)))
}

// verifyImage checks the layers of a resolved image (a digest reference)
// as verifyLayers does.
func (b *Builder) verifyImage(ctx context.Context, digestRef string, cred *containergroup.Credential) error {
	img, err := b.remoteImage(ctx, digestRef, cred)
	if err != nil {
		return userErr("fetching the manifest of %s: %s", digestRef, scrubPassword(err, cred))
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return userErr("fetching the config of %s: %s", digestRef, scrubPassword(err, cred))
	}
	ls, err := img.Layers()
	if err != nil {
		return userErr("reading the layers of %s: %s", digestRef, err)
	}
	if len(ls) != len(cfg.RootFS.DiffIDs) {
		return userErr("the image %s lists %d layers but its config %d diffIDs", digestRef, len(ls), len(cfg.RootFS.DiffIDs))
	}
	ref, err := name.NewDigest(digestRef)
	if err != nil {
		return err
	}
	return b.verifyLayers(ctx, ref.Context(), ls, cfg.RootFS.DiffIDs)
}
