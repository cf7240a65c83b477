package acrtoken_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/rbac"
	"github.com/cerulean/cerulean/internal/registry"
	"github.com/cerulean/cerulean/internal/resource"
	"github.com/cerulean/cerulean/internal/resourceid"
	"github.com/cerulean/cerulean/internal/server/acrtoken"
	"github.com/cerulean/cerulean/internal/server/servertest"
)

// The registry service is what the composition root passes as
// Config.Registries.
var _ acrtoken.Registries = (*registry.Service)(nil)

// plainSealer "seals" by copying: enough for tests of the token service.
type plainSealer struct{}

func (plainSealer) Seal(p []byte) ([]byte, error) { return append([]byte("sealed:"), p...), nil }
func (plainSealer) Open(s []byte) ([]byte, error) { return s[len("sealed:"):], nil }

// TestWithRegistryService runs the main flows against the real registry
// service over the sqlite store: login servers with a port, admin
// credentials from listCredentials and their regeneration, anonymous
// pull switched by PATCH, and service principals under RBAC.
func TestWithRegistryService(t *testing.T) {
	ctx := context.Background()
	var regs *registry.Service
	var srv *acrtoken.Server
	senv := servertest.New(t, servertest.Options{Handler: func(s *servertest.Env) http.Handler {
		regs = registry.NewService(registry.Config{Store: s.Store.Registry(), Sealer: plainSealer{}, Domain: domain, Port: "8443", Logger: s.Logger})
		srv = acrtoken.New(acrtoken.Config{Logger: s.Logger, Identity: s.Identity, RBAC: s.RBAC, Registries: regs, Signer: s.Signer})
		return srv
	}})
	if _, _, err := senv.Resources.PutGroup(ctx, senv.Subscription.ID, group, resource.GroupInput{Location: "eastus"}); err != nil {
		t.Fatal(err)
	}
	groupID := resourceid.ForResourceGroup(senv.Subscription.ID, group)
	reg, _, err := regs.Create(ctx, registry.CreateInput{Group: groupID, Name: "RealReg", Location: "eastus", SKU: "standard", AdminUserEnabled: true})
	if err != nil {
		t.Fatal(err)
	}
	if reg.LoginServer != "realreg."+domain+":8443" {
		t.Fatalf("login server %q", reg.LoginServer)
	}
	creds, err := regs.Credentials(ctx, groupID, "RealReg")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{Env: senv, t: t, srv: srv}
	p := senv.NewPrincipal(t, "puller", identity.OnApplication)
	senv.Assign(t, p.SP.ID, rbac.AcrPullID, reg.ID)

	// The Host may differ in case from the login server.
	host := "RealReg." + domain + ":8443"
	getToken := func(user, pass string, scopes ...string) reply {
		return e.get(host, map[string][]string{"service": {reg.LoginServer}, "scope": scopes}, user, pass)
	}
	admin := getToken(creds.Username, creds.Passwords[0].Value, "repository:app:pull,push,delete")
	if got := e.mustAccess(admin); !reflect.DeepEqual(got, []acrtoken.Scope{repo("pull", "push", "delete")}) {
		t.Errorf("admin: %+v", got)
	}
	if got := e.mustAccess(getToken(p.App.AppID, p.Secret, "repository:app:pull,push")); !reflect.DeepEqual(got, []acrtoken.Scope{repo("pull")}) {
		t.Errorf("puller: %+v", got)
	}
	rt := e.refreshToken(reg, p)
	at := e.refresh(reg, rt, "repository:app:pull").token().AccessToken

	authn := func(h string) (acrtoken.Grant, error) {
		req := httptest.NewRequest(http.MethodGet, "https://"+host+"/v2/app/manifests/latest", nil)
		if h != "" {
			req.Header.Set("Authorization", h)
		}
		cur, err := regs.ByLoginServer(ctx, req.Host)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := acrtoken.ParseScopes("repository:app:pull")
		return srv.Authenticate(ctx, req, cur, want)
	}
	adminAT := admin.token().AccessToken
	for name, h := range map[string]string{
		"puller bearer": "Bearer " + at, "admin bearer": "Bearer " + adminAT,
		"admin basic": basic("realreg", creds.Passwords[1].Value), "null GUID": basic(acrtoken.NullGUID, rt),
	} {
		if g, err := authn(h); err != nil || !g.Allows("repository", "app", "pull") {
			t.Errorf("%s: %+v %v", name, g, err)
		}
	}
	if _, err := regs.RegenerateCredential(ctx, groupID, "RealReg", "password2"); err != nil {
		t.Fatal(err)
	}
	if _, err := authn("Bearer " + adminAT); !isUnauthorized(err) {
		t.Errorf("admin token after regenerateCredential: %v", err)
	}
	if _, err := authn(basic("realreg", creds.Passwords[1].Value)); !isUnauthorized(err) {
		t.Errorf("regenerated password: %v", err)
	}

	if g, err := authn(""); err != nil || !g.Anonymous || len(g.Access) != 0 {
		t.Errorf("anonymous, off: %+v %v", g, err)
	}
	on := true
	if _, err := regs.Update(ctx, groupID, "RealReg", registry.UpdateInput{AnonymousPullEnabled: &on}); err != nil {
		t.Fatal(err)
	}
	if g, err := authn(""); err != nil || !g.Allows("repository", "app", "pull") {
		t.Errorf("anonymous, on: %+v %v", g, err)
	}
	if got := e.mustAccess(getToken("", "", "repository:app:pull")); len(got) != 1 {
		t.Errorf("anonymous token: %+v", got)
	}
	if rep := e.get("nosuch."+domain+":8443", map[string][]string{"service": {"nosuch." + domain + ":8443"}}, "", ""); rep.status != http.StatusNotFound {
		t.Errorf("unknown registry: %d %s", rep.status, rep.body)
	}
}
