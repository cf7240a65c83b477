package build

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// view reads the root filesystem a stack of overlay-form layer
// directories (bottom first) makes, as overlayfs would show it, without
// mounting anything: a 0/0 character device hides a name of the layers
// below, an opaque directory hides their whole directory, and a
// non-directory hides everything below it. It only reads; every path it
// returns is inside one of the layers, and symlinks are resolved against
// the view's own root, never the host's.
type view struct {
	layers []string
}

var errNotExist = fs.ErrNotExist

// entry is one visible name: the topmost layer's file, and for a
// directory the layers that merge into it (top first).
type entry struct {
	host string // the file in its layer
	info fs.FileInfo
	dirs []string // for a directory: its host paths in each merged layer, top first
}

func isWhiteout(fi fs.FileInfo) bool {
	if fi.Mode()&fs.ModeCharDevice == 0 {
		return false
	}
	st, ok := fi.Sys().(*unix.Stat_t)
	return ok && st.Rdev == 0
}

func isOpaque(host string) bool {
	v, _ := getxattr(host, opaqueXattr)
	return v == "y"
}

// lstat looks a clean relative path ("." for the root) up without
// following a final symlink; intermediate components must be directories
// (callers resolve symlinks first with resolve).
func (v *view) lstat(rel string) (entry, error) {
	dirs := make([]string, 0, len(v.layers))
	for i := len(v.layers) - 1; i >= 0; i-- {
		dirs = append(dirs, v.layers[i])
	}
	if len(dirs) == 0 {
		if rel == "." {
			return entry{info: rootInfo{}}, nil
		}
		return entry{}, errNotExist
	}
	cur := entry{host: dirs[0], dirs: dirs}
	if fi, err := os.Lstat(dirs[0]); err == nil {
		cur.info = fi
	} else {
		return entry{}, err
	}
	if rel == "." {
		return cur, nil
	}
	for _, c := range strings.Split(rel, "/") {
		if cur.dirs == nil {
			return entry{}, fmt.Errorf("%s: %w", rel, unix.ENOTDIR)
		}
		next := entry{}
		for _, d := range cur.dirs {
			host := filepath.Join(d, c)
			fi, err := os.Lstat(host)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return entry{}, err
			}
			if isWhiteout(fi) {
				break
			}
			if next.info == nil {
				next.host, next.info = host, fi
				if !fi.IsDir() {
					break
				}
			} else if !fi.IsDir() {
				break // a lower non-directory under an upper directory is hidden
			}
			next.dirs = append(next.dirs, host)
			if isOpaque(host) {
				break
			}
		}
		if next.info == nil {
			return entry{}, errNotExist
		}
		cur = next
	}
	return cur, nil
}

// readDir lists a directory entry's visible names, sorted.
func (v *view) readDir(e entry) ([]string, error) {
	seen := map[string]bool{}
	var names []string
	for _, d := range e.dirs {
		des, err := os.ReadDir(d)
		if err != nil {
			return nil, err
		}
		for _, de := range des {
			n := de.Name()
			if seen[n] {
				continue
			}
			seen[n] = true
			if de.Type()&fs.ModeCharDevice != 0 {
				if fi, err := de.Info(); err == nil && isWhiteout(fi) {
					continue // hidden here and below: seen keeps lower ones out
				}
			}
			names = append(names, n)
		}
		if isOpaque(d) {
			break
		}
	}
	slices.Sort(names)
	return names, nil
}

// resolve follows symlinks in p (absolute or relative to "/") within the
// view and returns the clean relative path with no symlink component (the
// last one too when followLast); a missing component ends resolution and
// the rest is appended as written.
func (v *view) resolve(p string, followLast bool) (string, error) {
	todo := splitPath(p)
	var done []string
	for hops := 0; len(todo) > 0; {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "..":
			if len(done) > 0 {
				done = done[:len(done)-1]
			}
			continue
		case ".":
			continue
		}
		cand := path.Join(append(slices.Clone(done), c)...)
		e, err := v.lstat(cand)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ENOTDIR) {
			return path.Join(append(append(done, c), todo...)...), nil
		}
		if err != nil {
			return "", err
		}
		if e.info.Mode()&fs.ModeSymlink != 0 && (len(todo) > 0 || followLast) {
			if hops++; hops > 40 {
				return "", fmt.Errorf("/%s: too many levels of symbolic links", cand)
			}
			target, err := os.Readlink(e.host)
			if err != nil {
				return "", err
			}
			if strings.HasPrefix(target, "/") {
				done = nil
			}
			todo = append(splitPath(target), todo...)
			continue
		}
		done = append(done, c)
	}
	if len(done) == 0 {
		return ".", nil
	}
	return path.Join(done...), nil
}

func splitPath(p string) []string {
	var out []string
	for _, c := range strings.Split(p, "/") {
		if c != "" {
			out = append(out, c)
		}
	}
	return out
}

// readFile reads a small file of the view (following symlinks), or nil.
func (v *view) readFile(p string, max int64) []byte {
	rel, err := v.resolve(p, true)
	if err != nil {
		return nil
	}
	e, err := v.lstat(rel)
	if err != nil || !e.info.Mode().IsRegular() {
		return nil
	}
	f, err := os.OpenFile(e.host, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil
	}
	defer func() { _ = f.Close() }()
	data, _ := io.ReadAll(io.LimitReader(f, max))
	return data
}

// rootInfo is the root of an empty view (FROM scratch).
type rootInfo struct{}

func (rootInfo) Name() string       { return "/" }
func (rootInfo) Size() int64        { return 0 }
func (rootInfo) Mode() fs.FileMode  { return fs.ModeDir | 0o755 }
func (rootInfo) ModTime() time.Time { return time.Time{} }
func (rootInfo) IsDir() bool        { return true }
func (rootInfo) Sys() any           { return nil }
