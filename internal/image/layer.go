package image

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sys/unix"

	"github.com/cerulean/cerulean/internal/containergroup"
)

// fetchLayer streams one layer from the registry into the cache: fetched,
// checked against its digest, inflated, checked against its diffID and
// unpacked in one pass, then published under its diffID by renaming its
// directory. A layer that fails any check is deleted, never published.
func (c *Cache) fetchLayer(ctx context.Context, s *session, img v1.Image, desc v1.Descriptor, diffID v1.Hash) error {
	select {
	case c.slots <- struct{}{}:
		defer func() { <-c.slots }()
	case <-ctx.Done():
		return ctx.Err()
	}
	start := time.Now()
	l, err := img.LayerByDigest(desc.Digest)
	if err != nil {
		return s.fail(stageBlob, err)
	}
	rc, err := l.Compressed() // verified against desc.Digest as it is read
	if err != nil {
		return s.fail(stageBlob, err)
	}
	defer rc.Close()
	// Cancelling must cut a read blocked on the network.
	stop := context.AfterFunc(ctx, func() { rc.Close() })
	defer stop()

	err = c.unpackStream(diffID, rc)
	switch {
	case errors.Is(err, errUnsafeLayer) || errors.Is(err, errDiffIDMismatch):
		return &containergroup.ImageError{
			Check:   containergroup.CheckRegistry,
			Message: fmt.Sprintf("layer %s of %s is refused: %v", desc.Digest, s.repo, err),
			Cause:   err,
		}
	case err != nil && ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		return s.fail(stageBlob, err)
	}
	c.log.Info("layer unpacked", "repository", s.repo.Name(), "digest", desc.Digest.String(), "diffID", diffID.String(),
		"bytes", desc.Size, "duration", time.Since(start))
	return nil
}

var errDiffIDMismatch = errors.New("uncompressed layer does not match its diffID")

// unpackStream unpacks the (compressed or not) tar stream rc into the
// cache as layer diffID.
func (c *Cache) unpackStream(diffID v1.Hash, rc io.Reader) (err error) {
	if diffID.Algorithm != "sha256" {
		return fmt.Errorf("%w: diffID %s is not sha256", errUnsafeLayer, diffID)
	}
	tmp, err := os.MkdirTemp(c.tmpDir(), diffID.Hex+".")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			if rmErr := os.RemoveAll(tmp); rmErr != nil {
				c.log.Warn("removing a failed layer", "dir", tmp, "err", rmErr)
			}
		}
	}()
	// The directory itself becomes the layer root: 0755 unless the tar
	// says otherwise for "./".
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}

	net := newReadahead(rc)
	br := bufio.NewReaderSize(net, 64<<10)
	dec, closeDec, err := decompress(br)
	if err != nil {
		net.Close()
		return err
	}
	h := sha256.New()
	tarStream := newReadahead(io.TeeReader(&capReader{r: dec, max: c.lim.maxBytes}, h))
	defer func() {
		// Unblock the inflating goroutine (its reads from net fail
		// once net is closed), wait until it leaves the decoder alone,
		// then free the decoder. net's own goroutine may still sit in
		// a network read until the caller closes rc.
		net.Close()
		tarStream.Close()
		tarStream.wait()
		closeDec()
	}()

	if err := unpack(tmp, tarStream, c.lim, c.log); err != nil {
		return err
	}
	// The diffID covers the whole stream, tar padding included, and the
	// compressed digest is only checked once its last byte is read.
	if _, err := io.Copy(io.Discard, tarStream); err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, br); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != diffID.Hex {
		return fmt.Errorf("%w: got sha256:%s, want %s", errDiffIDMismatch, got, diffID)
	}
	return c.publish(tmp, diffID)
}

// publish makes the unpacked layer durable, then visible. One syncfs per
// layer costs far less than an fsync per file and covers them all; the
// rename is atomic, and a directory that exists under layers/sha256 is
// therefore always complete.
func (c *Cache) publish(tmp string, diffID v1.Hash) error {
	fd, err := unix.Open(tmp, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	err = unix.Syncfs(fd)
	unix.Close(fd)
	if err != nil {
		return fmt.Errorf("syncfs: %w", err)
	}
	final := c.layerDir(diffID.String())
	if err := unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, final, unix.RENAME_NOREPLACE); err != nil {
		if errors.Is(err, unix.EEXIST) {
			// Another process sharing the cache won the race: its copy
			// is as good as ours.
			return os.RemoveAll(tmp)
		}
		return &os.LinkError{Op: "rename", Old: tmp, New: final, Err: err}
	}
	return syncDir(filepath.Dir(final))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
