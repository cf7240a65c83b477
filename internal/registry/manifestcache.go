package registry

import (
	"bytes"
	"sync"

	"github.com/opencontainers/go-digest"
)

// manifestBodies keeps the bytes of recently served manifests by digest.
// A manifest's bytes are a pure function of its digest (the blob store
// verified them when they were committed, and they are verified again
// before they are cached here), so serving them from memory changes no
// decision: every GET still reads the manifest's, tag's and repository's
// rows from the store, which is where deletion, attributes and tag moves
// live — on this server or another one sharing the store. What the cache
// saves is opening the blob: on the filesystem backend an openat per path
// component, an fstat, a read and the closes, which on a manifest GET cost
// more than the store queries; on S3, a GET per request.
//
// It is bounded in bytes and evicts arbitrary entries when full: a
// registry serves a small working set of manifests, and a miss costs one
// blob read.
type manifestBodies struct {
	mu    sync.RWMutex
	m     map[digest.Digest][]byte
	bytes int
}

const (
	// maxCachedManifest is the largest manifest kept: image manifests and
	// indexes are a few KiB; larger ones are rare and read from the blob.
	maxCachedManifest = 256 << 10
	// maxManifestCache bounds the whole cache.
	maxManifestCache = 16 << 20
)

func (c *manifestBodies) get(d digest.Digest) ([]byte, bool) {
	c.mu.RLock()
	b, ok := c.m[d]
	c.mu.RUnlock()
	return b, ok
}

// put remembers b as d's bytes; the caller has verified them against d.
// b must not be modified afterwards.
func (c *manifestBodies) put(d digest.Digest, b []byte) {
	if len(b) > maxCachedManifest {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[digest.Digest][]byte)
	}
	if _, ok := c.m[d]; ok {
		return
	}
	for k, v := range c.m { // random order: arbitrary victims
		if c.bytes+len(b) <= maxManifestCache {
			break
		}
		delete(c.m, k)
		c.bytes -= len(v)
	}
	c.m[d] = b
	c.bytes += len(b)
}

// memBlob serves cached bytes as a blob.Reader.
type memBlob struct{ *bytes.Reader }

func (memBlob) Close() error { return nil }
