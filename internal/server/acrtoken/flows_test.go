package acrtoken_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/rbac"
	"github.com/cerulean/cerulean/internal/registry"
	"github.com/cerulean/cerulean/internal/server/acrtoken"
	"github.com/cerulean/cerulean/internal/token"
)

// TestExchange covers POST /oauth2/exchange: Entra tokens of ARM and ACR
// audience, with and without tenant (by id or domain), a wrong tenant,
// other audiences, the deprecated grants, and bad parameters.
func TestExchange(t *testing.T) {
	e := newEnv(t)
	reg := e.newRegistry("exchreg")
	p := e.principal("pusher", rbac.AcrPushID, reg.ID)
	arm := e.IssueToken(t, e.Identity, p, armResource)
	acr := e.IssueToken(t, e.Identity, p, acrResource)
	other, err := e.Identity.CreateTenant(context.Background(), identity.Tenant{DisplayName: "Other"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, entra, tenant string
		status              int
	}{
		{"ARM, no tenant", arm, "", http.StatusOK},
		{"ACR, no tenant", acr, "", http.StatusOK},
		{"ARM, tenant id", arm, e.Tenant.ID, http.StatusOK},
		{"ACR, tenant id upper case", acr, strings.ToUpper(e.Tenant.ID), http.StatusOK},
		{"ARM, tenant domain", arm, e.Tenant.DefaultDomain, http.StatusOK},
		{"ARM, wrong tenant", arm, other.ID, http.StatusUnauthorized},
		{"ARM, unknown tenant", arm, "nosuch.onmicrosoft.com", http.StatusUnauthorized},
		{"Graph token", e.IssueToken(t, e.Identity, p, "https://graph.microsoft.com"), "", http.StatusUnauthorized},
		{"garbage", "not-a-token", "", http.StatusUnauthorized},
	} {
		rep := e.exchange(reg, tt.entra, tt.tenant)
		if rep.status != tt.status {
			t.Errorf("%s: %d %s", tt.name, rep.status, rep.body)
			continue
		}
		if tt.status != http.StatusOK {
			if rep.errorCode() != "UNAUTHORIZED" {
				t.Errorf("%s: body %s", tt.name, rep.body)
			}
			continue
		}
		var body map[string]string
		if err := json.Unmarshal(rep.body, &body); err != nil || len(body) != 1 || body["refresh_token"] == "" {
			t.Errorf("%s: body %s", tt.name, rep.body)
		}
	}

	form := func(kv ...string) url.Values {
		v := url.Values{"service": {reg.LoginServer}, "access_token": {arm}}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	for _, tt := range []struct {
		name   string
		form   url.Values
		status int
	}{
		{"access_token_refresh_token", form("grant_type", "access_token_refresh_token", "refresh_token", "entra-rt"), http.StatusOK},
		{"refresh_token grant", form("grant_type", "refresh_token", "refresh_token", "entra-rt"), http.StatusBadRequest},
		{"no grant", form(), http.StatusBadRequest},
		{"no access token", form("grant_type", "access_token", "access_token", ""), http.StatusBadRequest},
		{"no service", form("grant_type", "access_token", "service", ""), http.StatusBadRequest},
		{"other service", form("grant_type", "access_token", "service", "other."+domain), http.StatusUnauthorized},
	} {
		if rep := e.post(reg.LoginServer, "/oauth2/exchange?api-version=2021-07-01", tt.form); rep.status != tt.status {
			t.Errorf("%s: %d %s", tt.name, rep.status, rep.body)
		}
	}
}

// TestRefreshTokenClaims checks the refresh token's claim set and that
// its payload decodes the way the Azure SDK for Go decodes it (split on
// '.', pad with '=', base64.StdEncoding), for registries and principals
// whose names put every awkward byte into the payload.
func TestRefreshTokenClaims(t *testing.T) {
	e := newEnv(t)
	for _, name := range []string{"sdkreg", "ooooo", "Registry0O0o", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"} {
		reg := e.newRegistry(name)
		p := e.principal("sdk ???~~~>>> ünï "+name, rbac.OwnerID, reg.ID)
		rt := e.refreshToken(reg, p)

		seg := strings.Split(rt, ".")[1]
		if p := len(seg) % 4; p > 0 {
			seg += strings.Repeat("=", 4-p)
		}
		data, err := base64.StdEncoding.DecodeString(seg)
		if err != nil {
			t.Fatalf("%s: SDK-style decode: %v", name, err)
		}
		var exp struct {
			Exp int64 `json:"exp"`
		}
		if err := json.Unmarshal(data, &exp); err != nil || exp.Exp == 0 {
			t.Fatalf("%s: exp from SDK-style decode: %v %s", name, err, data)
		}
		if d := time.Until(time.Unix(exp.Exp, 0)); d < 3*time.Hour-time.Minute || d > 3*time.Hour {
			t.Errorf("%s: refresh token lives %v", name, d)
		}

		c := claimsOf(t, rt)
		want := map[string]any{
			"sub": p.SP.ID, "iss": "Azure Container Registry", "aud": reg.LoginServer, "version": "1.0",
			"rid": reg.ID.String(), "grant_type": "refresh_token", "appid": p.App.AppID, "tenant": e.Tenant.ID,
			"permissions": map[string]any{"Actions": []any{"read", "write", "delete"}, "NotActions": nil},
			"roles":       []any{}, "ckid": p.KeyID,
		}
		for k, v := range want {
			if !reflect.DeepEqual(c[k], v) {
				t.Errorf("%s: %s = %#v, want %#v", name, k, c[k], v)
			}
		}
		for _, k := range []string{"jti", "nbf", "exp", "iat"} {
			if _, ok := c[k]; !ok {
				t.Errorf("%s: claim %s missing", name, k)
			}
		}
		if _, ok := c["access"]; ok {
			t.Errorf("%s: a refresh token carries access", name)
		}
	}
	reg := e.newRegistry("permsreg")
	puller := e.principal("puller", rbac.AcrPullID, reg.ID)
	nobody := e.principal("nobody", "", reg.ID)
	for p, want := range map[*string][]any{&puller.SP.ID: {"read"}, &nobody.SP.ID: {}} {
		pr := puller
		if *p == nobody.SP.ID {
			pr = nobody
		}
		if got := claimsOf(t, e.refreshToken(reg, pr))["permissions"].(map[string]any)["Actions"]; !reflect.DeepEqual(got, want) {
			t.Errorf("permissions of %s = %v, want %v", pr.App.DisplayName, got, want)
		}
	}
}

// TestRefreshFlow follows az acr / the Azure SDK: exchange, then POST
// grant_type=refresh_token with scopes in one space-separated parameter
// or repeated parameters, then the access token as a bearer token.
func TestRefreshFlow(t *testing.T) {
	e := newEnv(t)
	reg := e.newRegistry("flowreg")
	p := e.principal("pusher", rbac.AcrPushID, groupScope(reg))
	rt := e.refreshToken(reg, p)

	rep := e.refresh(reg, rt, "repository:app:pull,push", "repository:lib:pull", catalogScope)
	want := []acrtoken.Scope{repo("pull", "push"), {Type: "repository", Name: "lib", Actions: []string{"pull"}}, catalogGrant}
	if got := e.mustAccess(rep); !reflect.DeepEqual(got, want) {
		t.Errorf("space-separated: %+v", got)
	}
	if rep.token().RefreshToken != "" {
		t.Error("the refresh grant returned a refresh token")
	}
	repeated := e.post(reg.LoginServer, "/oauth2/token", url.Values{
		"grant_type": {"refresh_token"}, "service": {reg.LoginServer}, "refresh_token": {rt},
		"scope": {"repository:app:pull,push", "repository:lib:pull", catalogScope},
	})
	if got := e.mustAccess(repeated); !reflect.DeepEqual(got, want) {
		t.Errorf("repeated: %+v", got)
	}

	at := rep.token().AccessToken
	g, err := e.authenticate(reg, "Bearer "+at, "repository:app:pull,push,delete", "repository:other:pull")
	if err != nil || g.Subject != p.SP.ID || !reflect.DeepEqual(g.Access, []acrtoken.Scope{repo("pull", "push")}) {
		t.Errorf("bearer: %+v %v", g, err)
	}
	if g, err := e.authenticate(reg, "bearer  "+at, catalogScope); err != nil || !g.Allows("registry", "catalog", "*") {
		t.Errorf("lower-case scheme: %+v %v", g, err)
	}
}

// TestNullGUID covers the null-GUID user: docker login with a refresh
// token (offline_token gives the refresh token back as docker's identity
// token), an access token as the password (limited to its own access),
// and both directly on data-plane requests.
func TestNullGUID(t *testing.T) {
	e := newEnv(t)
	reg := e.newRegistry("nullreg")
	p := e.principal("pusher", rbac.AcrPushID, reg.ID)
	rt := e.refreshToken(reg, p)

	login := e.get(reg.LoginServer, url.Values{"account": {acrtoken.NullGUID}, "client_id": {"docker"}, "offline_token": {"true"}, "service": {reg.LoginServer}}, acrtoken.NullGUID, rt)
	if login.status != http.StatusOK || login.token().RefreshToken != rt {
		t.Fatalf("docker login: %d %s", login.status, login.body)
	}
	if got := e.mustAccess(login); len(got) != 0 {
		t.Errorf("login access %+v", got)
	}
	noOffline := e.basicToken(reg, acrtoken.NullGUID, rt, "repository:app:pull,push")
	if got := e.mustAccess(noOffline); !reflect.DeepEqual(got, []acrtoken.Scope{repo("pull", "push")}) || noOffline.token().RefreshToken != "" {
		t.Errorf("without offline_token: %s", noOffline.body)
	}

	// An access token as the password: no more than it allows, and no
	// refresh token even when asked.
	at := e.refresh(reg, rt, "repository:app:pull").token().AccessToken
	rep := e.get(reg.LoginServer, url.Values{"offline_token": {"true"}, "service": {reg.LoginServer}, "scope": {"repository:app:pull,push", "repository:lib:pull"}}, acrtoken.NullGUID, at)
	if got := e.mustAccess(rep); !reflect.DeepEqual(got, []acrtoken.Scope{repo("pull")}) || rep.token().RefreshToken != "" {
		t.Errorf("access token as password: %s", rep.body)
	}

	if g, err := e.authenticate(reg, basic(acrtoken.NullGUID, rt), "repository:app:push,delete"); err != nil || !reflect.DeepEqual(g.Access, []acrtoken.Scope{repo("push")}) || g.Subject != p.SP.ID {
		t.Errorf("data plane, refresh token: %+v %v", g, err)
	}
	if g, err := e.authenticate(reg, basic(acrtoken.NullGUID, at), "repository:app:pull,push"); err != nil || !reflect.DeepEqual(g.Access, []acrtoken.Scope{repo("pull")}) {
		t.Errorf("data plane, access token: %+v %v", g, err)
	}
	if _, err := e.authenticate(reg, basic(acrtoken.NullGUID, "garbage"), "repository:app:pull"); !isUnauthorized(err) {
		t.Errorf("data plane, garbage: %v", err)
	}
	// The admin user's access token works as a null-GUID password too.
	reg = e.update(reg, func(r *registry.Registry) { r.AdminUserEnabled = true })
	adminAT := e.basicToken(reg, "nullreg", "admin-pw-1-nullreg", "repository:app:pull,delete").token().AccessToken
	if g, err := e.authenticate(reg, basic(acrtoken.NullGUID, adminAT), "repository:app:delete,push"); err != nil || !reflect.DeepEqual(g.Access, []acrtoken.Scope{repo("delete")}) {
		t.Errorf("admin access token as password: %+v %v", g, err)
	}
}

// TestOtherRegistry checks that nothing minted for one registry works on
// another: bearer tokens, refresh tokens, null-GUID passwords, and tokens
// of a deleted registry presented to a new one of the same name.
func TestOtherRegistry(t *testing.T) {
	e := newEnv(t)
	a := e.newRegistry("regaaaa")
	b := e.newRegistry("regbbbb")
	p := e.principal("owner", rbac.OwnerID, e.SubscriptionScope())
	rtA := e.refreshToken(a, p)
	atA := e.refresh(a, rtA, "repository:app:pull").token().AccessToken

	if _, err := e.authenticate(b, "Bearer "+atA, "repository:app:pull"); !isUnauthorized(err) {
		t.Errorf("A's access token on B: %v", err)
	}
	if rep := e.refresh(b, rtA, "repository:app:pull"); rep.status != http.StatusUnauthorized {
		t.Errorf("A's refresh token at B: %d %s", rep.status, rep.body)
	}
	for name, pw := range map[string]string{"refresh": rtA, "access": atA} {
		if rep := e.basicToken(b, acrtoken.NullGUID, pw, "repository:app:pull"); rep.status != http.StatusUnauthorized {
			t.Errorf("A's %s token as B's password: %d %s", name, rep.status, rep.body)
		}
		if _, err := e.authenticate(b, basic(acrtoken.NullGUID, pw), "repository:app:pull"); !isUnauthorized(err) {
			t.Errorf("A's %s token as B's data-plane password: %v", name, err)
		}
	}
	// A's tokens presented to A's token endpoint for service B.
	rep := e.post(a.LoginServer, "/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "service": {b.LoginServer}, "refresh_token": {rtA}})
	if rep.status != http.StatusUnauthorized {
		t.Errorf("service B at A: %d %s", rep.status, rep.body)
	}

	// A is deleted and someone creates a registry with its name in
	// another group: A's tokens are refused.
	e.update(a, func(r *registry.Registry) {
		r.ID.ResourceGroup = "rg9"
		r.InstanceID = "instance-2-" + r.Name
	})
	if _, err := e.authenticate(a, "Bearer "+atA, "repository:app:pull"); !isUnauthorized(err) {
		t.Errorf("old A's token on new A: %v", err)
	}
	// Same group and name, created again at once (its creation time in
	// the second the token was issued): refused by instance id.
	e.update(a, func(r *registry.Registry) {
		r.ID.ResourceGroup = group
		r.CreatedAt = time.Now().Add(-time.Hour)
	})
	if _, err := e.authenticate(a, "Bearer "+atA, "repository:app:pull"); !isUnauthorized(err) {
		t.Errorf("old A's token on A re-created in the same group: %v", err)
	}
	// The registry whose instance issued the token still takes it.
	e.update(a, func(r *registry.Registry) { r.InstanceID = "instance-1-" + r.Name })
	if _, err := e.authenticate(a, "Bearer "+atA, "repository:app:pull"); err != nil {
		t.Errorf("A's token on A: %v", err)
	}
}

// TestRevocation checks that the current directory and RBAC decide every
// token request: a removed role assignment, a deleted, disabled or
// secret-less principal.
func TestRevocation(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	reg := e.newRegistry("revokereg")

	p := e.principal("revoked", "", reg.ID)
	ra := e.Assign(t, p.SP.ID, rbac.AcrPushID, reg.ID)
	rt := e.refreshToken(reg, p)
	if got := e.mustAccess(e.refresh(reg, rt, "repository:app:push")); len(got) != 1 {
		t.Fatalf("before: %+v", got)
	}
	if _, err := e.RBAC.Delete(ctx, ra.Scope, ra.Name); err != nil {
		t.Fatal(err)
	}
	for name, rep := range map[string]reply{
		"refresh": e.refresh(reg, rt, "repository:app:push"),
		"basic":   e.basicToken(reg, p.App.AppID, p.Secret, "repository:app:push"),
		"null":    e.basicToken(reg, acrtoken.NullGUID, rt, "repository:app:push"),
	} {
		if got := e.mustAccess(rep); len(got) != 0 {
			t.Errorf("%s after the assignment was removed: %+v", name, got)
		}
	}
	if g, err := e.authenticate(reg, basic(p.App.AppID, p.Secret), "repository:app:push"); err != nil || len(g.Access) != 0 {
		t.Errorf("data plane after the assignment was removed: %+v %v", g, err)
	}

	deleted := e.principal("deleted", rbac.AcrPullID, reg.ID)
	rtDeleted := e.refreshToken(reg, deleted)
	if err := e.Identity.DeleteServicePrincipal(ctx, e.Tenant.ID, deleted.SP.ID); err != nil {
		t.Fatal(err)
	}
	disabled := e.principal("disabled", rbac.AcrPullID, reg.ID)
	rtDisabled := e.refreshToken(reg, disabled)
	off := false
	if _, err := e.Identity.UpdateServicePrincipal(ctx, e.Tenant.ID, disabled.SP.ID, identity.ServicePrincipalInput{AccountEnabled: &off}); err != nil {
		t.Fatal(err)
	}
	rotated := e.principal("rotated", rbac.AcrPullID, reg.ID)
	rtRotated := e.refreshToken(reg, rotated)
	if err := e.Identity.RemovePassword(ctx, identity.OnApplication, e.Tenant.ID, rotated.App.ID, rotated.KeyID); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, user, pass, rt string
	}{
		{"deleted", deleted.App.AppID, deleted.Secret, rtDeleted},
		{"disabled", disabled.App.AppID, disabled.Secret, rtDisabled},
		{"rotated", rotated.App.AppID, rotated.Secret, rtRotated},
	} {
		if rep := e.refresh(reg, tt.rt, "repository:app:pull"); rep.status != http.StatusUnauthorized {
			t.Errorf("%s, refresh: %d %s", tt.name, rep.status, rep.body)
		}
		if rep := e.basicToken(reg, tt.user, tt.pass, "repository:app:pull"); rep.status != http.StatusUnauthorized {
			t.Errorf("%s, secret: %d %s", tt.name, rep.status, rep.body)
		}
		if _, err := e.authenticate(reg, basic(acrtoken.NullGUID, tt.rt), "repository:app:pull"); !isUnauthorized(err) {
			t.Errorf("%s, null GUID on the data plane: %v", tt.name, err)
		}
	}
}

// TestExpiry checks access tokens after 75 minutes and refresh tokens
// after 3 hours.
func TestExpiry(t *testing.T) {
	e := newEnv(t)
	reg := e.newRegistry("expreg")
	p := e.principal("puller", rbac.AcrPullID, reg.ID)
	rt := e.refreshToken(reg, p)
	at := e.refresh(reg, rt, "repository:app:pull").token().AccessToken

	e.clock.advance(74 * time.Minute)
	if _, err := e.authenticate(reg, "Bearer "+at, "repository:app:pull"); err != nil {
		t.Errorf("at 74 minutes: %v", err)
	}
	e.clock.advance(time.Minute)
	if _, err := e.authenticate(reg, "Bearer "+at, "repository:app:pull"); !isUnauthorized(err) {
		t.Errorf("at 75 minutes: %v", err)
	}
	if rep := e.refresh(reg, rt, "repository:app:pull"); rep.status != http.StatusOK {
		t.Errorf("refresh at 75 minutes: %d %s", rep.status, rep.body)
	}
	e.clock.advance(3*time.Hour - 75*time.Minute)
	if rep := e.refresh(reg, rt, "repository:app:pull"); rep.status != http.StatusUnauthorized {
		t.Errorf("refresh at 3 hours: %d %s", rep.status, rep.body)
	}
	if rep := e.basicToken(reg, acrtoken.NullGUID, rt, "repository:app:pull"); rep.status != http.StatusUnauthorized {
		t.Errorf("null GUID at 3 hours: %d %s", rep.status, rep.body)
	}
	// Not yet valid: a token from a clock running ahead.
	e.clock.advance(-3*time.Hour - 2*time.Minute)
	if _, err := e.authenticate(reg, "Bearer "+at, "repository:app:pull"); !isUnauthorized(err) {
		t.Errorf("two minutes before issue: %v", err)
	}
}

// TestTampering checks forged and misused tokens.
func TestTampering(t *testing.T) {
	e := newEnv(t)
	reg := e.newRegistry("tamperreg")
	p := e.principal("puller", rbac.AcrPullID, reg.ID)
	rt := e.refreshToken(reg, p)
	at := e.refresh(reg, rt, "repository:app:pull").token().AccessToken

	// The same claims with push added, under the original signature.
	parts := strings.Split(at, ".")
	c := claimsOf(t, at)
	c["access"] = []any{map[string]any{"type": "repository", "name": "app", "actions": []any{"pull", "push"}}}
	data, _ := json.Marshal(c)
	forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString(data) + "." + parts[2]

	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	otherSigned, err := token.New(otherKey).SignStdCompatible(c)
	if err != nil {
		t.Fatal(err)
	}
	// Our own key, but claims the service never mints: another issuer.
	c["iss"] = "someone else"
	wrongIssuer, err := e.Signer.SignStdCompatible(c)
	if err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{
		"forged payload":       forged,
		"another key":          otherSigned,
		"another issuer":       wrongIssuer,
		"refresh token":        rt,
		"Entra ARM token":      e.IssueToken(t, e.Identity, p, armResource),
		"Entra ACR token":      e.IssueToken(t, e.Identity, p, acrResource),
		"truncated":            at[:len(at)-10],
		"two segments":         parts[0] + "." + parts[1],
		"empty":                "",
		"alg none":             base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." + parts[1] + ".",
		"signature of another": parts[0] + "." + parts[1] + "." + strings.Split(rt, ".")[2],
	} {
		if g, err := e.authenticate(reg, "Bearer "+tok, "repository:app:pull"); !isUnauthorized(err) {
			t.Errorf("%s as bearer: %+v %v", name, g, err)
		}
	}
	if rep := e.refresh(reg, at, "repository:app:pull"); rep.status != http.StatusUnauthorized {
		t.Errorf("access token as refresh token: %d %s", rep.status, rep.body)
	}
	if rep := e.refresh(reg, e.IssueToken(t, e.Identity, p, armResource), "repository:app:pull"); rep.status != http.StatusUnauthorized {
		t.Errorf("Entra token as refresh token: %d %s", rep.status, rep.body)
	}
}
