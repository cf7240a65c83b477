package identity_test

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/store/sqlstore"
	"github.com/cerulean/cerulean/internal/token"
)

var testKey = func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}()

type fixture struct {
	svc    *identity.Service
	clock  *time.Time
	tenant identity.Tenant
	app    identity.Application
	sp     identity.ServicePrincipal
	secret string
	keyID  string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := t.Context()
	st, err := sqlstore.Open(ctx, t.TempDir()+"/db", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	f := &fixture{clock: &now}
	f.svc = identity.NewService(identity.Config{Store: st.Identity(), Signer: token.New(testKey), Now: func() time.Time { return *f.clock }})
	if f.tenant, err = f.svc.CreateTenant(ctx, identity.Tenant{DisplayName: "t"}); err != nil {
		t.Fatal(err)
	}
	name := "app-one"
	if f.app, err = f.svc.CreateApplication(ctx, f.tenant.ID, identity.ApplicationInput{DisplayName: &name}); err != nil {
		t.Fatal(err)
	}
	if f.sp, err = f.svc.CreateServicePrincipal(ctx, f.tenant.ID, f.app.AppID, identity.ServicePrincipalInput{}); err != nil {
		t.Fatal(err)
	}
	cred, secret, err := f.svc.AddPassword(ctx, identity.OnServicePrincipal, f.tenant.ID, f.sp.ID, identity.PasswordInput{DisplayName: "rbac"})
	if err != nil {
		t.Fatal(err)
	}
	f.secret, f.keyID = secret, cred.KeyID
	return f
}

func TestSecretsAreHashedAndShapedLikeEntras(t *testing.T) {
	f := newFixture(t)
	if len(f.secret) != 40 || f.secret[3:6] != "8Q~" {
		t.Fatalf("secret %q is not shaped like an Entra secret", f.secret)
	}
	sp, err := f.svc.ServicePrincipal(t.Context(), f.tenant.ID, f.sp.ID)
	if err != nil {
		t.Fatal(err)
	}
	c := sp.Passwords[0]
	if c.Hint != f.secret[:3] || len(c.Hash) != 32 || len(c.Salt) != 16 {
		t.Fatalf("stored credential %+v", c)
	}
	if strings.Contains(string(c.Hash), f.secret) || strings.Contains(string(c.Salt), f.secret) {
		t.Fatal("secret stored in the clear")
	}
	if !c.EndDateTime.Equal(f.clock.Add(identity.DefaultPasswordLifetime)) {
		t.Fatalf("end %v", c.EndDateTime)
	}
	_, other, err := f.svc.AddPassword(t.Context(), identity.OnServicePrincipal, f.tenant.ID, f.sp.ID, identity.PasswordInput{})
	if err != nil || other == f.secret {
		t.Fatalf("second secret %q, %v", other, err)
	}
}

func TestAuthenticate(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	appSecretEnd := f.clock.Add(time.Hour)
	_, appSecret, err := f.svc.AddPassword(ctx, identity.OnApplication, f.tenant.ID, f.app.ID, identity.PasswordInput{End: &appSecretEnd})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name           string
		tenant, client string
		secret         string
		advance        time.Duration
		want           error
	}{
		{"sp secret", f.tenant.ID, f.app.AppID, f.secret, 0, nil},
		{"app secret", f.tenant.ID, f.app.AppID, appSecret, 0, nil},
		{"tenant by domain", f.tenant.DefaultDomain, f.app.AppID, f.secret, 0, nil},
		{"client id any case", f.tenant.ID, strings.ToUpper(f.app.AppID), f.secret, 0, nil},
		{"wrong secret", f.tenant.ID, f.app.AppID, f.secret + "x", 0, identity.ErrInvalidClientSecret},
		{"empty secret", f.tenant.ID, f.app.AppID, "", 0, identity.ErrInvalidClientSecret},
		{"unknown client", f.tenant.ID, "11111111-1111-1111-1111-111111111111", f.secret, 0, identity.ErrUnknownClient},
		{"unknown tenant", "22222222-2222-2222-2222-222222222222", f.app.AppID, f.secret, 0, identity.ErrTenantNotFound},
		{"expired app secret", f.tenant.ID, f.app.AppID, appSecret, 2 * time.Hour, identity.ErrExpiredClientSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			saved := *f.clock
			*f.clock = saved.Add(tt.advance)
			defer func() { *f.clock = saved }()
			a, err := f.svc.Authenticate(ctx, tt.tenant, tt.client, tt.secret)
			if tt.want == nil {
				if err != nil || a.Principal.ID != f.sp.ID {
					t.Fatalf("Authenticate: %+v, %v", a, err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if strings.Contains(err.Error(), tt.secret) && tt.secret != "" {
				t.Fatal("error echoes the secret")
			}
		})
	}
}

func TestAuthenticateDisabledAndMissingPrincipal(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	off := false
	if _, err := f.svc.UpdateServicePrincipal(ctx, f.tenant.ID, f.sp.ID, identity.ServicePrincipalInput{AccountEnabled: &off}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Authenticate(ctx, f.tenant.ID, f.app.AppID, f.secret); !errors.Is(err, identity.ErrDisabledPrincipal) {
		t.Fatalf("disabled: %v", err)
	}
	if err := f.svc.DeleteServicePrincipal(ctx, f.tenant.ID, f.sp.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Authenticate(ctx, f.tenant.ID, f.app.AppID, f.secret); !errors.Is(err, identity.ErrMissingPrincipal) {
		t.Fatalf("no sp: %v", err)
	}
}

func TestTokenIssueAndVerify(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	a, err := f.svc.Authenticate(ctx, f.tenant.ID, f.app.AppID, f.secret)
	if err != nil {
		t.Fatal(err)
	}
	arm, err := f.svc.IssueToken(ctx, a, "https://management.core.windows.net/")
	if err != nil {
		t.Fatal(err)
	}
	if got := arm.ExpiresOn.Sub(arm.IssuedAt); got < time.Hour {
		t.Fatalf("lifetime %v, want at least an hour", got)
	}
	p, c, err := f.svc.Verify(ctx, arm.Raw, identity.ARM)
	if err != nil {
		t.Fatal(err)
	}
	if p.ObjectID != f.sp.ID || p.AppID != f.app.AppID || c.TID != f.tenant.ID || c.Iss != "https://sts.windows.net/"+f.tenant.ID+"/" || c.Ver != "1.0" || c.AppIDACR != "1" {
		t.Fatalf("principal %+v claims %+v", p, c)
	}
	if _, err := f.svc.IssueToken(ctx, a, "https://vault.azure.net"); !errors.Is(err, identity.ErrInvalidResource) {
		t.Fatalf("unknown resource: %v", err)
	}
	graph, err := f.svc.IssueToken(ctx, a, "https://graph.microsoft.com/")
	if err != nil || graph.Audience != "https://graph.microsoft.com" {
		t.Fatalf("graph token %+v %v", graph, err)
	}

	forger := identity.NewService(identity.Config{Store: nil, Signer: token.New(mustKey(t)), Now: func() time.Time { return *f.clock }})
	forged, err := forger.IssueToken(ctx, a, "https://management.core.windows.net/")
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		raw     string
		api     identity.API
		advance time.Duration
		want    error
	}{
		{"empty", "", identity.ARM, 0, identity.ErrTokenMissing},
		{"garbage", "not.a.token", identity.ARM, 0, identity.ErrTokenInvalid},
		{"forged", forged.Raw, identity.ARM, 0, identity.ErrTokenInvalid},
		{"other audience", graph.Raw, identity.ARM, 0, identity.ErrTokenAudience},
		{"expired", arm.Raw, identity.ARM, 2 * time.Hour, identity.ErrTokenExpired},
		{"graph ok", graph.Raw, identity.Graph, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			saved := *f.clock
			*f.clock = saved.Add(tt.advance)
			defer func() { *f.clock = saved }()
			_, _, err := f.svc.Verify(ctx, tt.raw, tt.api)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}

	// Removing the secret revokes the token on its next use.
	if err := f.svc.RemovePassword(ctx, identity.OnServicePrincipal, f.tenant.ID, f.sp.ID, f.keyID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Verify(ctx, arm.Raw, identity.ARM); !errors.Is(err, identity.ErrTokenRevoked) {
		t.Fatalf("after secret removal: %v", err)
	}
	if _, err := f.svc.Authenticate(ctx, f.tenant.ID, f.app.AppID, f.secret); !errors.Is(err, identity.ErrInvalidClientSecret) {
		t.Fatalf("removed secret still authenticates: %v", err)
	}
}

func TestTokenRevokedWhenPrincipalDeleted(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	a, _ := f.svc.Authenticate(ctx, f.tenant.ID, f.app.AppID, f.secret)
	tok, err := f.svc.IssueToken(ctx, a, "https://management.azure.com/")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.DeleteApplication(ctx, f.tenant.ID, f.app.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Verify(ctx, tok.Raw, identity.ARM); !errors.Is(err, identity.ErrTokenRevoked) {
		t.Fatalf("after delete: %v", err)
	}
}

func TestApplicationValidation(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	blank, long, aud := "  ", strings.Repeat("x", 257), "Everyone"
	for name, in := range map[string]identity.ApplicationInput{
		"blank name":     {DisplayName: &blank},
		"long name":      {DisplayName: &long},
		"bad audience":   {DisplayName: new("ok"), SignInAudience: &aud},
		"bad identifier": {DisplayName: new("ok"), IdentifierURIs: []string{"no-scheme"}},
	} {
		if _, err := f.svc.CreateApplication(ctx, f.tenant.ID, in); !errors.Is(err, identity.ErrInvalidObject) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if _, err := f.svc.CreateServicePrincipal(ctx, f.tenant.ID, "33333333-3333-3333-3333-333333333333", identity.ServicePrincipalInput{}); !errors.Is(err, identity.ErrAppNotReferenced) ||
		!strings.Contains(err.Error(), "does not reference a valid application object") {
		t.Fatalf("sp for unknown app: %v", err)
	}
	if _, err := f.svc.CreateServicePrincipal(ctx, f.tenant.ID, f.app.AppID, identity.ServicePrincipalInput{}); !errors.Is(err, identity.ErrAppIDTaken) {
		t.Fatalf("second sp: %v", err)
	}
	end := f.clock.Add(-time.Hour)
	if _, _, err := f.svc.AddPassword(ctx, identity.OnApplication, f.tenant.ID, f.app.ID, identity.PasswordInput{End: &end}); !errors.Is(err, identity.ErrInvalidObject) {
		t.Fatalf("end before start: %v", err)
	}
	if err := f.svc.RemovePassword(ctx, identity.OnApplication, f.tenant.ID, f.app.ID, "44444444-4444-4444-4444-444444444444"); !errors.Is(err, identity.ErrPasswordNotFound) {
		t.Fatalf("remove unknown key: %v", err)
	}
}

func mustKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
