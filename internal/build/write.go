package build

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"time"

	"golang.org/x/sys/unix"
)

// layerWriter writes COPY/ADD entries into a new layer directory, which
// sits on top of the stage's layers: paths are resolved through the
// image's own symlinks (a COPY to /bin/x where /bin -> usr/bin lands in
// usr/bin), and every write goes through an os.Root of the layer
// directory, so no name or symlink can make it write anywhere else.
type layerWriter struct {
	root    *os.Root
	v       *view // the stage's layers with the layer directory on top
	written map[string]string
}

func newLayerWriter(dir string, lower []string) (*layerWriter, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &layerWriter{
		root:    root,
		v:       &view{layers: append(append([]string(nil), lower...), dir)},
		written: map[string]string{},
	}, nil
}

func (w *layerWriter) close() { _ = w.root.Close() }

// ensureDir makes the resolved directory rel exist in the layer, each
// missing component a copy of the directory the layers below show there
// (so the layer's tar carries the same metadata), or a new 0755 root
// directory.
func (w *layerWriter) ensureDir(rel string) error {
	if rel == "." {
		return nil
	}
	cur := "."
	for _, c := range splitPath(rel) {
		cur = path.Join(cur, c)
		fi, err := w.root.Lstat(cur)
		if err == nil {
			if fi.IsDir() {
				continue
			}
			return fmt.Errorf("/%s: %w", cur, unix.ENOTDIR)
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		mode, uid, gid, mtime := fs.FileMode(0o755), 0, 0, time.Time{}
		if e, err := w.v.lstat(cur); err == nil {
			if !e.info.IsDir() {
				return fmt.Errorf("/%s: %w", cur, unix.ENOTDIR)
			}
			mode, mtime = e.info.Mode()&(fs.ModePerm|fs.ModeSetgid|fs.ModeSticky|fs.ModeSetuid), e.info.ModTime()
			if st, ok := e.info.Sys().(*unix.Stat_t); ok {
				uid, gid = int(st.Uid), int(st.Gid)
			}
		}
		if err := w.root.Mkdir(cur, 0o700); err != nil {
			return err
		}
		if err := w.meta(cur, mode, uid, gid, mtime); err != nil {
			return err
		}
	}
	return nil
}

func (w *layerWriter) meta(rel string, mode fs.FileMode, uid, gid int, mtime time.Time) error {
	if err := w.root.Lchown(rel, uid, gid); err != nil {
		return err
	}
	if err := w.root.Chmod(rel, mode); err != nil {
		return err
	}
	if !mtime.IsZero() {
		return w.root.Chtimes(rel, mtime, mtime)
	}
	return nil
}

// clear removes what the layer holds at rel, unless keepDir and it is a
// directory.
func (w *layerWriter) clear(rel string, keepDir bool) (bool, error) {
	fi, err := w.root.Lstat(rel)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if keepDir && fi.IsDir() {
		return true, nil
	}
	return false, w.root.RemoveAll(rel)
}

// apply writes one entry. top marks the destination of a directory copy,
// which keeps an existing directory's metadata.
func (w *layerWriter) apply(op copyOp, content io.Reader, top bool) error {
	parent, err := w.v.resolve(path.Dir(op.dst), true)
	if err != nil {
		return err
	}
	final := path.Join(parent, path.Base(op.dst))
	if op.dst == "." || op.dst == "/" {
		final = "."
	}
	if op.typ == 'd' {
		// Directories merge with what a symlink in the image points at,
		// as Docker's copy does.
		if final, err = w.v.resolve(final, true); err != nil {
			return err
		}
	}
	if err := w.ensureDir(path.Dir(final)); err != nil {
		return err
	}
	switch op.typ {
	case 'd':
		if top {
			if e, err := w.v.lstat(final); err == nil && e.info.IsDir() {
				return w.ensureDir(final)
			}
		}
		isDir, err := w.clear(final, true)
		if err != nil {
			return err
		}
		if !isDir {
			if err := w.root.Mkdir(final, 0o700); err != nil {
				return err
			}
		}
		err = w.meta(final, op.mode, op.uid, op.gid, op.mtime)
		w.written[op.dst] = final
		return err
	case 'f':
		if _, err := w.clear(final, false); err != nil {
			return err
		}
		f, err := w.root.OpenFile(final, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		n, err := io.Copy(f, content)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		if n != op.size {
			return fmt.Errorf("%s: changed while it was copied", op.dst)
		}
		w.written[op.dst] = final
		return w.meta(final, op.mode, op.uid, op.gid, op.mtime)
	case 'l':
		if _, err := w.clear(final, false); err != nil {
			return err
		}
		if err := w.root.Symlink(op.link, final); err != nil {
			return err
		}
		w.written[op.dst] = final
		return w.root.Lchown(final, op.uid, op.gid)
	case 'h':
		target, ok := w.written[op.link]
		if !ok {
			return fmt.Errorf("hard link %s: its target %s is not in the archive", op.dst, op.link)
		}
		if _, err := w.clear(final, false); err != nil {
			return err
		}
		w.written[op.dst] = final
		return w.root.Link(target, final)
	}
	return fmt.Errorf("unknown entry type %q", op.typ)
}
