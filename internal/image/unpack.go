package image

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// A layer is unpacked into a directory of its own, which becomes an
// overlayfs lower dir. Every entry is created relative to a directory file
// descriptor whose path was resolved by the kernel with openat2 and
// RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS: no component of an entry's parent may
// be a symlink (not even one pointing inside the layer), and leaves are
// created, linked, changed and removed with *at calls that never follow a
// final symlink. So a hostile tar cannot reach outside the layer directory
// however it combines names, symlinks and hard links, and nothing depends on
// a path string checked before use (the TOCTOU of CVE-2018-15664). os.Root
// alone is not enough here: it follows symlinks that stay inside the root,
// and it has no mknodat, fsetxattr or lutimes, which overlayfs whiteouts,
// opaque directories and symlink times need.

// errUnsafeLayer marks a layer refused because an entry tried to reach
// outside the layer or was otherwise malformed. The layer is discarded.
var errUnsafeLayer = errors.New("unsafe layer")

func unsafeEntry(name, format string, args ...any) error {
	if len(name) > 128 {
		name = name[:128] + "…"
	}
	return fmt.Errorf("%w: entry %q: %s", errUnsafeLayer, name, fmt.Sprintf(format, args...))
}

// limits bound one layer (a tar bomb guard).
type limits struct {
	maxBytes   int64 // uncompressed bytes of the tar stream
	maxEntries int
}

const (
	defaultMaxLayerBytes   = 8 << 30
	defaultMaxLayerEntries = 1 << 20

	whiteoutPrefix = ".wh."
	opaqueMarker   = ".wh..wh..opq"
	// overlayfs marks a directory that hides the same directory of the
	// layers below with this xattr, and a removed name with a 0/0 char
	// device.
	opaqueXattr = "trusted.overlay.opaque"
)

// resolveHow makes openat2 refuse any symlink, magic link, mount crossing
// or path leaving the directory it starts from.
var resolveHow = unix.OpenHow{
	Flags:   unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC,
	Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_NO_XDEV,
}

type dirTime struct {
	name  string
	mtime time.Time
}

// unpacker writes one tar stream into dir.
type unpacker struct {
	root   *os.Root // for RemoveAll of replaced directories
	rootFd int
	log    *slog.Logger
	lim    limits

	// The parent directory of the previous entry, kept open because tar
	// entries of one directory usually follow each other.
	parentName string
	parentFd   int

	dirTimes []dirTime
	buf      []byte
	skipped  int
	written  int64 // file bytes, sparse holes included
}

// unpack writes the tar stream r into dir, which must be an empty
// directory that nothing else writes to while unpack runs.
func unpack(dir string, r io.Reader, lim limits, log *slog.Logger) (err error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer func() { _ = root.Close() }()
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: dir, Err: err}
	}
	u := &unpacker{root: root, rootFd: fd, log: log, lim: lim, parentFd: -1, buf: make([]byte, 1<<20)}
	defer u.close()

	tr := tar.NewReader(r)
	for n := 1; ; n++ {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("reading layer: %w", err)
		}
		if n > u.lim.maxEntries {
			return fmt.Errorf("%w: more than %d entries", errUnsafeLayer, u.lim.maxEntries)
		}
		if err := u.entry(hdr, tr); err != nil {
			return err
		}
	}
	if u.skipped > 0 {
		u.log.Debug("layer entries skipped", "count", u.skipped)
	}
	return u.finish()
}

func (u *unpacker) close() {
	u.dropParent()
	_ = unix.Close(u.rootFd)
}

// cleanName turns a tar entry name into a relative slash path with no "."
// or ".." component ("." for the layer root). Absolute names are taken
// relative to the layer; a name that climbs out of it refuses the layer.
func cleanName(name string) (string, error) {
	if strings.IndexByte(name, 0) >= 0 {
		return "", unsafeEntry(name, "name contains NUL")
	}
	p := path.Clean(name)
	p = strings.TrimLeft(p, "/")
	if p == "" {
		p = "."
	}
	if p == ".." || strings.HasPrefix(p, "../") {
		return "", unsafeEntry(name, "path leaves the layer")
	}
	return p, nil
}

func splitName(name string) (dir, base string) {
	i := strings.LastIndexByte(name, '/')
	if i < 0 {
		return ".", name
	}
	return name[:i], name[i+1:]
}

func (u *unpacker) entry(hdr *tar.Header, r io.Reader) error {
	name, err := cleanName(hdr.Name)
	if err != nil {
		return err
	}
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		return nil
	}
	if name == "." {
		if hdr.Typeflag != tar.TypeDir {
			return unsafeEntry(hdr.Name, "the layer root is not a directory")
		}
		return u.dirMeta(".", u.rootFd, ".", hdr)
	}
	dir, base := splitName(name)
	if strings.HasPrefix(base, whiteoutPrefix) {
		return u.whiteout(hdr.Name, dir, base)
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		return u.mkdir(name, dir, base, hdr)
	case tar.TypeReg, tar.TypeGNUSparse:
		return u.file(name, dir, base, hdr, r)
	case tar.TypeSymlink:
		return u.symlink(name, dir, base, hdr)
	case tar.TypeLink:
		return u.link(name, dir, base, hdr)
	default:
		// Device nodes, FIFOs and unknown types: the runtime provides
		// /dev, and nothing else belongs in a shared read-only layer.
		u.skipped++
		u.log.Debug("layer entry skipped", "name", name, "type", string(hdr.Typeflag))
		return nil
	}
}

// parent returns a descriptor of directory dir inside the layer, creating
// missing directories (0755) when create is set. The descriptor stays owned
// by the unpacker.
func (u *unpacker) parent(dir string, create bool) (int, error) {
	if dir == "." {
		return u.rootFd, nil
	}
	if u.parentFd >= 0 && u.parentName == dir {
		return u.parentFd, nil
	}
	u.dropParent()
	how := resolveHow
	fd, err := unix.Openat2(u.rootFd, dir, &how)
	if errors.Is(err, unix.ENOENT) && create {
		fd, err = u.mkdirAll(dir)
	}
	switch {
	case errors.Is(err, unix.ELOOP), errors.Is(err, unix.EXDEV), errors.Is(err, unix.ENOTDIR):
		return -1, unsafeEntry(dir, "goes through a symlink or a non-directory")
	case err != nil:
		return -1, &os.PathError{Op: "openat2", Path: dir, Err: err}
	}
	u.parentName, u.parentFd = dir, fd
	return fd, nil
}

// mkdirAll creates the missing directories of dir, one component at a
// time, refusing to step through anything but a real directory.
func (u *unpacker) mkdirAll(dir string) (int, error) {
	fd, err := unix.Dup(u.rootFd)
	if err != nil {
		return -1, err
	}
	for comp := range strings.SplitSeq(dir, "/") {
		if err := unix.Mkdirat(fd, comp, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
			_ = unix.Close(fd)
			return -1, err
		}
		next, err := unix.Openat(fd, comp, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		_ = unix.Close(fd)
		if err != nil {
			return -1, err
		}
		fd = next
	}
	return fd, nil
}

func (u *unpacker) dropParent() {
	if u.parentFd >= 0 {
		_ = unix.Close(u.parentFd)
	}
	u.parentName, u.parentFd = "", -1
}

// clear removes whatever is at base in pfd so that a new entry can take
// its place (later entries of a layer replace earlier ones, as in tar).
func (u *unpacker) clear(name string, pfd int, base string) error {
	var st unix.Stat_t
	if err := unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return unix.Unlinkat(pfd, base, 0)
	}
	// pfd's path was just resolved without symlinks and nothing else
	// writes here, so the root-relative name reaches the same directory.
	// The cached parent is pfd itself, which stays valid.
	return u.root.RemoveAll(name)
}

func (u *unpacker) mkdir(name, dir, base string, hdr *tar.Header) error {
	pfd, err := u.parent(dir, true)
	if err != nil {
		return err
	}
	err = unix.Mkdirat(pfd, base, 0o700)
	if errors.Is(err, unix.EEXIST) {
		var st unix.Stat_t
		if err = unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err == nil && st.Mode&unix.S_IFMT != unix.S_IFDIR {
			if err = unix.Unlinkat(pfd, base, 0); err == nil {
				err = unix.Mkdirat(pfd, base, 0o700)
			}
		}
	}
	if err != nil {
		return &os.PathError{Op: "mkdir", Path: name, Err: err}
	}
	fd, err := unix.Openat(pfd, base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: name, Err: err}
	}
	defer func() { _ = unix.Close(fd) }()
	return u.dirMeta(name, fd, name, hdr)
}

// dirMeta sets a directory's owner, mode and xattrs through its descriptor
// and remembers its mtime for the end (writing entries into it changes it).
func (u *unpacker) dirMeta(name string, fd int, key string, hdr *tar.Header) error {
	if err := u.fdMeta(name, fd, hdr); err != nil {
		return err
	}
	u.dirTimes = append(u.dirTimes, dirTime{name: key, mtime: hdr.ModTime})
	return nil
}

// fdMeta applies owner, then mode (chown clears set-id bits), then xattrs.
func (u *unpacker) fdMeta(name string, fd int, hdr *tar.Header) error {
	if hdr.Uid != 0 || hdr.Gid != 0 {
		if hdr.Uid < 0 || hdr.Gid < 0 || hdr.Uid > 1<<31-2 || hdr.Gid > 1<<31-2 {
			return unsafeEntry(name, "owner %d:%d out of range", hdr.Uid, hdr.Gid)
		}
		if err := unix.Fchown(fd, hdr.Uid, hdr.Gid); err != nil {
			return &os.PathError{Op: "chown", Path: name, Err: err}
		}
	}
	if err := unix.Fchmod(fd, unixMode(hdr.Mode)); err != nil {
		return &os.PathError{Op: "chmod", Path: name, Err: err}
	}
	for k, v := range hdr.PAXRecords {
		attr, ok := strings.CutPrefix(k, "SCHILY.xattr.")
		if !ok || !keepXattr(attr) {
			continue
		}
		if err := unix.Fsetxattr(fd, attr, []byte(v), 0); err != nil {
			u.log.Debug("layer xattr not set", "name", name, "xattr", attr, "err", err)
		}
	}
	return nil
}

// keepXattr allows user attributes (but not overlayfs's own, which a
// userxattr mount would obey) and file capabilities. trusted.* (overlayfs
// redirects and opaque markers) and the other security.* attributes are
// never taken from an image.
func keepXattr(attr string) bool {
	return attr == "security.capability" ||
		strings.HasPrefix(attr, "user.") && !strings.HasPrefix(attr, "user.overlay.")
}

// unixMode maps a tar mode to permission and set-id/sticky bits.
func unixMode(m int64) uint32 {
	return uint32(m) & (unix.S_IRWXU | unix.S_IRWXG | unix.S_IRWXO | unix.S_ISUID | unix.S_ISGID | unix.S_ISVTX)
}

func (u *unpacker) file(name, dir, base string, hdr *tar.Header, r io.Reader) error {
	// A sparse entry expands to far more than the stream carries.
	if u.written += hdr.Size; hdr.Size < 0 || u.written > u.lim.maxBytes {
		return fmt.Errorf("%w: more than %d bytes of files", errUnsafeLayer, u.lim.maxBytes)
	}
	pfd, err := u.parent(dir, true)
	if err != nil {
		return err
	}
	const flags = unix.O_WRONLY | unix.O_CREAT | unix.O_EXCL | unix.O_NOFOLLOW | unix.O_CLOEXEC
	fd, err := unix.Openat(pfd, base, flags, 0o600)
	if errors.Is(err, unix.EEXIST) {
		if err = u.clear(name, pfd, base); err == nil {
			fd, err = unix.Openat(pfd, base, flags, 0o600)
		}
	}
	if err != nil {
		return &os.PathError{Op: "create", Path: name, Err: err}
	}
	f := os.NewFile(uintptr(fd), name)
	defer func() { _ = f.Close() }()
	if _, err := io.CopyBuffer(onlyWriter{f}, r, u.buf); err != nil {
		return fmt.Errorf("writing %q: %w", name, err)
	}
	if err := u.fdMeta(name, fd, hdr); err != nil {
		return err
	}
	ts := timespecs(hdr.ModTime)
	if err := unix.UtimesNanoAt(pfd, base, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &os.PathError{Op: "chtimes", Path: name, Err: err}
	}
	return nil
}

// onlyWriter hides os.File's ReadFrom so that io.CopyBuffer uses the
// large buffer rather than copy_file_range/splice probing per file.
type onlyWriter struct{ w io.Writer }

func (o onlyWriter) Write(p []byte) (int, error) { return o.w.Write(p) }

func timespecs(t time.Time) []unix.Timespec {
	if t.IsZero() {
		t = time.Unix(0, 0)
	}
	ts := unix.NsecToTimespec(t.UnixNano())
	return []unix.Timespec{ts, ts}
}

// symlink stores the link as it is: its target is never followed here and
// resolves inside the container's root filesystem at run time.
func (u *unpacker) symlink(name, dir, base string, hdr *tar.Header) error {
	if strings.IndexByte(hdr.Linkname, 0) >= 0 {
		return unsafeEntry(hdr.Name, "link target contains NUL")
	}
	pfd, err := u.parent(dir, true)
	if err != nil {
		return err
	}
	err = unix.Symlinkat(hdr.Linkname, pfd, base)
	if errors.Is(err, unix.EEXIST) {
		if err = u.clear(name, pfd, base); err == nil {
			err = unix.Symlinkat(hdr.Linkname, pfd, base)
		}
	}
	if err != nil {
		return &os.PathError{Op: "symlink", Path: name, Err: err}
	}
	return u.lmeta(name, pfd, base, hdr)
}

// lmeta sets owner and times on a leaf without following it.
func (u *unpacker) lmeta(name string, pfd int, base string, hdr *tar.Header) error {
	if hdr.Uid != 0 || hdr.Gid != 0 {
		if hdr.Uid < 0 || hdr.Gid < 0 || hdr.Uid > 1<<31-2 || hdr.Gid > 1<<31-2 {
			return unsafeEntry(name, "owner %d:%d out of range", hdr.Uid, hdr.Gid)
		}
		if err := unix.Fchownat(pfd, base, hdr.Uid, hdr.Gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return &os.PathError{Op: "lchown", Path: name, Err: err}
		}
	}
	if err := unix.UtimesNanoAt(pfd, base, timespecs(hdr.ModTime), unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &os.PathError{Op: "lchtimes", Path: name, Err: err}
	}
	return nil
}

// link makes a hard link to an entry already unpacked in this layer. The
// target is resolved like any entry name (absolute names are relative to
// the layer, no symlink in its parents); a target that is not in this
// layer refuses the layer, since each layer is unpacked on its own.
func (u *unpacker) link(name, dir, base string, hdr *tar.Header) error {
	target, err := cleanName(hdr.Linkname)
	if err != nil {
		return err
	}
	if target == "." || target == name {
		return unsafeEntry(hdr.Name, "hard link to %q", hdr.Linkname)
	}
	tdir, tbase := splitName(target)
	how := resolveHow
	tfd, err := unix.Openat2(u.rootFd, tdir, &how)
	if err != nil {
		return unsafeEntry(hdr.Name, "hard link target %q is not in this layer (%v)", hdr.Linkname, err)
	}
	defer func() { _ = unix.Close(tfd) }()
	var st unix.Stat_t
	if err := unix.Fstatat(tfd, tbase, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return unsafeEntry(hdr.Name, "hard link target %q is not in this layer (%v)", hdr.Linkname, err)
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return unsafeEntry(hdr.Name, "hard link to directory %q", hdr.Linkname)
	}
	pfd, err := u.parent(dir, true)
	if err != nil {
		return err
	}
	// flags 0: a symlink target is linked itself, never followed.
	err = unix.Linkat(tfd, tbase, pfd, base, 0)
	if errors.Is(err, unix.EEXIST) {
		if err = u.clear(name, pfd, base); err == nil {
			err = unix.Linkat(tfd, tbase, pfd, base, 0)
		}
	}
	if err != nil {
		return &os.PathError{Op: "link", Path: name, Err: err}
	}
	return nil
}

// whiteout turns ".wh.<name>" into overlayfs's 0/0 character device named
// <name>, and ".wh..wh..opq" into the opaque xattr on its directory. The
// names are plain components of an in-layer path, so neither can point
// anywhere but into this layer.
func (u *unpacker) whiteout(raw, dir, base string) error {
	if base == opaqueMarker {
		pfd, err := u.parent(dir, true)
		if err != nil {
			return err
		}
		if err := unix.Fsetxattr(pfd, opaqueXattr, []byte("y"), 0); err != nil {
			return &os.PathError{Op: "setxattr", Path: dir, Err: err}
		}
		return nil
	}
	hidden := strings.TrimPrefix(base, whiteoutPrefix)
	if strings.HasPrefix(hidden, whiteoutPrefix) {
		// Other AUFS metadata (.wh..wh.plnk, .wh..wh.aufs): meaningless here.
		u.skipped++
		return nil
	}
	if hidden == "" || hidden == "." || hidden == ".." {
		return unsafeEntry(raw, "whiteout of %q", hidden)
	}
	pfd, err := u.parent(dir, true)
	if err != nil {
		return err
	}
	name := path.Join(dir, hidden)
	err = unix.Mknodat(pfd, hidden, unix.S_IFCHR, 0)
	if errors.Is(err, unix.EEXIST) {
		if err = u.clear(name, pfd, hidden); err == nil {
			err = unix.Mknodat(pfd, hidden, unix.S_IFCHR, 0)
		}
	}
	if err != nil {
		return &os.PathError{Op: "mknod", Path: name, Err: err}
	}
	return nil
}

// finish sets directory times, deepest first, once nothing more is
// written into them.
func (u *unpacker) finish() error {
	u.dropParent()
	for i := len(u.dirTimes) - 1; i >= 0; i-- {
		d := u.dirTimes[i]
		ts := timespecs(d.mtime)
		if d.name == "." {
			if err := unix.UtimesNanoAt(u.rootFd, ".", ts, 0); err != nil {
				return &os.PathError{Op: "chtimes", Path: ".", Err: err}
			}
			continue
		}
		dir, base := splitName(d.name)
		pfd, err := u.parent(dir, false)
		if err != nil {
			// Replaced by a later entry: its time no longer matters.
			continue
		}
		if err := unix.UtimesNanoAt(pfd, base, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil && !errors.Is(err, unix.ENOENT) {
			return &os.PathError{Op: "chtimes", Path: d.name, Err: err}
		}
	}
	u.dropParent()
	return nil
}
