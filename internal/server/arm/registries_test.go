package arm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cerulean/cerulean/api/arm"
	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/rbac"
	acr "github.com/cerulean/cerulean/internal/registry"
	"github.com/cerulean/cerulean/internal/resourceid"
	"github.com/cerulean/cerulean/internal/sealbox"
	"github.com/cerulean/cerulean/internal/server"
	"github.com/cerulean/cerulean/internal/server/login"
	"github.com/cerulean/cerulean/internal/server/servertest"
)

// newRegistryEnv is newEnv with Microsoft.ContainerRegistry served by the
// Registries svc returns.
func newRegistryEnv(t testing.TB, svc func(*servertest.Env) Registries) *env {
	t.Helper()
	return newProviderEnv(t, func(s *servertest.Env) []ResourceType { return RegistriesTypes(svc(s)) })
}

// newProviderEnv is newEnv with the provider types types returns plugged
// into the router.
func newProviderEnv(t testing.TB, types func(*servertest.Env) []ResourceType) *env {
	t.Helper()
	e := &env{protos: map[string]int{}}
	e.Env = servertest.New(t, servertest.Options{Handler: func(s *servertest.Env) http.Handler {
		armH := server.Middleware(s.Logger, New(Config{
			Logger: s.Logger, Identity: s.Identity, RBAC: s.RBAC, Resources: s.Resources,
			Types: types(s),
		}))
		loginH := login.New(login.Config{Logger: s.Logger, Identity: s.Identity, Signer: s.Signer})
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			first, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
			switch strings.ToLower(first) {
			case "subscriptions", "providers", "tenants":
				armH.ServeHTTP(w, r)
			default:
				loginH.ServeHTTP(w, r)
			}
		})
	}})
	e.owner = &actor{Principal: e.Owner, token: e.IssueToken(t, e.Identity, e.Owner, armResource)}
	return e
}

// registryClock is the registry service's fixed clock in these tests.
var registryClock = time.Date(2024, 5, 1, 12, 0, 0, 123456700, time.UTC)

// newRegistryService is registry.Service over the env's store, with login
// servers <name>.azurecr.localhost and a fixed clock. The management plane
// touches no blob.
func newRegistryService(t testing.TB, s *servertest.Env) *acr.Service {
	t.Helper()
	box, err := sealbox.New(bytes.Repeat([]byte{7}, sealbox.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return acr.NewService(acr.Config{
		Store: s.Store.Registry(), Sealer: box, Domain: "azurecr.localhost", Logger: s.Logger,
		Now: func() time.Time { return registryClock },
	})
}

// newServiceRegistryEnv serves Microsoft.ContainerRegistry with the real
// registry service.
func newServiceRegistryEnv(t testing.TB) *env {
	return newRegistryEnv(t, func(s *servertest.Env) Registries { return newRegistryService(t, s) })
}

const apiACR = "?api-version=2023-07-01"

func registryPath(group resourceid.ID, name string) string {
	return group.String() + "/providers/Microsoft.ContainerRegistry/registries/" + name + apiACR
}

func actionPath(group resourceid.ID, name, action string) string {
	return group.String() + "/providers/Microsoft.ContainerRegistry/registries/" + name + "/" + action + apiACR
}

// TestRegistryShape checks a created registry against the full ARM shape.
func TestRegistryShape(t *testing.T) {
	e := newServiceRegistryEnv(t)
	rg := e.group(t, "rg")
	r := e.do(t, http.MethodPut, registryPath(rg, "myregistry"), e.owner.token, `{"location":"eastus","sku":{"name":"basic"}}`)
	expect(t, r, http.StatusCreated, "")
	for _, h := range []string{"Azure-AsyncOperation", "Location", "Operation-Location", "Retry-After"} {
		if r.header.Get(h) != "" {
			t.Errorf("PUT answered with %s", h)
		}
	}
	want := `{
	  "id": "` + rg.String() + `/providers/Microsoft.ContainerRegistry/registries/myregistry",
	  "name": "myregistry", "type": "Microsoft.ContainerRegistry/registries", "location": "eastus", "tags": {},
	  "sku": {"name": "Basic", "tier": "Basic"},
	  "systemData": {"createdBy": "` + e.Owner.SP.ID + `", "createdByType": "Application", "createdAt": "2024-05-01T12:00:00.1234567Z",
	                 "lastModifiedBy": "` + e.Owner.SP.ID + `", "lastModifiedByType": "Application", "lastModifiedAt": "2024-05-01T12:00:00.1234567Z"},
	  "properties": {
	    "loginServer": "myregistry.azurecr.localhost", "creationDate": "2024-05-01T12:00:00.1234567Z",
	    "provisioningState": "Succeeded", "adminUserEnabled": false,
	    "policies": {
	      "quarantinePolicy": {"status": "disabled"},
	      "trustPolicy": {"type": "Notary", "status": "disabled"},
	      "retentionPolicy": {"days": 7, "lastUpdatedTime": "2024-05-01T12:00:00.1234567Z", "status": "disabled"},
	      "exportPolicy": {"status": "enabled"},
	      "azureADAuthenticationAsArmPolicy": {"status": "enabled"}
	    },
	    "encryption": {"status": "disabled"}, "status": null,
	    "dataEndpointEnabled": false, "dataEndpointHostNames": [], "privateEndpointConnections": [],
	    "publicNetworkAccess": "Enabled", "networkRuleBypassOptions": "AzureServices", "zoneRedundancy": "Disabled",
	    "anonymousPullEnabled": false
	  }
	}`
	assertJSON(t, r.body, want)

	// Premium registries carry the (open) network rule set.
	r = e.do(t, http.MethodPut, registryPath(rg, "premiumreg"), e.owner.token, `{"location":"eastus","sku":{"name":"Premium"}}`)
	expect(t, r, http.StatusCreated, "")
	var reg arm.Registry
	r.decode(t, &reg)
	if n := reg.Properties.NetworkRuleSet; n == nil || n.DefaultAction != "Allow" || n.IPRules == nil || len(n.IPRules) != 0 {
		t.Fatalf("premium networkRuleSet %+v", n)
	}
}

func assertJSON(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("decoding %s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("decoding the expectation: %v", err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("body\n%s\nwant\n%s", got, want)
	}
}

// TestRegistryLifecycle walks PUT, PUT again, GET, PATCH, the lists, the
// credential actions and DELETE.
func TestRegistryLifecycle(t *testing.T) {
	e := newServiceRegistryEnv(t)
	tok := e.owner.token
	rg, other := e.group(t, "rg"), e.group(t, "other")
	path := registryPath(rg, "myregistry")
	decode := func(r response) arm.Registry {
		t.Helper()
		var reg arm.Registry
		r.decode(t, &reg)
		return reg
	}

	expect(t, e.do(t, http.MethodPut, path, tok, `{"location":"eastus","sku":{"name":"Standard"},"tags":{"a":"1"}}`), http.StatusCreated, "")
	// PUT again replaces the updatable fields: 200. A body echoed from GET
	// (read-only fields included) is accepted.
	got := e.do(t, http.MethodGet, path, tok, nil)
	expect(t, got, http.StatusOK, "")
	echoed := strings.Replace(string(got.body), `"adminUserEnabled":false`, `"adminUserEnabled":true`, 1)
	r := e.do(t, http.MethodPut, path, tok, echoed)
	expect(t, r, http.StatusOK, "")
	if reg := decode(r); !reg.Properties.AdminUserEnabled || reg.SKU.Name != "Standard" || reg.Tags["a"] != "1" {
		t.Fatalf("after second PUT %+v", reg)
	}

	// PATCH: absent fields stay, present tags replace.
	r = e.do(t, http.MethodPatch, path, tok, `{"sku":{"name":"premium"},"tags":{"b":"2"},"properties":{"anonymousPullEnabled":true}}`)
	expect(t, r, http.StatusOK, "")
	if reg := decode(r); reg.SKU.Name != "Premium" || reg.SKU.Tier != "Premium" || len(reg.Tags) != 1 || reg.Tags["b"] != "2" ||
		!reg.Properties.AdminUserEnabled || !reg.Properties.AnonymousPullEnabled || reg.Properties.NetworkRuleSet == nil {
		t.Fatalf("after PATCH %+v", reg)
	}
	expect(t, e.do(t, http.MethodPatch, path, tok, `{"properties":{"adminUserEnabled":false}}`), http.StatusOK, "")
	expect(t, e.do(t, http.MethodPatch, path, tok, `{"properties":{"adminUserEnabled":true}}`), http.StatusOK, "")

	// Lists: the group's and the subscription's.
	expect(t, e.do(t, http.MethodPut, registryPath(other, "otherregistry"), tok, `{"location":"eastus","sku":{"name":"Basic"}}`), http.StatusCreated, "")
	names := func(path string) []string {
		t.Helper()
		r := e.do(t, http.MethodGet, path, tok, nil)
		expect(t, r, http.StatusOK, "")
		var l arm.List[arm.Registry]
		r.decode(t, &l)
		var out []string
		for _, reg := range l.Value {
			out = append(out, reg.Name)
		}
		return out
	}
	if n := names(rg.String() + "/providers/Microsoft.ContainerRegistry/registries" + apiACR); !reflect.DeepEqual(n, []string{"myregistry"}) {
		t.Errorf("group list %v", n)
	}
	if n := names(e.subPath() + "/providers/Microsoft.ContainerRegistry/registries" + apiACR); !reflect.DeepEqual(n, []string{"myregistry", "otherregistry"}) {
		t.Errorf("subscription list %v", n)
	}

	// Credentials: list, regenerate one, the other stays.
	r = e.do(t, http.MethodPost, actionPath(rg, "myregistry", "listCredentials"), tok, nil)
	expect(t, r, http.StatusOK, "")
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("credentials answered with Cache-Control %q", cc)
	}
	var before arm.RegistryListCredentialsResult
	r.decode(t, &before)
	if before.Username != "myregistry" || len(before.Passwords) != 2 || before.Passwords[0].Name != "password" || before.Passwords[1].Name != "password2" {
		t.Fatalf("credentials %+v", before)
	}
	r = e.do(t, http.MethodPost, actionPath(rg, "myregistry", "regenerateCredential"), tok, `{"name":"password2"}`)
	expect(t, r, http.StatusOK, "")
	var after arm.RegistryListCredentialsResult
	r.decode(t, &after)
	if after.Passwords[0].Value != before.Passwords[0].Value || after.Passwords[1].Value == before.Passwords[1].Value {
		t.Fatalf("regenerate password2: before %+v after %+v", before, after)
	}

	// Name check: taken, free, invalid.
	check := func(name string) arm.RegistryNameStatus {
		t.Helper()
		r := e.do(t, http.MethodPost, e.subPath()+"/providers/Microsoft.ContainerRegistry/checkNameAvailability"+apiACR, tok,
			map[string]string{"name": name, "type": "Microsoft.ContainerRegistry/registries"})
		expect(t, r, http.StatusOK, "")
		var st arm.RegistryNameStatus
		r.decode(t, &st)
		return st
	}
	if st := check("MyRegistry"); st.NameAvailable || st.Reason != "AlreadyExists" || st.Message == "" {
		t.Errorf("taken name %+v", st)
	}
	if st := check("freeregistry"); !st.NameAvailable || st.Reason != "" || st.Message != "" {
		t.Errorf("free name %+v", st)
	}
	if st := check("no"); st.NameAvailable || st.Reason != "Invalid" {
		t.Errorf("invalid name %+v", st)
	}

	// DELETE: 200, then 204; the registry is gone.
	r = e.do(t, http.MethodDelete, path, tok, nil)
	expect(t, r, http.StatusOK, "")
	r = e.do(t, http.MethodDelete, path, tok, nil)
	if r.status != http.StatusNoContent || len(r.body) != 0 {
		t.Fatalf("second DELETE: %d %s", r.status, r.body)
	}
	expect(t, e.do(t, http.MethodGet, path, tok, nil), http.StatusNotFound, "ResourceNotFound")
}

// TestRegistryErrors checks ARM's error envelope for bad requests.
func TestRegistryErrors(t *testing.T) {
	e := newServiceRegistryEnv(t)
	tok := e.owner.token
	rg, other := e.group(t, "rg"), e.group(t, "other")
	expect(t, e.do(t, http.MethodPut, registryPath(rg, "taken"+"registry"), tok, `{"location":"eastus","sku":{"name":"Basic"}}`), http.StatusCreated, "")
	expect(t, e.do(t, http.MethodPut, registryPath(rg, "noadmin"), tok, `{"location":"eastus","sku":{"name":"Basic"}}`), http.StatusCreated, "")
	basic := `{"location":"eastus","sku":{"name":"Basic"},"properties":%s}`
	props := func(p string) string { return strings.Replace(basic, "%s", p, 1) }
	checkName := e.subPath() + "/providers/Microsoft.ContainerRegistry/checkNameAvailability" + apiACR

	tests := []struct {
		name, method, path, body string
		status                   int
		code, target             string
	}{
		{"name too short", http.MethodPut, registryPath(rg, "abc"), props(`{}`), 400, "InvalidRegistryName", "name"},
		{"name with a dash", http.MethodPut, registryPath(rg, "my-registry"), props(`{}`), 400, "InvalidRegistryName", "name"},
		{"unknown sku", http.MethodPut, registryPath(rg, "newregistry"), `{"location":"eastus","sku":{"name":"Gold"}}`, 400, "InvalidSku", "sku.name"},
		{"no sku", http.MethodPut, registryPath(rg, "newregistry"), `{"location":"eastus"}`, 400, "InvalidSku", "sku"},
		{"no location", http.MethodPut, registryPath(rg, "newregistry"), `{"sku":{"name":"Basic"}}`, 400, "LocationRequired", "location"},
		{"not JSON", http.MethodPut, registryPath(rg, "newregistry"), `{"location":`, 400, "InvalidRequestContent", ""},
		{"name taken in another group", http.MethodPut, registryPath(other, "TakenRegistry"), props(`{}`), 409, "RegistryNameNotAvailable", ""},
		{"location cannot change", http.MethodPut, registryPath(rg, "takenregistry"), `{"location":"westus","sku":{"name":"Basic"}}`, 409, "InvalidResourceLocation", ""},
		{"missing group", http.MethodPut, registryPath(resourceid.ForResourceGroup(e.Subscription.ID, "nope"), "newregistry"), props(`{}`), 404, "ResourceGroupNotFound", ""},
		{"private network", http.MethodPut, registryPath(rg, "newregistry"), props(`{"publicNetworkAccess":"Disabled"}`), 400, "PropertyNotSupported", "properties.publicNetworkAccess"},
		{"deny by default", http.MethodPatch, registryPath(rg, "takenregistry"), `{"properties":{"networkRuleSet":{"defaultAction":"Deny"}}}`, 400, "PropertyNotSupported", "properties.networkRuleSet.defaultAction"},
		{"ip rules", http.MethodPut, registryPath(rg, "newregistry"), props(`{"networkRuleSet":{"defaultAction":"Allow","ipRules":[{"value":"1.2.3.4"}]}}`), 400, "PropertyNotSupported", "properties.networkRuleSet.ipRules"},
		{"customer managed key", http.MethodPut, registryPath(rg, "newregistry"), props(`{"encryption":{"status":"enabled"}}`), 400, "PropertyNotSupported", "properties.encryption.status"},
		{"data endpoint", http.MethodPatch, registryPath(rg, "takenregistry"), `{"properties":{"dataEndpointEnabled":true}}`, 400, "PropertyNotSupported", "properties.dataEndpointEnabled"},
		{"quarantine", http.MethodPut, registryPath(rg, "newregistry"), props(`{"policies":{"quarantinePolicy":{"status":"enabled"}}}`), 400, "PropertyNotSupported", "properties.policies.quarantinePolicy.status"},
		{"no ARM tokens", http.MethodPut, registryPath(rg, "newregistry"), props(`{"policies":{"azureADAuthenticationAsArmPolicy":{"status":"disabled"}}}`), 400, "PropertyNotSupported", "properties.policies.azureADAuthenticationAsArmPolicy.status"},
		{"managed identity", http.MethodPut, registryPath(rg, "newregistry"), `{"location":"eastus","sku":{"name":"Basic"},"identity":{"type":"SystemAssigned"}}`, 400, "PropertyNotSupported", "identity.type"},
		{"anonymous pull on Basic", http.MethodPut, registryPath(rg, "newregistry"), props(`{"anonymousPullEnabled":true}`), 400, "BadRequest", ""},
		{"enable anonymous pull on Basic", http.MethodPatch, registryPath(rg, "takenregistry"), `{"properties":{"anonymousPullEnabled":true}}`, 400, "BadRequest", ""},
		{"patch unknown sku", http.MethodPatch, registryPath(rg, "takenregistry"), `{"sku":{"name":"Classic"}}`, 400, "InvalidSku", "sku.name"},
		{"patch missing", http.MethodPatch, registryPath(rg, "missingregistry"), `{"tags":{}}`, 404, "ResourceNotFound", ""},
		{"get in the wrong group", http.MethodGet, registryPath(other, "takenregistry"), "", 404, "ResourceNotFound", ""},
		{"admin disabled", http.MethodPost, actionPath(rg, "noadmin", "listCredentials"), "", 400, "UnAuthorizedForCredentialOperations", "noadmin"},
		{"bad password name", http.MethodPost, actionPath(rg, "noadmin", "regenerateCredential"), `{"name":"password3"}`, 400, "InvalidPasswordName", "name"},
		{"regenerate without body", http.MethodPost, actionPath(rg, "noadmin", "regenerateCredential"), "", 400, "InvalidRequestContent", ""},
		{"credentials of a missing registry", http.MethodPost, actionPath(rg, "missingregistry", "listCredentials"), "", 404, "ResourceNotFound", ""},
		{"credentials by GET", http.MethodGet, actionPath(rg, "noadmin", "listCredentials"), "", 405, "MethodNotAllowed", ""},
		{"name check of another type", http.MethodPost, checkName, `{"name":"abcde","type":"Microsoft.Storage/storageAccounts"}`, 400, "InvalidResourceType", "type"},
		{"name check in a group", http.MethodPost, rg.String() + "/providers/Microsoft.ContainerRegistry/checkNameAvailability" + apiACR, `{"name":"abcde","type":"Microsoft.ContainerRegistry/registries"}`, 404, "InvalidResourceType", ""},
		{"name check by GET", http.MethodGet, checkName, "", 405, "MethodNotAllowed", ""},
		{"item outside a group", http.MethodGet, e.subPath() + "/providers/Microsoft.ContainerRegistry/registries/takenregistry" + apiACR, "", 404, "InvalidResourceType", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var body any
			if tc.body != "" {
				body = tc.body
			}
			r := e.do(t, tc.method, tc.path, tok, body)
			expect(t, r, tc.status, tc.code)
			var er arm.ErrorResponse
			r.decode(t, &er)
			if er.Error.Message == "" || er.Error.Target != tc.target {
				t.Errorf("error %+v, want target %q", er.Error, tc.target)
			}
		})
	}

	// Azure's defaults, as Terraform sends them, are accepted.
	defaults := `{"publicNetworkAccess":"Enabled","networkRuleBypassOptions":"AzureServices","zoneRedundancy":"Disabled",
		"dataEndpointEnabled":false,"encryption":{"status":"disabled"},"networkRuleSet":{"defaultAction":"Allow","ipRules":[]},
		"policies":{"quarantinePolicy":{"status":"disabled"},"trustPolicy":{"type":"Notary","status":"disabled"},
		"retentionPolicy":{"days":7,"status":"disabled"},"exportPolicy":{"status":"enabled"},
		"azureADAuthenticationAsArmPolicy":{"status":"enabled"}}}`
	r := e.do(t, http.MethodPut, registryPath(rg, "defaults"), tok, `{"location":"eastus","sku":{"name":"Basic"},"identity":{"type":"None"},"properties":`+defaults+`}`)
	expect(t, r, http.StatusCreated, "")
}

// The registry service is what the composition root plugs in.
var _ Registries = (*acr.Service)(nil)

// failingRegistries fails every list with an internal error.
type failingRegistries struct{ Registries }

func (failingRegistries) List(context.Context, string, string) ([]acr.Registry, error) {
	return nil, errdefs.Internalf(errors.New("disk on fire"), "list")
}

// TestRegistryInternalErrorIsOpaque checks that a failing service shows
// ARM's generic 500 and nothing of the cause.
func TestRegistryInternalErrorIsOpaque(t *testing.T) {
	e := newRegistryEnv(t, func(s *servertest.Env) Registries { return failingRegistries{newRegistryService(t, s)} })
	r := e.do(t, http.MethodGet, e.subPath()+"/providers/Microsoft.ContainerRegistry/registries"+apiACR, e.owner.token, nil)
	expect(t, r, http.StatusInternalServerError, "InternalServerError")
	if strings.Contains(string(r.body), "fire") {
		t.Fatalf("cause leaked: %s", r.body)
	}
}

// TestRegistryAuthorization checks each operation's action: Reader reads,
// AcrPull (a data-plane role) cannot, Contributor manages, and lists show
// only the registries a caller may read.
func TestRegistryAuthorization(t *testing.T) {
	e := newServiceRegistryEnv(t)
	rg, other := e.group(t, "rg"), e.group(t, "other")
	for _, p := range []string{registryPath(rg, "readable"), registryPath(rg, "hidden"), registryPath(other, "elsewhere")} {
		expect(t, e.do(t, http.MethodPut, p, e.owner.token, `{"location":"eastus","sku":{"name":"Basic"},"properties":{"adminUserEnabled":true}}`), http.StatusCreated, "")
	}
	readable := resourceid.ForResource(e.Subscription.ID, "rg", registryNamespace, "registries", "readable")
	reader := e.newActor(t, "reader", grant{rbac.ReaderID, readable})
	pull := e.newActor(t, "pull", grant{rbac.AcrPullID, rg})
	contributor := e.newActor(t, "contributor", grant{rbac.ContributorID, rg})
	subReader := e.newActor(t, "subreader", grant{rbac.ReaderID, e.SubscriptionScope()})
	nobody := e.newActor(t, "nobody")
	checkName := e.subPath() + "/providers/Microsoft.ContainerRegistry/checkNameAvailability" + apiACR
	nameBody := `{"name":"abcdef","type":"Microsoft.ContainerRegistry/registries"}`

	tests := []struct {
		name         string
		who          *actor
		method, path string
		body         string
		status       int
	}{
		{"reader gets", reader, http.MethodGet, registryPath(rg, "readable"), "", 200},
		{"reader cannot get another", reader, http.MethodGet, registryPath(rg, "hidden"), "", 403},
		{"reader cannot write", reader, http.MethodPatch, registryPath(rg, "readable"), `{"tags":{}}`, 403},
		{"reader cannot list credentials", reader, http.MethodPost, actionPath(rg, "readable", "listCredentials"), "", 403},
		{"reader cannot delete", reader, http.MethodDelete, registryPath(rg, "readable"), "", 403},
		{"acrpull cannot read the resource", pull, http.MethodGet, registryPath(rg, "readable"), "", 403},
		{"acrpull cannot list credentials", pull, http.MethodPost, actionPath(rg, "readable", "listCredentials"), "", 403},
		{"contributor creates", contributor, http.MethodPut, registryPath(rg, "byContributor"), `{"location":"eastus","sku":{"name":"Basic"}}`, 201},
		{"contributor lists credentials", contributor, http.MethodPost, actionPath(rg, "readable", "listCredentials"), "", 200},
		{"contributor regenerates", contributor, http.MethodPost, actionPath(rg, "readable", "regenerateCredential"), `{"name":"password"}`, 200},
		{"contributor cannot create elsewhere", contributor, http.MethodPut, registryPath(other, "outside"), `{"location":"eastus","sku":{"name":"Basic"}}`, 403},
		{"contributor deletes", contributor, http.MethodDelete, registryPath(rg, "hidden"), "", 200},
		{"no role cannot check names", nobody, http.MethodPost, checkName, nameBody, 403},
		{"subscription reader checks names", subReader, http.MethodPost, checkName, nameBody, 200},
		{"acrpull cannot check names", pull, http.MethodPost, checkName, nameBody, 403},
		{"a missing group is refused like an unreadable one", nobody, http.MethodGet, registryPath(resourceid.ForResourceGroup(e.Subscription.ID, "nope"), "x12345"), "", 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var body any
			if tc.body != "" {
				body = tc.body
			}
			r := e.do(t, tc.method, tc.path, tc.who.token, body)
			expect(t, r, tc.status, "")
			if tc.status == http.StatusForbidden && r.errorCode() != "AuthorizationFailed" {
				t.Fatalf("code %s", r.errorCode())
			}
		})
	}

	// Lists show what the caller may read.
	list := func(who *actor, path string) []string {
		t.Helper()
		r := e.do(t, http.MethodGet, path+"/providers/Microsoft.ContainerRegistry/registries"+apiACR, who.token, nil)
		expect(t, r, http.StatusOK, "")
		var l arm.List[arm.Registry]
		r.decode(t, &l)
		out := []string{}
		for _, reg := range l.Value {
			out = append(out, reg.Name)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		who  *actor
		path string
		want []string
	}{
		{"reader of one registry, subscription", reader, e.subPath(), []string{"readable"}},
		{"reader of one registry, group", reader, rg.String(), []string{"readable"}},
		{"contributor of a group, subscription", contributor, e.subPath(), []string{"byContributor", "readable"}},
		{"subscription reader", subReader, e.subPath(), []string{"byContributor", "elsewhere", "readable"}},
		{"acrpull", pull, rg.String(), []string{}},
	} {
		if got := list(tc.who, tc.path); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	// A caller with no role anywhere in the subscription is refused.
	r := e.do(t, http.MethodGet, e.subPath()+"/providers/Microsoft.ContainerRegistry/registries"+apiACR, nobody.token, nil)
	expect(t, r, http.StatusForbidden, "AuthorizationFailed")
}
