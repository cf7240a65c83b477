package acrtoken_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cerulean/cerulean/internal/rbac"
	"github.com/cerulean/cerulean/internal/registry"
	"github.com/cerulean/cerulean/internal/resourceid"
)

// TestVerifiedTokensKeepEveryCheck: the server verifies a token's
// signature once and remembers its claims, but a token it has accepted
// before is still refused once anything else says no — a payload or
// signature changed around the cached one, another registry, a registry
// recreated under the same name, expiry.
func TestVerifiedTokensKeepEveryCheck(t *testing.T) {
	e := newEnv(t)
	reg := e.newRegistry("cachereg")
	other := e.newRegistry("othercachereg")
	p := e.principal("puller", rbac.AcrPullID, reg.ID)
	at := e.refresh(reg, e.refreshToken(reg, p), "repository:app:pull").token().AccessToken
	for range 2 { // verified, then from the cache
		if g, err := e.authenticate(reg, "Bearer "+at, "repository:app:pull"); err != nil || !g.Allows("repository", "app", "pull") {
			t.Fatalf("valid token: %+v %v", g, err)
		}
	}

	parts := strings.Split(at, ".")
	c := claimsOf(t, at)
	c["access"] = []any{map[string]any{"type": "repository", "name": "app", "actions": []any{"pull", "push"}}}
	data, _ := json.Marshal(c)
	for name, tok := range map[string]string{
		"payload changed under the cached signature": parts[0] + "." + base64.RawURLEncoding.EncodeToString(data) + "." + parts[2],
		"signature changed":                          parts[0] + "." + parts[1] + "." + flipFirst(parts[2]),
		"one character more":                         at + "A",
	} {
		if g, err := e.authenticate(reg, "Bearer "+tok, "repository:app:pull,push"); !isUnauthorized(err) {
			t.Errorf("%s: %+v %v", name, g, err)
		}
	}
	if g, err := e.authenticate(other, "Bearer "+at, "repository:app:pull"); !isUnauthorized(err) {
		t.Errorf("another registry: %+v %v", g, err)
	}
	// The registry deleted and created again under its name: a new id
	// and instance, or only a new instance (the same group), while the
	// token is cached as verified.
	recreated := e.update(reg, func(r *registry.Registry) {
		r.ID = resourceid.ForResource(r.ID.SubscriptionID, "othergroup", "Microsoft.ContainerRegistry", "registries", r.Name)
		r.InstanceID = "instance-2-" + r.Name
	})
	if g, err := e.authenticate(recreated, "Bearer "+at, "repository:app:pull"); !isUnauthorized(err) {
		t.Errorf("recreated registry: %+v %v", g, err)
	}
	recreated = e.update(reg, func(r *registry.Registry) { *r = reg; r.InstanceID = "instance-3-" + r.Name })
	if g, err := e.authenticate(recreated, "Bearer "+at, "repository:app:pull"); !isUnauthorized(err) {
		t.Errorf("recreated in the same group: %+v %v", g, err)
	}
	e.update(reg, func(r *registry.Registry) { *r = reg })
	if _, err := e.authenticate(reg, "Bearer "+at, "repository:app:pull"); err != nil {
		t.Fatalf("registry restored: %v", err)
	}
	e.clock.advance(76 * time.Minute)
	if g, err := e.authenticate(reg, "Bearer "+at, "repository:app:pull"); !isUnauthorized(err) {
		t.Errorf("expired: %+v %v", g, err)
	}
}

// flipFirst changes the first character of a base64url string (all six
// of its bits are data; the last character's may be padding).
func flipFirst(s string) string {
	repl := "A"
	if s[0] == 'A' {
		repl = "B"
	}
	return repl + s[1:]
}
