package login

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestResourceFromScope(t *testing.T) {
	tests := []struct {
		scope   string
		want    string
		wantErr error
	}{
		{"https://management.core.windows.net//.default", "https://management.core.windows.net/", nil},
		{"https://management.azure.com/.default", "https://management.azure.com", nil},
		{"https://graph.microsoft.com/.default openid offline_access profile", "https://graph.microsoft.com", nil},
		{"openid  https://graph.microsoft.com/.default\tPROFILE", "https://graph.microsoft.com", nil},
		{"https://graph.microsoft.com/.default https://GRAPH.microsoft.com/.default", "https://graph.microsoft.com", nil},
		{"00000003-0000-0000-c000-000000000000/.DEFAULT", "00000003-0000-0000-c000-000000000000", nil},
		{"api://x/.default", "api://x", nil},
		{"User.Read", "", errScopeNotDefault},
		{"https://graph.microsoft.com/User.Read", "", errScopeNotDefault},
		{"openid profile offline_access", "", errScopeNotDefault},
		{"/.default", "", errScopeNotDefault},
		{"https://graph.microsoft.com/.default https://management.azure.com/.default", "", errInvalidScope},
		{"https://graph.microsoft.com/.default User.Read", "", errScopeNotDefault},
	}
	for _, tt := range tests {
		t.Run(tt.scope, func(t *testing.T) {
			got, err := resourceFromScope(tt.scope)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestReadClientCredentials(t *testing.T) {
	basic := func(s string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name       string
		auth       string
		form       url.Values
		wantID     string
		wantSecret string
		wantErr    error
	}{
		{"post", "", url.Values{"client_id": {"a"}, "client_secret": {"s~3.x_-"}}, "a", "s~3.x_-", nil},
		{"basic, form-urlencoded halves", basic(url.QueryEscape("id:1") + ":" + url.QueryEscape("p+q r%s:t")), nil, "id:1", "p+q r%s:t", nil},
		{"basic, plus is a space", basic("id:a+b"), nil, "id", "a b", nil},
		{"basic, raw secret with a colon", basic("id:a:b"), nil, "id", "a:b", nil},
		{"basic, lower-case scheme", strings.Replace(basic("id:s"), "Basic", "basic", 1), nil, "id", "s", nil},
		{"basic, bad escape", basic("id:%zz"), nil, "", "", errMalformedRequest},
		{"basic, not base64", "Basic ***", nil, "", "", errMalformedRequest},
		{"basic and form secret", basic("id:s"), url.Values{"client_secret": {"s"}}, "", "", errMultipleClientAuth},
		{"basic and another client_id", basic("id:s"), url.Values{"client_id": {"other"}}, "", "", errMultipleClientAuth},
		{"bearer header is not client auth", "Bearer xyz", url.Values{"client_id": {"a"}}, "a", "", nil},
		{"assertion", "", url.Values{"client_assertion": {"x"}}, "", "", errAssertion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := http.NewRequest(http.MethodPost, "https://x/t/oauth2/v2.0/token", nil)
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}
			form := tt.form
			if form == nil {
				form = url.Values{}
			}
			got, err := readClientCredentials(r, form)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "%zz") {
					t.Fatalf("error repeats the secret: %v", err)
				}
				return
			}
			if err != nil || got.id != tt.wantID || got.secret != tt.wantSecret {
				t.Fatalf("got %q/%q, %v; want %q/%q", got.id, got.secret, err, tt.wantID, tt.wantSecret)
			}
		})
	}
}

func TestValidTenant(t *testing.T) {
	for s, want := range map[string]bool{
		"72f988bf-86f1-41af-91ab-2d7cd011db47": true,
		"contoso.onmicrosoft.com":              true,
		"common":                               true,
		"":                                     false,
		"a/b":                                  false,
		"a b":                                  false,
		"bad_tenant":                           false,
		strings.Repeat("a", 254):               false,
	} {
		if got := validTenant(s); got != want {
			t.Errorf("validTenant(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestGraphAlias: a registered cloud's metadata names the server itself as
// Microsoft Graph, so a resource that is this server's URL (however the
// client spells the port) is Graph; anything else is left alone.
func TestGraphAlias(t *testing.T) {
	tests := []struct{ resource, host, want string }{
		{"https://localhost/", "localhost", graphResource},
		{"https://localhost", "localhost:443", graphResource},
		{"https://LOCALHOST:443/", "localhost", graphResource},
		{"https://localhost:8443/", "localhost:8443", graphResource},
		{"https://localhost:8443/", "localhost", "https://localhost:8443/"},
		{"https://other.example/", "localhost", "https://other.example/"},
		{"http://localhost/", "localhost", "http://localhost/"},
		{"https://management.core.windows.net/", "management.core.windows.net", "https://management.core.windows.net/"},
		{"https://management.core.windows.net/", "localhost", "https://management.core.windows.net/"},
	}
	for _, tt := range tests {
		if got := graphAlias(tt.resource, tt.host); got != tt.want {
			t.Errorf("graphAlias(%q, %q) = %q, want %q", tt.resource, tt.host, got, tt.want)
		}
	}
}
