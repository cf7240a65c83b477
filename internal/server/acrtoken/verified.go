package acrtoken

import (
	"slices"
	"sync"
	"time"
)

// verifiedTokens remembers the claims of tokens whose RS256 signature this
// server has checked, keyed by the whole token, until they expire. A
// signature check is a pure function of the token and the signing key (which
// does not change while the server runs), and it is the dominant cost of a
// bearer request (~55 µs of a manifest GET); everything that depends on the
// current state — the registry the token is presented to, its admin and
// anonymous settings, the token's grant type and lifetime — is checked again
// on every request (verifyToken, Authenticate), so caching changes no
// decision. Only tokens that verified are stored, so garbage fills nothing;
// the cache is bounded, evicting expired entries first and then any.
type verifiedTokens struct {
	mu sync.RWMutex
	m  map[string]claims
}

// maxVerifiedTokens bounds the cache: far more tokens than clients pull at
// once (a token serves one client's operation), a few MB at most.
const maxVerifiedTokens = 4096

func (v *verifiedTokens) get(raw string) (claims, bool) {
	v.mu.RLock()
	c, ok := v.m[raw]
	v.mu.RUnlock()
	if !ok {
		return claims{}, false
	}
	return c.clone(), true
}

// put remembers the claims of a token whose signature was just verified,
// unless it has expired.
func (v *verifiedTokens) put(raw string, c claims, now time.Time) {
	if now.Unix() >= c.Exp {
		return
	}
	c = c.clone()
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.m == nil {
		v.m = make(map[string]claims)
	}
	if len(v.m) >= maxVerifiedTokens {
		for k, e := range v.m {
			if now.Unix() >= e.Exp {
				delete(v.m, k)
			}
		}
		for k := range v.m { // random order: an arbitrary victim
			if len(v.m) < maxVerifiedTokens {
				break
			}
			delete(v.m, k)
		}
	}
	v.m[raw] = c
}

// clone copies the claims' slices, so that no caller shares them with the
// cache.
func (c claims) clone() claims {
	c.Access = slices.Clone(c.Access)
	for i := range c.Access {
		c.Access[i].Actions = slices.Clone(c.Access[i].Actions)
	}
	c.Roles = slices.Clone(c.Roles)
	if c.Permissions != nil {
		p := *c.Permissions
		p.Actions = slices.Clone(p.Actions)
		p.NotActions = slices.Clone(p.NotActions)
		c.Permissions = &p
	}
	return c
}
