package acrtoken

import (
	"strconv"
	"testing"
	"time"
)

// TestVerifiedTokensBounded: the cache never holds more than its bound,
// drops expired tokens first, refuses to store expired ones, and hands out
// copies that cannot change what it holds.
func TestVerifiedTokensBounded(t *testing.T) {
	now := time.Now()
	var v verifiedTokens
	live := claims{Exp: now.Add(time.Hour).Unix(), Access: []Scope{{Type: "repository", Name: "app", Actions: []string{"pull"}}}}
	v.put("expired", claims{Exp: now.Unix()}, now)
	if _, ok := v.get("expired"); ok {
		t.Fatal("an expired token was stored")
	}
	v.put("old", claims{Exp: now.Add(time.Minute).Unix()}, now)
	for i := range maxVerifiedTokens - 1 {
		v.put("t"+strconv.Itoa(i), live, now)
	}
	later := now.Add(2 * time.Minute) // "old" has expired by now
	v.put("new", live, later)
	if len(v.m) > maxVerifiedTokens {
		t.Fatalf("%d entries, bound %d", len(v.m), maxVerifiedTokens)
	}
	if _, ok := v.get("old"); ok {
		t.Error("the expired entry survived eviction")
	}
	for i := range 100 {
		v.put("more"+strconv.Itoa(i), live, later)
	}
	if len(v.m) > maxVerifiedTokens {
		t.Fatalf("%d entries, bound %d", len(v.m), maxVerifiedTokens)
	}
	c, ok := v.get("more99")
	if !ok {
		t.Fatal("the newest token is missing")
	}
	c.Access[0].Actions[0] = "push"
	if c2, _ := v.get("more99"); c2.Access[0].Actions[0] != "pull" {
		t.Error("a caller changed the cached claims")
	}
}
