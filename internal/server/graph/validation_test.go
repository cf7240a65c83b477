package graph_test

import (
	"net/http"
	"testing"
)

// TestUniqueNames: identifierUris and servicePrincipalNames another object
// holds are Graph's 400 Request_BadRequest, on create and on update.
func TestUniqueNames(t *testing.T) {
	e := newEnv(t)
	tok := e.owner.token
	const uriTaken = "Another object with the same value for property identifierUris already exists."
	const spnTaken = "Another object with the same value for property servicePrincipalNames already exists."
	resp, body := e.call(tok, http.MethodPost, "/v1.0/applications", map[string]any{"displayName": "first", "identifierUris": []string{"api://first"}})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	resp, body = e.call(tok, http.MethodPost, "/v1.0/applications", map[string]any{"displayName": "second", "identifierUris": []string{"API://FIRST"}})
	wantError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", uriTaken)
	second := e.createApp("second")
	resp, body = e.call(tok, http.MethodPatch, "/v1.0/applications/"+second.ID, map[string]any{"identifierUris": []string{"api://first"}})
	wantError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", uriTaken)

	sp := e.createSP(second.AppID)
	for _, names := range [][]string{{"api://first"}, {e.owner.App.AppID}, {e.owner.SP.AppID, "x:y"}} {
		resp, body = e.call(tok, http.MethodPatch, "/v1.0/servicePrincipals/"+sp.ID, map[string]any{"servicePrincipalNames": names})
		wantError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", spnTaken)
	}
	resp, body = e.call(tok, http.MethodPatch, "/v1.0/servicePrincipals/"+sp.ID, map[string]any{"servicePrincipalNames": []string{"https://second.example"}})
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("own name: %d %s", resp.StatusCode, body)
	}
	third := e.createApp("third")
	resp, body = e.call(tok, http.MethodPost, "/v1.0/servicePrincipals", map[string]any{"appId": third.AppID, "servicePrincipalNames": []string{"https://second.example"}})
	wantError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", spnTaken)
	// A second service principal for an app stays a 409.
	resp, body = e.call(tok, http.MethodPost, "/v1.0/servicePrincipals", map[string]any{"appId": second.AppID})
	wantError(t, resp, body, http.StatusConflict, "Request_MultipleObjectsWithSameKeyValue", "already in use")
}

// TestPasswordDatesOutOfRange: a date past year 9999 once converted to
// UTC is a 400, not a credential stored and then unreadable (500).
func TestPasswordDatesOutOfRange(t *testing.T) {
	e := newEnv(t)
	path := "/v1.0/servicePrincipals/" + e.reader.SP.ID + "/addPassword"
	for _, pc := range []string{
		`{"endDateTime":"9999-12-31T23:00:00-05:00"}`,
		`{"startDateTime":"9999-12-31T22:00:00-05:00","endDateTime":"9999-12-31T23:59:00Z"}`,
		`{"startDateTime":"0001-01-01T00:30:00+01:00","endDateTime":"2030-01-01T00:00:00Z"}`,
	} {
		resp, body := e.call(e.owner.token, http.MethodPost, path, `{"passwordCredential":`+pc+`}`)
		wantError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", "DateTime")
	}
	// The principal stays readable.
	resp, body := e.call(e.owner.token, http.MethodGet, "/v1.0/servicePrincipals/"+e.reader.SP.ID, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("get: %d %s", resp.StatusCode, body)
	}
	resp, body = e.call(e.owner.token, http.MethodPost, path, `{"passwordCredential":{"startDateTime":"9999-06-01T00:00:00Z"}}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("start late in 9999: %d %s", resp.StatusCode, body)
	}
	resp, body = e.call(e.owner.token, http.MethodGet, "/v1.0/servicePrincipals/"+e.reader.SP.ID, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("get after a clamped default end: %d %s", resp.StatusCode, body)
	}
}
