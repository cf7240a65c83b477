package arm

import (
	"net/http"
	"strings"
	"testing"

	"github.com/cerulean/cerulean/internal/server"
)

func TestRouting(t *testing.T) {
	e := newEnv(t)
	tok := e.owner.token
	rg := e.group(t, "myGroup")
	sub := e.subPath()
	big := `{"location":"eastus","tags":{"a":"` + strings.Repeat("x", server.MaxJSONBody) + `"}}`
	tests := []struct {
		name, method, path string
		body               any
		ctype              string
		status             int
		code               string
	}{
		{"lower-case path", http.MethodGet, strings.ToLower(rg.String()), nil, "", http.StatusOK, ""},
		{"upper-case path", http.MethodGet, strings.ToUpper(sub) + "/RESOURCEGROUPS/myGroup", nil, "", http.StatusOK, ""},
		{"trailing slash", http.MethodGet, rg.String() + "/", nil, "", http.StatusOK, ""},
		{"leading slashes (JS SDK's /{scope}/… with a resource id)", http.MethodGet, "/" + rg.String() + "/providers/Microsoft.Authorization/roleAssignments", nil, "", http.StatusOK, ""},
		{"group name any case", http.MethodGet, sub + "/resourceGroups/MYGROUP", nil, "", http.StatusOK, ""},
		{"bad subscription guid", http.MethodGet, "/subscriptions/not-a-guid/resourcegroups", nil, "", http.StatusBadRequest, "InvalidSubscriptionId"},
		{"bad subscription guid alone", http.MethodGet, "/subscriptions/1234", nil, "", http.StatusBadRequest, "InvalidSubscriptionId"},
		{"unknown subscription", http.MethodGet, "/subscriptions/00000000-0000-0000-0000-0000000000ff", nil, "", http.StatusNotFound, "SubscriptionNotFound"},
		{"unknown collection", http.MethodGet, sub + "/widgets", nil, "", http.StatusNotFound, "InvalidResourceType"},
		{"unknown tenant route", http.MethodGet, "/tenants/x", nil, "", http.StatusNotFound, "InvalidResourceType"},
		{"unknown namespace", http.MethodGet, sub + "/providers/Microsoft.Nope/things", nil, "", http.StatusNotFound, "InvalidResourceNamespace"},
		{"unknown type", http.MethodGet, sub + "/providers/Microsoft.Authorization/widgets", nil, "", http.StatusNotFound, "InvalidResourceType"},
		{"provider list", http.MethodGet, sub + "/providers", nil, "", http.StatusNotFound, "InvalidResourceType"},
		{"namespace only", http.MethodGet, sub + "/providers/Microsoft.Authorization", nil, "", http.StatusNotFound, "InvalidResourceType"},
		{"extension under a missing resource", http.MethodGet, rg.String() + "/providers/Microsoft.ContainerRegistry/registries/nope/providers/Microsoft.Authorization/roleAssignments", nil, "", http.StatusNotFound, "ResourceNotFound"},
		{"extension under half a resource", http.MethodGet, rg.String() + "/providers/Microsoft.ContainerRegistry/registries/providers/Microsoft.Authorization/roleAssignments", nil, "", http.StatusNotFound, "InvalidResourceNamespace"},
		{"extension of an extension", http.MethodGet, rg.String() + "/providers/Microsoft.ContainerRegistry/registries/r/providers/Microsoft.Authorization/roleAssignments/x/providers/Microsoft.Authorization/roleAssignments", nil, "", http.StatusNotFound, "InvalidResourceType"},
		{"empty segment", http.MethodGet, sub + "//resourcegroups", nil, "", http.StatusNotFound, "InvalidResourceType"},
		{"encoded slash", http.MethodGet, sub + "/resourcegroups/a%2Fb", nil, "", http.StatusNotFound, "InvalidResourceType"},
		{"method not allowed", http.MethodPost, rg.String(), `{}`, "", http.StatusMethodNotAllowed, "MethodNotAllowed"},
		{"method not allowed on a list", http.MethodDelete, sub + "/resourcegroups", nil, "", http.StatusMethodNotAllowed, "MethodNotAllowed"},
		{"malformed json", http.MethodPut, rg.String(), `{"location":`, "", http.StatusBadRequest, "InvalidRequestContent"},
		{"trailing garbage", http.MethodPut, rg.String(), `{"location":"eastus"} x`, "", http.StatusBadRequest, "InvalidRequestContent"},
		{"wrong json type", http.MethodPut, rg.String(), `{"location":"eastus","tags":["a"]}`, "", http.StatusBadRequest, "InvalidRequestContent"},
		{"oversized body", http.MethodPut, rg.String(), big, "", http.StatusRequestEntityTooLarge, "RequestContentTooLarge"},
		{"not json", http.MethodPut, rg.String(), `location=eastus`, "application/x-www-form-urlencoded", http.StatusUnsupportedMediaType, "UnsupportedMediaType"},
		{"unknown group property ignored", http.MethodPut, rg.String(), `{"location":"eastus","sku":{"name":"x"}}`, "", http.StatusOK, ""},
		{"too many segments", http.MethodGet, sub + strings.Repeat("/a", 50), nil, "", http.StatusNotFound, "InvalidResourceType"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r response
			if tt.ctype != "" {
				req, _ := http.NewRequest(tt.method, e.URL+withAPI(tt.path), strings.NewReader(tt.body.(string)))
				req.Header.Set("Content-Type", tt.ctype)
				req.Header.Set("Authorization", "Bearer "+tok)
				resp, err := e.H1.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				r = response{status: resp.StatusCode, header: resp.Header, body: readAll(t, resp)}
				resp.Body.Close()
			} else {
				r = e.do(t, tt.method, tt.path, tok, tt.body)
			}
			expect(t, r, tt.status, tt.code)
			if r.status >= 400 && !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
				t.Errorf("error content type %q", r.header.Get("Content-Type"))
			}
			if tt.status == http.StatusMethodNotAllowed && r.header.Get("Allow") == "" {
				t.Error("405 without Allow")
			}
		})
	}
}

func TestHTTP2(t *testing.T) {
	e := newEnv(t)
	e.resetProtocols()
	rg := e.group(t, "g")
	r := e.call(t, e.H2, http.MethodGet, withAPI(rg.String()), e.owner.token, nil)
	expect(t, r, http.StatusOK, "")
	if r.proto != "HTTP/2.0" {
		t.Fatalf("protocol %s", r.proto)
	}
	// An unencoded $filter over HTTP/2 (the SDK's role assignment lists).
	r = e.call(t, e.H2, http.MethodGet, e.subPath()+"/providers/Microsoft.Authorization/roleAssignments?api-version=1&$filter=principalId eq '"+e.owner.SP.ID+"'", e.owner.token, nil)
	expect(t, r, http.StatusOK, "")
	if n := len(decodeList[struct{ Name string }](t, r)); n != 1 {
		t.Fatalf("%d assignments", n)
	}
	if p := e.sawProtocols(); p["HTTP/1.1"] != 0 || p["HTTP/2.0"] != 2 {
		t.Fatalf("server saw %v", p)
	}
}

func TestParseFilter(t *testing.T) {
	tests := []struct {
		in   string
		want []clause
		bad  bool
	}{
		{"", nil, false},
		{"atScope()", []clause{{name: "atScope", fn: true}}, false},
		{"assignedTo('x')", []clause{{name: "assignedTo", fn: true, value: "x", hasV: true}}, false},
		{"  name eq 'it''s'  and  resourceType eq 'A/b' ", []clause{{name: "name", value: "it's"}, {name: "resourceType", value: "A/b"}}, false},
		{"NAME EQ 'x' AND tagName Eq ''", []clause{{name: "NAME", value: "x"}, {name: "tagName", value: ""}}, false},
		{"name eq x", nil, true},
		{"name ne 'x'", nil, true},
		{"name eq 'x' or name eq 'y'", nil, true},
		{"name eq 'x' and", nil, true},
		{"and name eq 'x'", nil, true},
		{"f(", nil, true},
		{"f('x'", nil, true},
		{"f('x' 'y')", nil, true},
		{"'x'", nil, true},
		{"name eq 'x", nil, true},
		{"name eq \"x\"", nil, true},
		{strings.Repeat("a", maxFilterLen+1), nil, true},
	}
	for _, tt := range tests {
		got, err := parseFilter(tt.in)
		if (err != nil) != tt.bad {
			t.Errorf("%q: err %v", tt.in, err)
			continue
		}
		if len(got) != len(tt.want) {
			t.Errorf("%q: got %+v, want %+v", tt.in, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%q: got %+v, want %+v", tt.in, got, tt.want)
			}
		}
	}
}

func TestSplitPath(t *testing.T) {
	tests := []struct {
		in   string
		want string
		bad  bool
	}{
		{"/subscriptions/x/", "subscriptions|x", false},
		{"/a%20b/c", "a b|c", false},
		{"/", "", true},
		{"//a", "a", false},
		{"///subscriptions/x", "subscriptions|x", false},
		{"//", "", true},
		{"/a//b", "", true},
		{"/a%2Fb", "", true},
		{"/a%00b", "", true},
		{"/a%zz", "", true},
	}
	for _, tt := range tests {
		got, err := splitPath(tt.in)
		if (err != nil) != tt.bad || !tt.bad && strings.Join(got, "|") != tt.want {
			t.Errorf("%q: got %q, %v", tt.in, got, err)
		}
	}
}
