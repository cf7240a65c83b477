package acrtoken_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cerulean/cerulean/internal/rbac"
	"github.com/cerulean/cerulean/internal/server/acrtoken"
)

// BenchmarkAuthenticateBearer measures what every bearer-authenticated
// data-plane request pays (a manifest GET must stay under 0.5 ms end to
// end): RS256 verification of an ACR access token, its claims against the
// registry, and the intersection with the requested scope.
func BenchmarkAuthenticateBearer(b *testing.B) {
	e := newEnv(b)
	reg := e.newRegistry("benchreg")
	p := e.principal("puller", rbac.AcrPullID, reg.ID)
	at := e.refresh(reg, e.refreshToken(reg, p), "repository:library/app:pull").token().AccessToken
	want, err := acrtoken.ParseScopes("repository:library/app:pull")
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "https://"+reg.LoginServer+"/v2/library/app/manifests/latest", nil)
	req.Header.Set("Authorization", "Bearer "+at)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		g, err := e.srv.Authenticate(ctx, req, reg, want)
		if err != nil || len(g.Access) != 1 {
			b.Fatalf("%+v %v", g, err)
		}
	}
}

// BenchmarkRefreshGrant measures POST /oauth2/token with a refresh token
// (docker's per-operation token request): verification, the principal
// and its secret looked up again, RBAC, and signing.
func BenchmarkRefreshGrant(b *testing.B) {
	e := newEnv(b)
	reg := e.newRegistry("benchreg")
	p := e.principal("pusher", rbac.AcrPushID, reg.ID)
	rt := e.refreshToken(reg, p)
	b.ReportAllocs()
	for b.Loop() {
		if rep := e.refresh(reg, rt, "repository:library/app:pull,push"); rep.status != http.StatusOK {
			b.Fatalf("%d %s", rep.status, rep.body)
		}
	}
}
