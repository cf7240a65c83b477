package build

import (
	"archive/tar"
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	"golang.org/x/sys/unix"
)

// Layers in overlayfs form (RUN upper dirs, COPY layer dirs, the image
// cache's unpacked layers) become OCI layer tars here.
const (
	whiteoutPrefix = ".wh."
	opaqueWhiteout = ".wh..wh..opq"
	opaqueXattr    = "trusted.overlay.opaque"
	capXattr       = "security.capability"
)

// layerBlob is a layer written to disk: the gzip blob and its digests.
type layerBlob struct {
	DiffID string `json:"diffID"` // sha256 of the tar
	Digest string `json:"digest"` // sha256 of the gzip blob
	Size   int64  `json:"size"`   // of the gzip blob
}

// writeLayer writes the overlay-form directory dir as a gzip-compressed
// OCI layer into blob. The bytes depend only on the tree: entries in
// lexical order, uid/gid/mode as on disk, no user or group names, no
// atime/ctime, mtimes clamped to epoch, PAX records only when a field
// needs them, a gzip header without name or time.
func writeLayer(dir string, blob io.Writer, epoch time.Time) (layerBlob, error) {
	compressed := sha256.New()
	counter := &countWriter{}
	gz, err := gzip.NewWriterLevel(io.MultiWriter(blob, compressed, counter), gzip.DefaultCompression)
	if err != nil {
		return layerBlob{}, err
	}
	// No name, no mtime (klauspost's writer would store the zero
	// time.Time's truncated seconds), OS "unknown".
	gz.ModTime = time.Unix(0, 0)
	uncompressed := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(gz, uncompressed), 256<<10)
	if err := writeTar(dir, bw, epoch); err != nil {
		return layerBlob{}, err
	}
	if err := bw.Flush(); err != nil {
		return layerBlob{}, err
	}
	if err := gz.Close(); err != nil {
		return layerBlob{}, err
	}
	return layerBlob{DiffID: sum(uncompressed), Digest: sum(compressed), Size: counter.n}, nil
}

func sum(h hash.Hash) string { return "sha256:" + hex.EncodeToString(h.Sum(nil)) }

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// writeTar writes the tar stream of an overlay-form tree: a 0/0 character
// device becomes a `.wh.<name>` whiteout, a directory with
// trusted.overlay.opaque=y gets a `.wh..wh..opq` entry.
func writeTar(dir string, w io.Writer, epoch time.Time) error {
	tw := tar.NewWriter(w)
	links := map[[2]uint64]string{} // (dev, ino) → first name, for hard links
	var walk func(rel string) error
	walk = func(rel string) error {
		entries, err := os.ReadDir(filepath.Join(dir, rel))
		if err != nil {
			return err
		}
		names := make([]string, 0, len(entries))
		for _, e := range entries {
			names = append(names, e.Name())
		}
		slices.Sort(names)
		for _, n := range names {
			name := path.Join(rel, n)
			if rel == "." {
				name = n
			}
			isDir, err := writeEntry(tw, dir, name, epoch, links)
			if err != nil {
				return err
			}
			if isDir {
				if err := walk(name); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk("."); err != nil {
		return err
	}
	return tw.Close()
}

func writeEntry(tw *tar.Writer, dir, name string, epoch time.Time, links map[[2]uint64]string) (isDir bool, err error) {
	if strings.HasPrefix(path.Base(name), whiteoutPrefix) {
		// In the layer's tar it would delete what the builder's own later
		// steps (reading the overlay form) still see.
		return false, userErr("/%s: names starting with %q are reserved for layer whiteouts", name, whiteoutPrefix)
	}
	host := filepath.Join(dir, name)
	var st unix.Stat_t
	if err := unix.Lstat(host, &st); err != nil {
		return false, &os.PathError{Op: "lstat", Path: host, Err: err}
	}
	hdr := &tar.Header{
		Name:    name,
		Mode:    int64(st.Mode & 0o7777),
		Uid:     int(st.Uid),
		Gid:     int(st.Gid),
		ModTime: clamp(time.Unix(st.Mtim.Unix()), epoch),
		Format:  tar.FormatUnknown,
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFCHR:
		if st.Rdev == 0 {
			// An overlayfs whiteout: the name is deleted.
			d, base := path.Split(name)
			return false, tw.WriteHeader(&tar.Header{
				Name: d + whiteoutPrefix + base, Typeflag: tar.TypeReg, ModTime: clamp(time.Unix(st.Mtim.Unix()), epoch),
			})
		}
		hdr.Typeflag = tar.TypeChar
		hdr.Devmajor, hdr.Devminor = int64(unix.Major(st.Rdev)), int64(unix.Minor(st.Rdev))
	case unix.S_IFBLK:
		hdr.Typeflag = tar.TypeBlock
		hdr.Devmajor, hdr.Devminor = int64(unix.Major(st.Rdev)), int64(unix.Minor(st.Rdev))
	case unix.S_IFIFO:
		hdr.Typeflag = tar.TypeFifo
	case unix.S_IFSOCK:
		return false, nil // a socket is no file content; Docker skips them too
	case unix.S_IFLNK:
		target, err := os.Readlink(host)
		if err != nil {
			return false, err
		}
		hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, target
	case unix.S_IFDIR:
		hdr.Typeflag = tar.TypeDir
		hdr.Name += "/"
		if err := tw.WriteHeader(hdr); err != nil {
			return false, err
		}
		if v, _ := getxattr(host, opaqueXattr); v == "y" {
			if err := tw.WriteHeader(&tar.Header{Name: name + "/" + opaqueWhiteout, Typeflag: tar.TypeReg, ModTime: hdr.ModTime}); err != nil {
				return false, err
			}
		}
		return true, nil
	case unix.S_IFREG:
		hdr.Typeflag = tar.TypeReg
		if st.Nlink > 1 {
			key := [2]uint64{st.Dev, st.Ino}
			if first, ok := links[key]; ok {
				hdr.Typeflag, hdr.Linkname = tar.TypeLink, first
				return false, tw.WriteHeader(hdr)
			}
			links[key] = name
		}
		hdr.Size = st.Size
	default:
		return false, fmt.Errorf("%s: unsupported file type %o", name, st.Mode&unix.S_IFMT)
	}
	if hdr.Typeflag == tar.TypeReg || hdr.Typeflag == tar.TypeDir {
		if v, err := getxattr(host, capXattr); err == nil && v != "" {
			hdr.PAXRecords = map[string]string{"SCHILY.xattr." + capXattr: v}
		}
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return false, err
	}
	if hdr.Typeflag == tar.TypeReg {
		f, err := os.Open(host)
		if err != nil {
			return false, err
		}
		defer func() { _ = f.Close() }()
		n, err := io.Copy(tw, io.LimitReader(f, hdr.Size))
		if err != nil {
			return false, err
		}
		if n != hdr.Size {
			return false, fmt.Errorf("%s: changed while it was archived", name)
		}
	}
	return false, nil
}

func clamp(t, epoch time.Time) time.Time {
	if t.After(epoch) {
		return epoch
	}
	return t
}

// getxattr reads one extended attribute of a path without following a
// final symlink; a missing attribute is "".
func getxattr(p, attr string) (string, error) {
	buf := make([]byte, 256)
	for {
		n, err := unix.Lgetxattr(p, attr, buf)
		switch {
		case errors.Is(err, unix.ENODATA), errors.Is(err, unix.ENOTSUP):
			return "", nil
		case errors.Is(err, unix.ERANGE):
			buf = make([]byte, len(buf)*4)
			continue
		case err != nil:
			return "", err
		}
		return string(buf[:n]), nil
	}
}

// dirSize is the bytes of the regular files under dir (a cache's
// accounting, not exact disk usage).
func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
