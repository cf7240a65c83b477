package graph_test

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/cerulean/cerulean/api/graph"
	"github.com/cerulean/cerulean/internal/server/servertest"
)

func (e *env) createApp(name string) graph.Application {
	e.t.Helper()
	resp, body := e.call(e.owner.token, http.MethodPost, "/v1.0/applications", map[string]any{"displayName": name})
	if resp.StatusCode != http.StatusCreated {
		e.t.Fatalf("create %q: %d %s", name, resp.StatusCode, body)
	}
	return servertest.Decode[graph.Application](e.t, body)
}

func (e *env) createSP(appID string) graph.ServicePrincipal {
	e.t.Helper()
	resp, body := e.call(e.owner.token, http.MethodPost, "/v1.0/servicePrincipals", map[string]any{"appId": appID, "accountEnabled": true})
	if resp.StatusCode != http.StatusCreated {
		e.t.Fatalf("create sp: %d %s", resp.StatusCode, body)
	}
	return servertest.Decode[graph.ServicePrincipal](e.t, body)
}

func names[T any](t *testing.T, body []byte, name func(T) string) []string {
	t.Helper()
	l := servertest.Decode[graph.List[T]](t, body)
	out := []string{}
	for _, v := range l.Value {
		out = append(out, name(v))
	}
	sort.Strings(out)
	return out
}

// TestFilters sends $filter as az does today (fully percent-encoded) and
// as older az did (quotes, parentheses and commas raw).
func TestFilters(t *testing.T) {
	e := newEnv(t)
	resp, body := e.call(e.owner.token, http.MethodPost, "/v1.0/applications", map[string]any{"displayName": "with-uri", "identifierUris": []string{"http://with-uri"}})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	plus := e.createApp("a+b")
	e.createApp("a b")
	quote := e.createApp("o'brien")
	e.createApp("acr-pull-sp")
	e.createApp("acr-push-sp")
	sp := e.createSP(plus.AppID)
	e.createSP(quote.AppID)
	appName := func(a graph.Application) string { return a.DisplayName }
	spName := func(s graph.ServicePrincipal) string { return s.DisplayName }

	tests := []struct {
		name     string
		set      string
		rawQuery string
		want     []string
	}{
		{"plus encoded", "applications", "$filter=" + url.QueryEscape("displayName eq 'a+b'"), []string{"a+b"}},
		{"space as plus", "applications", "$filter=displayName+eq+'a+b'", []string{"a b"}},
		{"space as %20, raw quotes", "applications", "$filter=displayName%20eq%20'a%2Bb'", []string{"a+b"}},
		{"doubled quote", "applications", "$filter=" + url.QueryEscape("displayName eq 'o''brien'"), []string{"o'brien"}},
		{"case-insensitive value", "applications", "$filter=" + url.QueryEscape("displayName eq 'ACR-PULL-SP'"), []string{"acr-pull-sp"}},
		{"startswith encoded", "applications", "$filter=startswith%28displayName%2C%27acr-%27%29", []string{"acr-pull-sp", "acr-push-sp"}},
		{"startswith raw", "applications", "$filter=startswith(displayName,'acr-pu')", []string{"acr-pull-sp", "acr-push-sp"}},
		{"startswith and eq", "applications", "$filter=" + url.QueryEscape("startswith(displayName,'acr') and displayName eq 'acr-push-sp'"), []string{"acr-push-sp"}},
		{"contradiction", "applications", "$filter=" + url.QueryEscape("displayName eq 'a b' and displayName eq 'a+b'"), []string{}},
		{"empty equality", "applications", "$filter=" + url.QueryEscape("displayName eq ''"), []string{}},
		{"appId", "applications", "$filter=" + url.QueryEscape("appId eq '"+plus.AppID+"'"), []string{"a+b"}},
		{"id", "applications", "filter=" + url.QueryEscape("id eq '"+quote.ID+"'"), []string{"o'brien"}},
		{"identifierUris any", "applications", "$filter=" + url.QueryEscape("identifierUris/any(s:s eq 'HTTP://with-uri')"), []string{"with-uri"}},
		{"identifierUris any, no match", "applications", "$filter=" + url.QueryEscape("identifierUris/any(s:s eq 'http://nothing')"), []string{}},
		{"spn any, encoded", "servicePrincipals", "$filter=servicePrincipalNames%2Fany%28c%3Ac%20eq%20%27" + plus.AppID + "%27%29", []string{"a+b"}},
		{"spn any, raw", "servicePrincipals", "$filter=servicePrincipalNames/any(x:x%20eq%20'" + quote.AppID + "')", []string{"o'brien"}},
		{"sp displayName and appId", "servicePrincipals", "$filter=" + url.QueryEscape("displayName eq 'a+b' and appId eq '"+sp.AppID+"'"), []string{"a+b"}},
		{"sp startswith", "servicePrincipals", "$filter=" + url.QueryEscape("startswith(displayName,'o''b')"), []string{"o'brien"}},
		{"select ignored", "servicePrincipals", "$select=appId&$filter=" + url.QueryEscape("startswith(displayName,'o''b')"), []string{"o'brien"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.call(e.reader.token, http.MethodGet, "/v1.0/"+tt.set+"?"+tt.rawQuery, nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			var got []string
			if tt.set == "applications" {
				got = names(t, body, appName)
			} else {
				got = names(t, body, spName)
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}

	errs := []struct {
		name, set, filter string
		code, msg         string
	}{
		{"or", "applications", "displayName eq 'a' or displayName eq 'b'", "Request_UnsupportedQuery", "'or'"},
		{"ne", "applications", "displayName ne 'a'", "Request_UnsupportedQuery", "'ne'"},
		{"endswith", "applications", "endswith(displayName,'a')", "Request_UnsupportedQuery", "'endswith'"},
		{"unknown property", "applications", "publisherDomain eq 'x'", "Request_UnsupportedQuery",
			"Unsupported or invalid query filter clause specified for property 'publisherDomain' of resource 'Application'."},
		{"spn on applications", "applications", "servicePrincipalNames/any(c:c eq 'x')", "Request_UnsupportedQuery", "resource 'Application'"},
		{"syntax", "applications", "displayName eq", "BadRequest", "Invalid filter clause: Syntax error at position"},
		{"unterminated", "servicePrincipals", "displayName eq 'x", "BadRequest", "Invalid filter clause"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.call(e.reader.token, http.MethodGet, "/v1.0/"+tt.set+"?$filter="+url.QueryEscape(tt.filter), nil)
			wantError(t, resp, body, http.StatusBadRequest, tt.code, tt.msg)
		})
	}
}

func TestPaging(t *testing.T) {
	e := newEnv(t)
	for _, n := range []string{"page-1", "page-2", "page-3", "page-4", "page-5"} {
		e.createApp(n)
	}
	next := "/v1.0/applications?$filter=" + url.QueryEscape("startswith(displayName,'page-')") + "&$top=2"
	var seen []string
	pages := 0
	for next != "" {
		resp, body := e.call(e.reader.token, http.MethodGet, next, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("page %d: %d %s", pages, resp.StatusCode, body)
		}
		l := servertest.Decode[graph.List[graph.Application]](t, body)
		if l.Context != e.URL+"/v1.0/$metadata#applications" || len(l.Value) > 2 {
			t.Fatalf("page %d: %s", pages, body)
		}
		for _, a := range l.Value {
			seen = append(seen, a.DisplayName)
		}
		next = ""
		if l.NextLink != "" {
			if !strings.HasPrefix(l.NextLink, e.URL+"/v1.0/applications?") || !strings.Contains(l.NextLink, "$skiptoken=") {
				t.Fatalf("nextLink %q", l.NextLink)
			}
			next = strings.TrimPrefix(l.NextLink, e.URL)
		}
		if pages++; pages > 5 {
			t.Fatal("paging does not end")
		}
	}
	sort.Strings(seen)
	if strings.Join(seen, ",") != "page-1,page-2,page-3,page-4,page-5" || pages != 3 {
		t.Fatalf("pages %d saw %v", pages, seen)
	}

	for _, q := range []struct{ query, code, msg string }{
		{"$top=0", "Request_BadRequest", "Invalid page size specified: '0'. Must be between 1 and 999 inclusive."},
		{"$top=1000", "Request_BadRequest", "Invalid page size specified: '1000'"},
		{"$top=x", "Request_BadRequest", "Invalid page size"},
		{"$skiptoken=garbage", "Request_BadRequest", "$skiptoken"},
		{"$filter=a&$filter=b", "BadRequest", "Query option 'Filter' was specified more than once"},
		{"$orderby=displayName", "Request_UnsupportedQuery", "$orderby"},
		{"$top=%zz", "Request_BadRequest", "query string"},
	} {
		t.Run(q.query, func(t *testing.T) {
			resp, body := e.call(e.reader.token, http.MethodGet, "/v1.0/applications?"+q.query, nil)
			wantError(t, resp, body, http.StatusBadRequest, q.code, q.msg)
		})
	}
}

// TestFilterSeveralAnyClauses: `servicePrincipalNames/any(…) and
// servicePrincipalNames/any(…)` with two different names finds the service
// principal holding both, as Graph does.
func TestFilterSeveralAnyClauses(t *testing.T) {
	e := newEnv(t)
	both := e.createApp("both")
	one := e.createApp("one")
	bothSP, oneSP := e.createSP(both.AppID), e.createSP(one.AppID)
	for id, spns := range map[string][]string{bothSP.ID: {"api://x", "api://y"}, oneSP.ID: {"api://x-only"}} {
		resp, body := e.call(e.owner.token, http.MethodPatch, "/v1.0/servicePrincipals/"+id, map[string]any{"servicePrincipalNames": spns})
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("patch: %d %s", resp.StatusCode, body)
		}
	}
	resp, body := e.call(e.owner.token, http.MethodPost, "/v1.0/applications", map[string]any{"displayName": "uris", "identifierUris": []string{"api://u1", "api://u2"}})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	spName := func(s graph.ServicePrincipal) string { return s.DisplayName }
	appName := func(a graph.Application) string { return a.DisplayName }
	anyOf := func(prop, v string) string { return prop + "/any(c:c eq '" + v + "')" }
	tests := []struct {
		name, set, filter string
		want              []string
	}{
		{"two names held", "servicePrincipals", anyOf("servicePrincipalNames", "api://x") + " and " + anyOf("servicePrincipalNames", "API://Y"), []string{"both"}},
		{"app id and a name", "servicePrincipals", anyOf("servicePrincipalNames", both.AppID) + " and " + anyOf("servicePrincipalNames", "api://y"), []string{"both"}},
		{"one name missing", "servicePrincipals", anyOf("servicePrincipalNames", "api://x") + " and " + anyOf("servicePrincipalNames", "api://x-only"), []string{}},
		{"with another clause", "servicePrincipals", "displayName eq 'one' and " + anyOf("servicePrincipalNames", one.AppID) + " and " + anyOf("servicePrincipalNames", "api://x-only"), []string{"one"}},
		{"two identifier URIs", "applications", anyOf("identifierUris", "api://u1") + " and " + anyOf("identifierUris", "api://u2"), []string{"uris"}},
		{"one identifier URI missing", "applications", anyOf("identifierUris", "api://u1") + " and " + anyOf("identifierUris", "api://u3"), []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.call(e.reader.token, http.MethodGet, "/v1.0/"+tt.set+"?$filter="+url.QueryEscape(tt.filter), nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			var got []string
			if tt.set == "applications" {
				got = names(t, body, appName)
			} else {
				got = names(t, body, spName)
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}
