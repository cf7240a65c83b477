package sqlbase

import "sync"

// memo remembers the decoded form of JSON columns by their text. Decoding
// is a pure function of the text, so a remembered value is exactly what
// decoding again would give: nothing read from the database is skipped,
// only the parsing of text seen before (a registry's admin passwords, a
// manifest's blob list), which is most of the Go-side cost of the data
// plane's per-request reads. Callers get a copy (clone), so nobody shares
// the remembered value. Bounded: it starts over when full.
type memo[T any] struct {
	mu    sync.RWMutex
	m     map[string]T
	clone func(T) T
}

// maxMemo bounds each memo: the distinct texts a server decodes on its hot
// paths (registries, manifests being pulled) are far fewer.
const maxMemo = 4096

// maxMemoText keeps long texts (an index of hundreds of manifests) out.
const maxMemoText = 16 << 10

func newMemo[T any](clone func(T) T) *memo[T] { return &memo[T]{clone: clone} }

// decode returns decode(s), remembered.
func (c *memo[T]) decode(s string, decode func(string) (T, error)) (T, error) {
	c.mu.RLock()
	v, ok := c.m[s]
	c.mu.RUnlock()
	if ok {
		return c.clone(v), nil
	}
	v, err := decode(s)
	if err != nil || len(s) > maxMemoText {
		return v, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxMemo {
		c.m = make(map[string]T)
	}
	c.m[s] = c.clone(v)
	c.mu.Unlock()
	return v, nil
}
