package graph_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/cerulean/cerulean/api/graph"
	"github.com/cerulean/cerulean/internal/server/servertest"
)

func TestApplicationLifecycle(t *testing.T) {
	e := newEnv(t)
	tok := e.owner.token

	resp, body := e.call(tok, http.MethodPost, "/v1.0/applications", `{"displayName":"my-app","keyCredentials":[],"web":{"redirectUris":[],"implicitGrantSettings":{"enableIdTokenIssuance":false}}}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	app := servertest.Decode[graph.Application](t, body)
	if app.ODataContext != e.URL+"/v1.0/$metadata#applications/$entity" || app.DisplayName != "my-app" || app.PublisherDomain != e.Tenant.DefaultDomain ||
		app.SignInAudience != "AzureADMyOrg" || app.ID == "" || app.AppID == "" || resp.Header.Get("Location") != e.URL+"/v1.0/applications/"+app.ID {
		t.Fatalf("unexpected application %s", body)
	}
	// Every collection property is present and empty, never null.
	raw := servertest.Decode[map[string]any](t, body)
	for _, k := range []string{"identifierUris", "tags", "addIns", "appRoles", "keyCredentials", "passwordCredentials", "requiredResourceAccess"} {
		if v, ok := raw[k].([]any); !ok || len(v) != 0 {
			t.Errorf("%s = %#v, want []", k, raw[k])
		}
	}
	for _, k := range []string{"description", "notes", "deletedDateTime", "tokenEncryptionKeyId"} {
		if v, ok := raw[k]; !ok || v != nil {
			t.Errorf("%s = %#v, want null", k, raw[k])
		}
	}

	resp, body = e.call(tok, http.MethodPatch, "/v1.0/applications/"+app.ID, map[string]any{"displayName": "renamed", "notes": "n", "tags": []string{"a"}})
	if resp.StatusCode != http.StatusNoContent || len(body) != 0 {
		t.Fatalf("patch: %d %s", resp.StatusCode, body)
	}
	for _, path := range []string{"/v1.0/applications/" + app.ID, "/v1.0/APPLICATIONS/" + strings.ToUpper(app.ID), "/v1.0/applications(appId='" + app.AppID + "')"} {
		resp, body = e.call(tok, http.MethodGet, path, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("get %s: %d %s", path, resp.StatusCode, body)
		}
		got := servertest.Decode[graph.Application](t, body)
		if got.DisplayName != "renamed" || got.Notes == nil || *got.Notes != "n" || len(got.Tags) != 1 || got.ID != app.ID {
			t.Fatalf("get %s after patch: %s", path, body)
		}
	}

	resp, body = e.call(tok, http.MethodDelete, "/v1.0/applications/"+app.ID, nil)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d %s", resp.StatusCode, body)
	}
	resp, body = e.call(tok, http.MethodGet, "/v1.0/applications/"+app.ID, nil)
	wantError(t, resp, body, http.StatusNotFound, "Request_ResourceNotFound",
		"Resource '"+app.ID+"' does not exist or one of its queried reference-property objects are not present.")
	resp, body = e.call(tok, http.MethodDelete, "/v1.0/applications/"+app.ID, nil)
	wantError(t, resp, body, http.StatusNotFound, "Request_ResourceNotFound", app.ID)
}

func TestApplicationErrors(t *testing.T) {
	e := newEnv(t)
	tok := e.owner.token
	id := e.owner.App.ID
	tests := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		code   string
		msg    string
	}{
		{"unknown property", "POST", "/v1.0/applications", `{"displayName":"x","foo":1}`, 400, "Request_BadRequest", "Property 'foo' does not exist on type 'microsoft.graph.application'."},
		{"property in the wrong case", "POST", "/v1.0/applications", `{"DisplayName":"x"}`, 400, "Request_BadRequest", "Property 'DisplayName' does not exist"},
		{"read-only property", "POST", "/v1.0/applications", `{"displayName":"x","appId":"00000000-0000-0000-0000-000000000001"}`, 400, "Request_BadRequest", "Property 'appId' does not exist"},
		{"unsupported web", "POST", "/v1.0/applications", `{"displayName":"x","web":{"redirectUris":["https://a"]}}`, 400, "Request_BadRequest", "does not support setting the property 'web'"},
		{"unsupported key credential", "POST", "/v1.0/applications", `{"displayName":"x","keyCredentials":[{}]}`, 400, "Request_BadRequest", "'keyCredentials'"},
		{"unsupported fallback public client", "PATCH", "/v1.0/applications/" + id, `{"isFallbackPublicClient":true}`, 400, "Request_BadRequest", "'isFallbackPublicClient'"},
		{"missing display name", "POST", "/v1.0/applications", `{}`, 400, "Request_BadRequest", "displayName"},
		{"bad sign-in audience", "POST", "/v1.0/applications", `{"displayName":"x","signInAudience":"Everyone"}`, 400, "Request_BadRequest", "signInAudience"},
		{"wrong JSON type", "POST", "/v1.0/applications", `{"displayName":5}`, 400, "Request_BadRequest", "displayName"},
		{"not JSON", "POST", "/v1.0/applications", `{"displayName":`, 400, "Request_BadRequest", "could not be deserialized"},
		{"not an object", "POST", "/v1.0/applications", `[1]`, 400, "Request_BadRequest", "JSON object"},
		{"too large", "POST", "/v1.0/applications", `{"displayName":"` + strings.Repeat("a", 5<<20) + `"}`, 413, "Request_EntityTooLarge", "exceeds"},
		{"bad object id", "GET", "/v1.0/applications/not-a-guid", nil, 400, "Request_BadRequest", "Invalid object identifier 'not-a-guid'."},
		{"bad app id key", "GET", "/v1.0/applications(appId='nope')", nil, 400, "Request_BadRequest", "Invalid value specified for object reference property 'appId'"},
		{"empty app id key", "GET", "/v1.0/applications(appId='')", nil, 400, "Request_BadRequest", "Invalid value specified for object reference property 'appId'"},
		{"unknown app id", "GET", "/v1.0/applications(appId='11111111-2222-3333-4444-555555555555')", nil, 404, "Request_ResourceNotFound", "11111111-2222-3333-4444-555555555555"},
		{"unknown entity set", "GET", "/v1.0/widgets", nil, 400, "BadRequest", "Resource not found for the segment 'widgets'."},
		{"unknown action", "POST", "/v1.0/applications/" + id + "/addKey", `{}`, 400, "BadRequest", "Resource not found for the segment 'addKey'."},
		{"too deep", "GET", "/v1.0/applications/" + id + "/owners/x", nil, 400, "BadRequest", "Resource not found for the segment"},
		{"method not allowed", "PUT", "/v1.0/applications/" + id, `{}`, 405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target."},
		{"GET on an action", "GET", "/v1.0/applications/" + id + "/addPassword", nil, 405, "Request_BadRequest", "not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.call(tok, tt.method, tt.path, tt.body)
			wantError(t, resp, body, tt.status, tt.code, tt.msg)
		})
	}
}

func TestServicePrincipalLifecycle(t *testing.T) {
	e := newEnv(t)
	tok := e.owner.token
	resp, body := e.call(tok, http.MethodPost, "/v1.0/applications", map[string]any{"displayName": "svc", "identifierUris": []string{"api://svc"}})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create app: %d %s", resp.StatusCode, body)
	}
	app := servertest.Decode[graph.Application](t, body)

	resp, body = e.call(tok, http.MethodPost, "/v1.0/serviceprincipals", map[string]any{"appId": app.AppID, "accountEnabled": true})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create sp: %d %s", resp.StatusCode, body)
	}
	sp := servertest.Decode[graph.ServicePrincipal](t, body)
	if sp.ODataContext != e.URL+"/v1.0/$metadata#servicePrincipals/$entity" || sp.AppID != app.AppID || sp.AppDisplayName != "svc" ||
		sp.AppOwnerOrganizationID != e.Tenant.ID || sp.ServicePrincipalType != "Application" || !sp.AccountEnabled ||
		len(sp.ServicePrincipalNames) != 2 || sp.ServicePrincipalNames[0] != app.AppID || sp.ServicePrincipalNames[1] != "api://svc" {
		t.Fatalf("unexpected service principal %s", body)
	}

	resp, body = e.call(tok, http.MethodPost, "/v1.0/servicePrincipals", map[string]any{"appId": app.AppID})
	wantError(t, resp, body, http.StatusConflict, "Request_MultipleObjectsWithSameKeyValue", app.AppID)
	resp, body = e.call(tok, http.MethodPost, "/v1.0/servicePrincipals", map[string]any{"appId": "11111111-2222-3333-4444-555555555555"})
	wantError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", "does not reference a valid application object")
	resp, body = e.call(tok, http.MethodPost, "/v1.0/servicePrincipals", map[string]any{"appId": strings.Repeat("x", 1000)})
	wantError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", "Invalid value specified for property 'appId' of resource 'ServicePrincipal'.")
	resp, body = e.call(tok, http.MethodPost, "/v1.0/servicePrincipals", map[string]any{"accountEnabled": true})
	wantError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", "appId")
	resp, body = e.call(tok, http.MethodPost, "/v1.0/servicePrincipals", `{"appId":"x","passwordCredentials":[]}`)
	wantError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", "Property 'passwordCredentials' does not exist on type 'microsoft.graph.servicePrincipal'.")

	resp, body = e.call(tok, http.MethodPatch, "/v1.0/servicePrincipals/"+sp.ID, map[string]any{"accountEnabled": false, "notes": "off"})
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("patch: %d %s", resp.StatusCode, body)
	}
	resp, body = e.call(tok, http.MethodPatch, "/v1.0/servicePrincipals/"+sp.ID, map[string]any{"appId": app.AppID})
	wantError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", "read-only")

	resp, body = e.call(tok, http.MethodGet, "/v1.0/servicePrincipals(appId='"+app.AppID+"')", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("get by app id: %d %s", resp.StatusCode, body)
	}
	got := servertest.Decode[graph.ServicePrincipal](t, body)
	if got.ID != sp.ID || got.AccountEnabled || got.Notes == nil || *got.Notes != "off" {
		t.Fatalf("after patch: %s", body)
	}

	resp, body = e.call(tok, http.MethodDelete, "/v1.0/servicePrincipals/"+sp.ID, nil)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d %s", resp.StatusCode, body)
	}
	resp, body = e.call(tok, http.MethodGet, "/v1.0/servicePrincipals/"+sp.ID, nil)
	wantError(t, resp, body, http.StatusNotFound, "Request_ResourceNotFound", "Resource '"+sp.ID+"' does not exist")
	// The application stays.
	if resp, body := e.call(tok, http.MethodGet, "/v1.0/applications/"+app.ID, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("application gone with its service principal: %d %s", resp.StatusCode, body)
	}
}

func TestGetByIDs(t *testing.T) {
	e := newEnv(t)
	tok := e.reader.token
	missing := "11111111-2222-3333-4444-555555555555"
	type item struct {
		ODataType string `json:"@odata.type"`
		ID        string `json:"id"`
		AppID     string `json:"appId"`
	}
	type list struct {
		Context string `json:"@odata.context"`
		Value   []item `json:"value"`
	}
	tests := []struct {
		name  string
		body  any
		types []string // @odata.type of the results, in order
	}{
		{"service principal", map[string]any{"ids": []string{e.owner.SP.ID}, "types": []string{"user", "group", "servicePrincipal", "directoryObjectPartnerReference"}},
			[]string{"#microsoft.graph.servicePrincipal"}},
		{"both kinds, in order, unknown left out", map[string]any{"ids": []string{e.owner.App.ID, missing, strings.ToUpper(e.reader.SP.ID)}},
			[]string{"#microsoft.graph.application", "#microsoft.graph.servicePrincipal"}},
		{"types filter out", map[string]any{"ids": []string{e.owner.App.ID}, "types": []string{"servicePrincipal"}}, nil},
		{"users only", map[string]any{"ids": []string{e.owner.SP.ID}, "types": []string{"user"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.call(tok, http.MethodPost, "/v1.0/directoryObjects/getByIds", tt.body)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			got := servertest.Decode[list](t, body)
			if got.Context != e.URL+"/v1.0/$metadata#directoryObjects" || len(got.Value) != len(tt.types) {
				t.Fatalf("unexpected result %s", body)
			}
			for i, it := range got.Value {
				if it.ODataType != tt.types[i] || it.ID == "" {
					t.Errorf("item %d = %+v, want type %s", i, it, tt.types[i])
				}
			}
		})
	}
	for _, tt := range []struct {
		name string
		body any
		msg  string
	}{
		{"bad id", map[string]any{"ids": []string{"nope"}}, "Invalid object identifier 'nope'."},
		{"no ids", map[string]any{"ids": []string{}}, "at least one id"},
		{"bad type", map[string]any{"ids": []string{missing}, "types": []string{"spaceship"}}, "spaceship"},
		{"unknown property", map[string]any{"ids": []string{missing}, "kinds": []string{}}, "Property 'kinds' does not exist"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.call(tok, http.MethodPost, "/v1.0/directoryObjects/getByIds", tt.body)
			wantError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", tt.msg)
		})
	}
}
