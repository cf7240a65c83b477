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
// If the diffID is unpacked already (from another blob: another
// compression of the same tar), the blob is only checked, not unpacked.
// Either way the blob is then noted as one that inflates to diffID.
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
	defer func() { _ = rc.Close() }()

	verifyOnly := c.hasLayer(diffID.String())
	if verifyOnly {
		err = c.verifyStream(diffID, sourceReader{rc})
	} else {
		err = c.unpackStream(diffID, sourceReader{rc})
	}
	if se, ok := errors.AsType[sourceError](err); ok {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return s.fail(stageBlob, se.err) // the network, or the blob digest
	}
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return ctx.Err()
	case localFailure(err):
		return fmt.Errorf("unpacking layer %s: %w", desc.Digest, err)
	default:
		// A corrupt stream, or an entry this machine cannot or will not
		// unpack: the image's fault, not the registry's or ours.
		return &containergroup.ImageError{
			Check:   containergroup.CheckRegistry,
			Message: fmt.Sprintf("layer %s of %s is refused: %s", desc.Digest, s.repo, shorten(err.Error(), 300)),
			Cause:   err,
		}
	}
	if err := c.recordBlob(diffID.String(), desc.Digest.String()); err != nil {
		return fmt.Errorf("noting layer %s: %w", desc.Digest, err)
	}
	c.log.InfoContext(ctx, "layer unpacked", "repository", s.repo.Name(), "digest", desc.Digest.String(), "diff_id", diffID.String(),
		"bytes", desc.Size, "duration", time.Since(start), "verified_only", verifyOnly)
	return nil
}

var errDiffIDMismatch = errors.New("uncompressed layer does not match its diffID")

// sourceError marks an error of the blob stream itself (network, digest
// check), as opposed to decompressing or unpacking it.
type sourceError struct{ err error }

func (e sourceError) Error() string { return e.err.Error() }
func (e sourceError) Unwrap() error { return e.err }

type sourceReader struct{ r io.Reader }

func (s sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		err = sourceError{err}
	}
	return n, err
}

// localFailure reports errors of this machine rather than of the layer.
func localFailure(err error) bool {
	for _, e := range []error{unix.ENOSPC, unix.EDQUOT, unix.EIO, unix.EROFS, unix.ENOMEM, unix.EMFILE, unix.ENFILE, unix.ENOSYS} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

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
		_ = net.Close()
		return err
	}
	h := sha256.New()
	tarStream := newReadahead(io.TeeReader(&capReader{r: dec, max: c.lim.maxBytes}, h))
	defer func() {
		// Unblock the inflating goroutine (its reads from net fail
		// once net is closed), wait until it leaves the decoder alone,
		// then free the decoder. net's own goroutine may still sit in
		// a network read until the caller closes rc.
		_ = net.Close()
		_ = tarStream.Close()
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

// verifyStream checks that the (compressed or not) tar stream r inflates
// to diffID, without unpacking it.
func (c *Cache) verifyStream(diffID v1.Hash, r io.Reader) error {
	if diffID.Algorithm != "sha256" {
		return fmt.Errorf("%w: diffID %s is not sha256", errUnsafeLayer, diffID)
	}
	br := bufio.NewReaderSize(r, 64<<10)
	dec, closeDec, err := decompress(br)
	if err != nil {
		return err
	}
	defer closeDec()
	h := sha256.New()
	if _, err := io.Copy(h, &capReader{r: dec, max: c.lim.maxBytes}); err != nil {
		return err
	}
	// The compressed digest is only checked once its last byte is read.
	if _, err := io.Copy(io.Discard, br); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != diffID.Hex {
		return fmt.Errorf("%w: got sha256:%s, want %s", errDiffIDMismatch, got, diffID)
	}
	return nil
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
	_ = unix.Close(fd)
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
	defer func() { _ = d.Close() }()
	return d.Sync()
}

// shorten keeps hostile names from making messages huge.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
