package build

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/bzip2"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"golang.org/x/sys/unix"
)

// copyOp is one entry a COPY or ADD writes, at dst (a clean path relative
// to the image root, before the image's symlinks are resolved).
type copyOp struct {
	dst      string
	typ      byte // 'f' file, 'd' directory, 'l' symlink, 'h' hard link
	mode     fs.FileMode
	uid, gid int
	mtime    time.Time
	link     string // symlink target, or a hard link's dst
	size     int64
}

// emitFunc receives each entry in order; content is the file's bytes for
// 'f' entries (nil otherwise) and must be read before the next call.
type emitFunc func(op copyOp, content io.Reader) error

// tree is where COPY reads: the build context (through an os.Root, so
// nothing outside it is reachable, even through symlinks) or another
// stage's or image's root filesystem (a view).
type tree interface {
	lstat(rel string) (fs.FileInfo, error)
	// stat follows a final symlink (inside the tree) and returns the
	// path to walk from.
	stat(rel string) (fs.FileInfo, string, error)
	readDir(rel string) ([]string, error)
	open(rel string) (io.ReadCloser, error)
	readlink(rel string) (string, error)
	// owned: entries keep their uid/gid (another stage); the context's
	// entries are root's, as Docker makes them.
	owned() bool
}

type contextTree struct{ root *os.Root }

func (c contextTree) lstat(rel string) (fs.FileInfo, error) { return c.root.Lstat(rel) }
func (c contextTree) stat(rel string) (fs.FileInfo, string, error) {
	fi, err := c.root.Stat(rel)
	return fi, rel, err
}
func (c contextTree) readDir(rel string) ([]string, error) {
	f, err := c.root.Open(rel)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	return f.Readdirnames(-1)
}
func (c contextTree) open(rel string) (io.ReadCloser, error) { return c.root.Open(rel) }
func (c contextTree) readlink(rel string) (string, error)    { return c.root.Readlink(rel) }
func (c contextTree) owned() bool                            { return false }

type viewTree struct{ v *view }

func (t viewTree) lookup(rel string, follow bool) (entry, string, error) {
	r, err := t.v.resolve(rel, follow)
	if err != nil {
		return entry{}, "", err
	}
	e, err := t.v.lstat(r)
	return e, r, err
}
func (t viewTree) lstat(rel string) (fs.FileInfo, error) {
	e, _, err := t.lookup(rel, false)
	return e.info, err
}
func (t viewTree) stat(rel string) (fs.FileInfo, string, error) {
	e, r, err := t.lookup(rel, true)
	return e.info, r, err
}
func (t viewTree) readDir(rel string) ([]string, error) {
	e, _, err := t.lookup(rel, false)
	if err != nil {
		return nil, err
	}
	return t.v.readDir(e)
}
func (t viewTree) open(rel string) (io.ReadCloser, error) {
	e, _, err := t.lookup(rel, false)
	if err != nil {
		return nil, err
	}
	// e.host is a host path: a symlink there points into the host, not
	// the image. Callers open regular files only; never follow one.
	return os.OpenFile(e.host, os.O_RDONLY|unix.O_NOFOLLOW, 0)
}
func (t viewTree) readlink(rel string) (string, error) {
	e, _, err := t.lookup(rel, false)
	if err != nil {
		return "", err
	}
	return os.Readlink(e.host)
}
func (t viewTree) owned() bool { return true }

func hasMeta(s string) bool { return strings.ContainsAny(s, `*?[\`) }

// cleanRel makes a source path relative to its tree's root; ".." cannot
// climb above it (as BuildKit normalises sources against "/").
func cleanRel(p string) string {
	c := path.Clean("/" + p)
	if c == "/" {
		return "."
	}
	return c[1:]
}

// match expands a source pattern into the tree's matching paths, sorted.
// A pattern without wildcards must exist; one with wildcards may match
// nothing (BuildKit's AllowEmptyWildcard). At most max candidates are
// kept at any depth: with symlinks to ".", each "*" component matches
// every link again, and the candidates grow exponentially.
func match(t tree, pattern string, max int) ([]string, error) {
	rel := cleanRel(pattern)
	if !hasMeta(rel) {
		if _, err := t.lstat(rel); err != nil {
			return nil, err
		}
		return []string{rel}, nil
	}
	cur := []string{"."}
	for _, comp := range strings.Split(rel, "/") {
		var next []string
		for _, dir := range cur {
			if !hasMeta(comp) {
				p := path.Join(dir, comp)
				if _, err := t.lstat(p); err == nil {
					next = append(next, p)
				}
				continue
			}
			if fi, _, err := t.stat(dir); err != nil || !fi.IsDir() {
				continue
			}
			names, err := t.readDir(dir)
			if err != nil {
				return nil, err
			}
			for _, n := range names {
				ok, err := path.Match(comp, n)
				if err != nil {
					return nil, fmt.Errorf("bad pattern %q: %w", pattern, err)
				}
				if ok {
					if len(next) >= max {
						return nil, fmt.Errorf("the pattern %q matches more than %d files", pattern, max)
					}
					next = append(next, path.Join(dir, n))
				}
			}
		}
		cur = next
	}
	return cur, nil
}

// walkSource emits the entries of one matched source path copied to dst
// ("into" a directory's contents when the source is a directory).
func walkSource(t tree, src, dst string, lim *copyLimits, emit emitFunc, skipped func(string)) error {
	// The source itself is followed if it is a symlink (FollowSymlinks).
	fi, walkFrom, err := t.stat(src)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		// Copying a directory copies its contents, creating dst.
		if err := emitEntry(t, walkFrom, fi, dst, lim, emit, skipped); err != nil {
			return err
		}
		return walkDir(t, walkFrom, dst, lim, emit, skipped)
	}
	return emitEntry(t, walkFrom, fi, dst, lim, emit, skipped)
}

func walkDir(t tree, dir, dst string, lim *copyLimits, emit emitFunc, skipped func(string)) error {
	names, err := t.readDir(dir)
	if err != nil {
		return err
	}
	slices.Sort(names)
	for _, n := range names {
		p, d := path.Join(dir, n), path.Join(dst, n)
		fi, err := t.lstat(p)
		if err != nil {
			return err
		}
		if err := emitEntry(t, p, fi, d, lim, emit, skipped); err != nil {
			return err
		}
		if fi.IsDir() {
			if err := walkDir(t, p, d, lim, emit, skipped); err != nil {
				return err
			}
		}
	}
	return nil
}

func emitEntry(t tree, src string, fi fs.FileInfo, dst string, lim *copyLimits, emit emitFunc, skipped func(string)) error {
	if strings.HasPrefix(path.Base(dst), whiteoutPrefix) {
		return fmt.Errorf("%s: names starting with %q are reserved for layer whiteouts", src, whiteoutPrefix)
	}
	op := copyOp{dst: dst, mode: fi.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky), mtime: fi.ModTime()}
	if t.owned() {
		if st, ok := fi.Sys().(*unix.Stat_t); ok {
			op.uid, op.gid = int(st.Uid), int(st.Gid)
		}
	}
	if err := lim.add(fi.Size()); err != nil {
		return err
	}
	switch {
	case fi.Mode().IsRegular():
		op.typ, op.size = 'f', fi.Size()
		f, err := t.open(src)
		if err != nil {
			return err
		}
		defer func() { _ = f.Close() }()
		return emit(op, io.LimitReader(f, op.size))
	case fi.IsDir():
		op.typ = 'd'
	case fi.Mode()&fs.ModeSymlink != 0:
		target, err := t.readlink(src)
		if err != nil {
			return err
		}
		op.typ, op.link = 'l', target
	default:
		// Devices, FIFOs and sockets are no build input: skipped.
		skipped(src)
		return nil
	}
	return emit(op, nil)
}

// copyLimits bounds one COPY or ADD (entries and bytes).
type copyLimits struct {
	maxEntries, entries int
	maxBytes, bytes     int64
}

func (l *copyLimits) add(size int64) error {
	l.entries++
	l.bytes += max(size, 0)
	if l.entries > l.maxEntries {
		return fmt.Errorf("more than %d files", l.maxEntries)
	}
	if l.bytes > l.maxBytes {
		return fmt.Errorf("more than %d bytes", l.maxBytes)
	}
	return nil
}

// archive detection for ADD: the decompressed stream must start with a
// valid tar header.

type compression int

const (
	plainTar compression = iota
	gzipTar
	bzip2Tar
	xzTar
	zstdTar
)

func detect(head []byte) compression {
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return gzipTar
	case bytes.HasPrefix(head, []byte("BZh")):
		return bzip2Tar
	case bytes.HasPrefix(head, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		return xzTar
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return zstdTar
	}
	return plainTar
}

// decompressed returns the tar stream of an archive; close releases
// what the decompressor holds (and waits for xz).
func decompressed(ctx context.Context, r io.Reader) (io.Reader, func() error, error) {
	br := bufio.NewReader(r)
	head, _ := br.Peek(6)
	switch detect(head) {
	case gzipTar:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, err
		}
		return zr, zr.Close, nil
	case bzip2Tar:
		return bzip2.NewReader(br), func() error { return nil }, nil
	case zstdTar:
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, nil, err
		}
		return zr, func() error { zr.Close(); return nil }, nil
	case xzTar:
		// The standard library and this module's dependencies have no
		// xz decoder; Debian's xz decodes it in a child process.
		// It parses the build context's bytes in C, outside any sandbox:
		// as nobody, with no environment, bounded memory, dying with us.
		cmd := exec.CommandContext(ctx, "xz", "--decompress", "--stdout", "--quiet", "--memlimit-decompress=512MiB")
		cmd.Stdin = br
		cmd.Env = []string{}
		cmd.SysProcAttr = &syscall.SysProcAttr{
			Credential: &syscall.Credential{Uid: 65534, Gid: 65534},
			Pdeathsig:  syscall.SIGKILL,
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			return nil, nil, err
		}
		if err := cmd.Start(); err != nil {
			return nil, nil, fmt.Errorf("xz archives need the xz program: %w", err)
		}
		return out, func() error {
			_, _ = io.Copy(io.Discard, out)
			return cmd.Wait()
		}, nil
	}
	return br, func() error { return nil }, nil
}

// isArchive reports whether the file is a (compressed) tar archive.
func isArchive(ctx context.Context, open func() (io.ReadCloser, error)) bool {
	f, err := open()
	if err != nil {
		return false
	}
	defer func() { _ = f.Close() }()
	r, closeFn, err := decompressed(ctx, f)
	if err != nil {
		return false
	}
	defer func() { _ = closeFn() }()
	_, err = tar.NewReader(r).Next()
	return err == nil
}

// walkArchive emits the entries of a tar archive extracted into dst.
// Names are taken relative to dst and may not climb out of it; device
// nodes and FIFOs are skipped; owners and modes are the archive's.
func walkArchive(ctx context.Context, r io.Reader, dst string, lim *copyLimits, emit emitFunc, skipped func(string)) (err error) {
	tr, closeFn, err := decompressed(ctx, r)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := closeFn(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	rd := tar.NewReader(tr)
	for {
		hdr, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading the archive: %w", err)
		}
		if hdr.Typeflag == tar.TypeXGlobalHeader {
			continue
		}
		name, err := archiveName(hdr.Name)
		if err != nil {
			return err
		}
		if err := lim.add(hdr.Size); err != nil {
			return err
		}
		if strings.HasPrefix(path.Base(name), whiteoutPrefix) {
			return fmt.Errorf("archive entry %q: names starting with %q are reserved for layer whiteouts", hdr.Name, whiteoutPrefix)
		}
		op := copyOp{
			dst: path.Join(dst, name), mode: fs.FileMode(hdr.Mode) & fs.ModePerm,
			uid: hdr.Uid, gid: hdr.Gid, mtime: hdr.ModTime,
		}
		if hdr.Mode&0o4000 != 0 {
			op.mode |= fs.ModeSetuid
		}
		if hdr.Mode&0o2000 != 0 {
			op.mode |= fs.ModeSetgid
		}
		if hdr.Mode&0o1000 != 0 {
			op.mode |= fs.ModeSticky
		}
		var content io.Reader
		switch hdr.Typeflag {
		case tar.TypeReg, tar.TypeRegA: //nolint:staticcheck // old archives
			op.typ, op.size, content = 'f', hdr.Size, rd
		case tar.TypeDir:
			op.typ = 'd'
			if name == "." {
				op.dst = dst
			}
		case tar.TypeSymlink:
			op.typ, op.link = 'l', hdr.Linkname
		case tar.TypeLink:
			target, err := archiveName(hdr.Linkname)
			if err != nil {
				return err
			}
			op.typ, op.link = 'h', path.Join(dst, target)
		default:
			skipped(hdr.Name)
			continue
		}
		if err := emit(op, content); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

func archiveName(name string) (string, error) {
	if strings.IndexByte(name, 0) >= 0 {
		return "", fmt.Errorf("archive entry %q: name contains NUL", name)
	}
	p := strings.TrimLeft(path.Clean(name), "/")
	if p == "" {
		p = "."
	}
	if p == ".." || strings.HasPrefix(p, "../") {
		return "", fmt.Errorf("archive entry %q leaves the destination", name)
	}
	return p, nil
}
