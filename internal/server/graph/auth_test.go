package graph_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/token"
)

func TestAuthentication(t *testing.T) {
	e := newEnv(t)
	now := time.Now()
	claims := func(edit func(*identity.Claims)) identity.Claims {
		c := identity.Claims{
			Aud: "https://graph.microsoft.com", Iss: identity.Issuer(e.Tenant.ID), Iat: now.Unix(), Nbf: now.Unix(), Exp: now.Add(time.Hour).Unix(),
			AppID: e.owner.App.AppID, AppIDACR: "1", OID: e.owner.SP.ID, Sub: e.owner.SP.ID, TID: e.Tenant.ID, Ver: "1.0",
		}
		edit(&c)
		return c
	}
	sign := func(s *token.Signer, c identity.Claims) string {
		tok, err := s.Sign(c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	armToken := e.token(e.owner.App.AppID, e.owner.Secret, "https://management.azure.com/.default")

	tests := []struct {
		name  string
		token string
		msg   string
	}{
		{"no token", "", "Access token is empty."},
		{"other audience", armToken, "Access token validation failure. Invalid audience."},
		{"expired", sign(e.Signer, claims(func(c *identity.Claims) {
			c.Iat, c.Nbf, c.Exp = now.Add(-3*time.Hour).Unix(), now.Add(-3*time.Hour).Unix(), now.Add(-2*time.Hour).Unix()
		})), "Lifetime validation failed, the token is expired."},
		{"forged", sign(token.New(otherKey), claims(func(*identity.Claims) {})), "Signature is invalid."},
		{"not a JWT", "not-a-token", "CompactToken parsing failed with error code: 80049217"},
		{"wrong issuer", sign(e.Signer, claims(func(c *identity.Claims) { c.Iss = "https://evil.example/" })), "Access token validation failure."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, e.URL+"/v1.0/applications", nil)
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			req.Header.Set("client-request-id", "my-request-1")
			resp, body := e.do(req)
			ge := wantError(t, resp, body, http.StatusUnauthorized, "InvalidAuthenticationToken", tt.msg)
			if ge.Error.Message != tt.msg {
				t.Errorf("message = %q, want exactly %q", ge.Error.Message, tt.msg)
			}
			if ge.Error.InnerError.ClientRequestID != "my-request-1" || resp.Header.Get("client-request-id") != "my-request-1" {
				t.Errorf("client-request-id not echoed: %+v", ge.Error.InnerError)
			}
			if !regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$`).MatchString(ge.Error.InnerError.Date) {
				t.Errorf("innerError.date = %q", ge.Error.InnerError.Date)
			}
		})
	}

	t.Run("revoked: principal deleted", func(t *testing.T) {
		c := e.newClient("doomed", "")
		if err := e.Identity.DeleteServicePrincipal(context.Background(), e.Tenant.ID, c.SP.ID); err != nil {
			t.Fatal(err)
		}
		resp, body := e.call(c.token, http.MethodGet, "/v1.0/applications", nil)
		wantError(t, resp, body, http.StatusUnauthorized, "InvalidAuthenticationToken", "no longer exists")
	})
}

func TestAuthorization(t *testing.T) {
	e := newEnv(t)
	const denied = "Insufficient privileges to complete the operation."
	tests := []struct {
		name   string
		c      client
		method string
		path   string
		body   any
		status int
	}{
		{"owner lists", e.owner, http.MethodGet, "/v1.0/applications", nil, 200},
		{"owner creates", e.owner, http.MethodPost, "/v1.0/applications", map[string]any{"displayName": "by-owner"}, 201},
		{"reader lists applications", e.reader, http.MethodGet, "/v1.0/applications", nil, 200},
		{"reader lists service principals", e.reader, http.MethodGet, "/v1.0/servicePrincipals", nil, 200},
		{"reader resolves ids", e.reader, http.MethodPost, "/v1.0/directoryObjects/getByIds", map[string]any{"ids": []string{e.owner.SP.ID}}, 200},
		{"reader may not create", e.reader, http.MethodPost, "/v1.0/applications", map[string]any{"displayName": "by-reader"}, 403},
		{"reader may not add a password", e.reader, http.MethodPost, "/v1.0/servicePrincipals/" + e.reader.SP.ID + "/addPassword", map[string]any{}, 403},
		{"reader may not delete", e.reader, http.MethodDelete, "/v1.0/applications/" + e.owner.App.ID, nil, 403},
		{"acrpull may not read", e.puller, http.MethodGet, "/v1.0/servicePrincipals", nil, 403},
		{"acrpull may not resolve ids", e.puller, http.MethodPost, "/v1.0/directoryObjects/getByIds", map[string]any{"ids": []string{e.owner.SP.ID}}, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.call(tt.c.token, tt.method, tt.path, tt.body)
			if tt.status == http.StatusForbidden {
				wantError(t, resp, body, http.StatusForbidden, "Authorization_RequestDenied", denied)
				return
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
		})
	}
}
