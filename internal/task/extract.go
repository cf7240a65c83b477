package task

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"

	"github.com/cerulean/cerulean/internal/errdefs"
)

// A build context arrives as the tar.gz az packed (PAX, first entry "/"
// for the context root, real modes and times, symlinks as symlinks). It
// is attacker-controlled: extraction goes through an os.Root, so no entry
// — by "..", an absolute name, a symlink planted by an earlier entry, or a
// hard link — creates or writes anything outside the run's directory;
// device nodes and FIFOs are refused; sizes, entry counts and name
// lengths are bounded.

// extractLimits bound one extraction.
type extractLimits struct {
	MaxBytes   int64 // the regular files' total size
	MaxEntries int
	MaxName    int // bytes of an entry name or link target
}

var defaultExtractLimits = extractLimits{MaxBytes: 8 << 30, MaxEntries: 500_000, MaxName: 4096}

// errContext is a source archive that cannot be extracted.
func errContext(format string, args ...any) error {
	return ErrInvalidRequest.WithMessage("failed to extract the source code: "+format, args...)
}

// entryName maps an archive name into the root: leading slashes are
// dropped (the root entry "/" becomes "."), ".." is refused.
func entryName(name string, lim extractLimits) (string, error) {
	if len(name) > lim.MaxName {
		return "", errContext("an entry name is longer than %d bytes", lim.MaxName)
	}
	if strings.ContainsRune(name, 0) {
		return "", errContext("an entry name holds a NUL byte")
	}
	clean := path.Clean("/" + name)[1:]
	if clean == "" {
		return ".", nil
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "", errContext("the entry %q leaves the context", clip(name))
		}
	}
	return clean, nil
}

// extractContext unpacks the tar.gz r into the directory dir (which must
// exist and be empty).
func extractContext(r io.Reader, dir string, lim extractLimits) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer func() { _ = root.Close() }()
	zr, err := gzip.NewReader(r)
	if err != nil {
		return errContext("the archive is not gzip-compressed: %v", err)
	}
	tr := tar.NewReader(zr)
	type dirTime struct {
		name string
		t    time.Time
	}
	var (
		dirs    []dirTime
		entries int
		total   int64
	)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return errContext("the archive is damaged: %v", err)
		}
		if entries++; entries > lim.MaxEntries {
			return errContext("the archive has more than %d entries", lim.MaxEntries)
		}
		name, err := entryName(hdr.Name, lim)
		if err != nil {
			return err
		}
		if hdr.Typeflag == tar.TypeXGlobalHeader {
			continue
		}
		if name == "." {
			if hdr.Typeflag != tar.TypeDir {
				return errContext("the archive's root entry is not a directory")
			}
			continue
		}
		if err := mkParents(root, name); err != nil {
			return err
		}
		perm := fs.FileMode(hdr.Mode) & 0o777 // never setuid, setgid or sticky
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := root.Mkdir(name, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
				return escapeOr(err, hdr.Name)
			}
			if fi, err := root.Lstat(name); err != nil || !fi.IsDir() {
				return errContext("the entry %q is not a directory", clip(hdr.Name))
			}
			if err := root.Chmod(name, perm|0o700); err != nil {
				return escapeOr(err, hdr.Name)
			}
			dirs = append(dirs, dirTime{name, hdr.ModTime})
		case tar.TypeReg:
			if hdr.Size > lim.MaxBytes-total {
				return errContext("the archive's files are larger than %d bytes", lim.MaxBytes)
			}
			total += hdr.Size
			if err := removeEntry(root, name); err != nil {
				return escapeOr(err, hdr.Name)
			}
			f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm|0o600)
			if err != nil {
				return escapeOr(err, hdr.Name)
			}
			_, err = io.Copy(f, io.LimitReader(tr, hdr.Size))
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return errContext("the archive is damaged at %q: %v", clip(hdr.Name), err)
			}
			if err := root.Chmod(name, perm); err != nil {
				return escapeOr(err, hdr.Name)
			}
			if err := root.Chtimes(name, hdr.ModTime, hdr.ModTime); err != nil {
				return escapeOr(err, hdr.Name)
			}
		case tar.TypeSymlink:
			if len(hdr.Linkname) > lim.MaxName || strings.ContainsRune(hdr.Linkname, 0) {
				return errContext("the link target of %q is invalid", clip(hdr.Name))
			}
			if err := removeEntry(root, name); err != nil {
				return escapeOr(err, hdr.Name)
			}
			// The link itself lives in the root whatever it points at;
			// nothing here follows it, and readers of the context must not.
			if err := root.Symlink(hdr.Linkname, name); err != nil {
				return escapeOr(err, hdr.Name)
			}
		case tar.TypeLink:
			target, err := entryName(hdr.Linkname, lim)
			if err != nil || target == "." {
				return errContext("the hard link %q leaves the context", clip(hdr.Name))
			}
			if fi, err := root.Lstat(target); err != nil || !fi.Mode().IsRegular() {
				return errContext("the hard link %q names no earlier file", clip(hdr.Name))
			}
			if err := removeEntry(root, name); err != nil {
				return escapeOr(err, hdr.Name)
			}
			if err := root.Link(target, name); err != nil {
				return escapeOr(err, hdr.Name)
			}
		case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
			return errContext("the entry %q is a device node or FIFO, which a build context may not hold", clip(hdr.Name))
		default:
			return errContext("the entry %q has an unsupported type %q", clip(hdr.Name), string(hdr.Typeflag))
		}
	}
	// Directories last, deepest first: creating their entries changed
	// their times.
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := root.Chtimes(dirs[i].name, dirs[i].t, dirs[i].t); err != nil {
			return escapeOr(err, dirs[i].name)
		}
	}
	return nil
}

// mkParents creates an entry's missing parent directories (Docker's
// rule: an archive need not list them).
func mkParents(root *os.Root, name string) error {
	parent := path.Dir(name)
	if parent == "." {
		return nil
	}
	if err := root.MkdirAll(parent, 0o755); err != nil {
		return escapeOr(err, name)
	}
	return nil
}

// removeEntry removes what an earlier entry left at name (a later entry
// of the same name replaces it, as tar does), without following it.
func removeEntry(root *os.Root, name string) error {
	fi, err := root.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return errContext("the entry %q replaces a directory", clip(name))
	}
	return root.Remove(name)
}

// escapeOr reports an os.Root refusal as an entry that leaves the
// context, and any other error as such.
func escapeOr(err error, name string) error {
	if _, ok := errors.AsType[*errdefs.Error](err); ok {
		return err
	}
	var pe *fs.PathError
	if errors.As(err, &pe) && strings.Contains(pe.Err.Error(), "escapes") {
		return errContext("the entry %q leaves the context", clip(name))
	}
	if strings.Contains(err.Error(), "escapes") || strings.Contains(err.Error(), "too many levels of symbolic links") ||
		strings.Contains(err.Error(), "not a directory") {
		return errContext("the entry %q leaves the context or goes through a link: %v", clip(name), err)
	}
	return fmt.Errorf("extract %q: %w", clip(name), err)
}
