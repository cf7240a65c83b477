package build

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cerulean/cerulean/internal/atomicfile"
)

// layerCache keeps the layers builds make, under Config.Dir:
//
//	layers/<diffID hex>/   the layer, unpacked in overlayfs form: the lower dir
//	                       later RUNs stack (a RUN's upper dir, renamed here)
//	blobs/<digest hex>     the layer's gzip blob, pushed as is
//	keys/<key hex>.json    a cache key → {diffID, digest, size}; its mtime is
//	                       its last use
//	verified/<hex>         a base image layer checked against its diffID (verify.go)
//	tmp/                   upper dirs, layers and blobs being made (emptied on start)
//
// A key hashes what determines a layer's bytes, as BuildKit's cache keys
// do: the chain of layers below it, the instruction after expansion and
// what it ran with (env, workdir, user, network), the content digest of
// what a COPY/ADD copies (names, types, modes, owners, clamped mtimes,
// bytes), and the mtime epoch. The cache is bounded by Config.MaxCacheBytes:
// after each build the least recently used keys beyond it are dropped,
// then every layer and blob no key and no running build uses.
type layerCache struct {
	dir      string
	maxBytes int64

	mu   sync.Mutex
	pins map[string]int // diffIDs in use by running builds
}

type cacheRecord struct {
	layerBlob
	TarBytes int64 `json:"tarBytes"` // uncompressed, for the bound
	// Created is when the layer was first made under this key: its
	// history entry's time, so that a rebuild from the cache (or without
	// it, the layers being reproducible) yields the same image.
	Created time.Time `json:"created"`
}

func openLayerCache(dir string, maxBytes int64) (*layerCache, error) {
	c := &layerCache{dir: dir, maxBytes: maxBytes, pins: map[string]int{}}
	if err := os.RemoveAll(c.tmpDir()); err != nil {
		return nil, err
	}
	for _, d := range []string{c.path("layers"), c.path("blobs"), c.path("keys"), c.path("verified"), c.tmpDir()} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *layerCache) path(elem ...string) string {
	return filepath.Join(append([]string{c.dir}, elem...)...)
}
func (c *layerCache) tmpDir() string { return c.path("tmp") }
func (c *layerCache) layerDir(diffID string) string {
	return c.path("layers", strings.TrimPrefix(diffID, "sha256:"))
}
func (c *layerCache) blobPath(digest string) string {
	return c.path("blobs", strings.TrimPrefix(digest, "sha256:"))
}
func (c *layerCache) keyPath(key string) string { return c.path("keys", key+".json") }

// cacheKey hashes its parts unambiguously.
func cacheKey(parts ...string) string {
	data, _ := json.Marshal(parts)
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// newDir makes a fresh directory in tmp whose root looks like an image
// root (0755): overlayfs shows the top layer's root as "/".
func (c *layerCache) newDir(prefix string) (string, error) {
	d, err := os.MkdirTemp(c.tmpDir(), prefix)
	if err != nil {
		return "", err
	}
	return d, os.Chmod(d, 0o755)
}

// lookup returns the layer cached under key, pinned, and marks the key
// used.
func (c *layerCache) lookup(key string) (cacheRecord, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	data, err := os.ReadFile(c.keyPath(key))
	if err != nil {
		return cacheRecord{}, false
	}
	var rec cacheRecord
	if json.Unmarshal(data, &rec) != nil || rec.DiffID == "" {
		return cacheRecord{}, false
	}
	if fi, err := os.Stat(c.layerDir(rec.DiffID)); err != nil || !fi.IsDir() {
		return cacheRecord{}, false
	}
	if _, err := os.Stat(c.blobPath(rec.Digest)); err != nil {
		return cacheRecord{}, false
	}
	now := time.Now()
	_ = os.Chtimes(c.keyPath(key), now, now)
	c.pinLocked(rec, 1)
	return rec, true
}

// commit turns dir (in tmp, overlay form) into a cached layer: its blob is
// written, the directory renamed under its diffID (or dropped for an
// identical one already there), and key, if any, recorded. The layer is
// pinned.
func (c *layerCache) commit(dir, key string, epoch, created time.Time) (cacheRecord, error) {
	f, err := os.CreateTemp(c.tmpDir(), "blob-")
	if err != nil {
		return cacheRecord{}, err
	}
	defer func() { _ = os.Remove(f.Name()) }()
	lb, err := writeLayer(dir, f, epoch)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return cacheRecord{}, err
	}
	rec := cacheRecord{layerBlob: lb, TarBytes: dirSize(dir), Created: created.UTC()}

	c.mu.Lock()
	defer c.mu.Unlock()
	if key != "" {
		var old cacheRecord
		if data, err := os.ReadFile(c.keyPath(key)); err == nil && json.Unmarshal(data, &old) == nil && old.DiffID == lb.DiffID {
			rec.Created = old.Created
		}
	}
	if err := os.Rename(f.Name(), c.blobPath(lb.Digest)); err != nil {
		return cacheRecord{}, err
	}
	if err := unix.Renameat2(unix.AT_FDCWD, dir, unix.AT_FDCWD, c.layerDir(lb.DiffID), unix.RENAME_NOREPLACE); err != nil {
		if !errors.Is(err, unix.EEXIST) && !errors.Is(err, unix.ENOTEMPTY) {
			return cacheRecord{}, &os.LinkError{Op: "rename", Old: dir, New: c.layerDir(lb.DiffID), Err: err}
		}
		if err := os.RemoveAll(dir); err != nil {
			return cacheRecord{}, err
		}
	}
	if key != "" {
		data, err := json.Marshal(rec)
		if err != nil {
			return cacheRecord{}, err
		}
		if err := atomicfile.WriteFile(c.keyPath(key), data, 0o600); err != nil {
			return cacheRecord{}, err
		}
	}
	c.pinLocked(rec, 1)
	return rec, nil
}

// unpin releases what lookup or commit pinned.
func (c *layerCache) unpin(rec cacheRecord) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pinLocked(rec, -1)
}

func (c *layerCache) pinLocked(rec cacheRecord, delta int) {
	for _, k := range []string{rec.DiffID, "blob:" + rec.Digest} {
		if c.pins[k] += delta; c.pins[k] <= 0 {
			delete(c.pins, k)
		}
	}
}

// prune drops the least recently used keys beyond maxBytes (their layers'
// unpacked sizes), then every layer and blob no remaining key or running
// build uses.
func (c *layerCache) prune(maxBytes int64) (removed int, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	des, err := os.ReadDir(c.path("keys"))
	if err != nil {
		return 0, err
	}
	type key struct {
		name string
		used time.Time
		rec  cacheRecord
	}
	var keys []key
	for _, de := range des {
		if !strings.HasSuffix(de.Name(), ".json") {
			continue
		}
		fi, err1 := de.Info()
		data, err2 := os.ReadFile(c.path("keys", de.Name()))
		var rec cacheRecord
		if err1 != nil || err2 != nil || json.Unmarshal(data, &rec) != nil {
			_ = os.Remove(c.path("keys", de.Name()))
			continue
		}
		keys = append(keys, key{de.Name(), fi.ModTime(), rec})
	}
	slices.SortFunc(keys, func(a, b key) int { return b.used.Compare(a.used) })
	liveLayers, liveBlobs := map[string]bool{}, map[string]bool{}
	var total int64
	for _, k := range keys {
		if !liveLayers[k.rec.DiffID] {
			total += k.rec.TarBytes
		}
		if total > maxBytes && c.pins[k.rec.DiffID] == 0 {
			_ = os.Remove(c.path("keys", k.name))
			continue
		}
		liveLayers[k.rec.DiffID], liveBlobs[k.rec.Digest] = true, true
	}
	layers, err := os.ReadDir(c.path("layers"))
	if err != nil {
		return 0, err
	}
	for _, l := range layers {
		if liveLayers["sha256:"+l.Name()] || c.pins["sha256:"+l.Name()] > 0 {
			continue
		}
		// Out of sight first (a rename), then removed.
		gone := filepath.Join(c.tmpDir(), "gone-"+l.Name())
		if err := os.Rename(c.path("layers", l.Name()), gone); err != nil {
			return removed, err
		}
		if err := os.RemoveAll(gone); err != nil {
			return removed, err
		}
		removed++
	}
	blobs, err := os.ReadDir(c.path("blobs"))
	if err != nil {
		return removed, err
	}
	for _, b := range blobs {
		if liveBlobs["sha256:"+b.Name()] || c.pinnedBlob(b.Name()) {
			continue
		}
		if err := os.Remove(c.path("blobs", b.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return removed, err
		}
	}
	return removed, nil
}

// pinnedBlob reports a blob a running build uses.
func (c *layerCache) pinnedBlob(hex string) bool { return c.pins["blob:sha256:"+hex] > 0 }
