package cli

// fakeAzure is a small in-memory server for the wire protocol the CLI
// speaks: Entra's v2 token endpoint, the ARM subscription, resource group
// and Microsoft.Authorization routes, and the Graph slice. Responses use the
// shapes of captured Azure responses (reference/acr-entra.md §3, §5, §6).
// Identifiers and times are deterministic so transcripts are stable.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cerulean/cerulean/api/arm"
	"github.com/cerulean/cerulean/api/graph"
	"github.com/cerulean/cerulean/api/oauth2"
)

const (
	fakeTenant       = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	fakeSubscription = "0b1f6471-1bf0-4dda-aec3-111122223333"
	fakeOwnerAppID   = "11111111-1111-1111-1111-111111111111"
	fakeOwnerObject  = "22222222-2222-2222-2222-222222222222"
	fakeOwnerSecret  = "bootstrap-secret"
)

var fakeTime = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

type fakeApp struct {
	app       graph.Application
	passwords map[string]string // keyId -> secret
}

type fakeSP struct {
	sp        graph.ServicePrincipal
	passwords map[string]string
}

type fakeAzure struct {
	mu       sync.Mutex
	srv      *httptest.Server
	seq      int
	requests []string

	// Replication-delay knobs: fail this many creations first.
	spCreateFailures         int
	assignmentCreateFailures int

	groups      map[string]arm.ResourceGroup // lower-case name
	apps        []*fakeApp
	sps         []*fakeSP
	definitions []arm.RoleDefinition
	assignments []arm.RoleAssignment
	registries  map[string]*fakeRegistry // lower-case name; see acr_fake_test.go
	// registryDomain is the acrLoginServer suffix of the cloud metadata
	// (azurecr.localhost when empty).
	registryDomain string
	aci            *fakeACI   // container groups; see container_fake_test.go
	tasks          *fakeTasks // runs and their blobs; see acr_task_fake_test.go
}

func newFakeAzure() *fakeAzure {
	f := &fakeAzure{groups: map[string]arm.ResourceGroup{}, tasks: newFakeTasks()}
	owner := &fakeSP{sp: f.newSP(fakeOwnerObject, fakeOwnerAppID, "cerulean-bootstrap-owner"), passwords: map[string]string{"k0": fakeOwnerSecret}}
	f.sps = append(f.sps, owner)
	for _, d := range []struct{ name, guid, desc string }{
		{"Owner", "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "Grants full access to manage all resources, including the ability to assign roles in Azure RBAC."},
		{"Contributor", "b24988ac-6180-42a0-ab88-20f7382dd24c", "Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC."},
		{"Reader", "acdd72a7-3385-48ef-bd42-f606fba81ae7", "View all resources, but does not allow you to make any changes."},
		{"AcrPull", "7f951dda-4ed3-4680-a7ca-43fe172d538d", "acr pull"},
	} {
		f.definitions = append(f.definitions, arm.RoleDefinition{
			ID:   "/subscriptions/" + fakeSubscription + "/providers/Microsoft.Authorization/roleDefinitions/" + d.guid,
			Name: d.guid, Type: "Microsoft.Authorization/roleDefinitions",
			Properties: arm.RoleDefinitionProperties{
				RoleName: d.name, Type: "BuiltInRole", Description: d.desc, AssignableScopes: []string{"/"},
				Permissions: []arm.Permission{{Actions: []string{"*"}, NotActions: []string{}, DataActions: []string{}, NotDataActions: []string{}}},
				CreatedOn:   time.Date(2015, 2, 2, 21, 55, 9, 880000000, time.UTC), UpdatedOn: time.Date(2021, 11, 11, 20, 13, 47, 862000000, time.UTC),
			},
		})
	}
	f.assignments = append(f.assignments, f.newAssignment("/subscriptions/"+fakeSubscription, f.definitions[0].ID, fakeOwnerObject, "ServicePrincipal"))
	f.srv = newFakeTLSServer(f) // acr_repository_fake_test.go: also serves the registry data plane
	return f
}

func (f *fakeAzure) close() { f.aci.close(); f.srv.Close() }

// guid returns the next deterministic GUID.
func (f *fakeAzure) guid() string {
	f.seq++
	return fmt.Sprintf("aaaaaaaa-0000-0000-0000-%012d", f.seq)
}

func (f *fakeAzure) newSP(id, appID, name string) graph.ServicePrincipal {
	return graph.ServicePrincipal{
		ID: id, AccountEnabled: true, AppDisplayName: name, AppID: appID, AppOwnerOrganizationID: fakeTenant,
		CreatedDateTime: fakeTime, DisplayName: name, ServicePrincipalNames: []string{appID},
		ServicePrincipalType: "Application", SignInAudience: "AzureADMyOrg",
		AlternativeNames: []string{}, NotificationEmailAddresses: []string{}, ReplyURLs: []string{}, Tags: []string{},
		AddIns: []any{}, AppRoles: []any{}, KeyCredentials: []any{}, OAuth2PermissionScopes: []any{},
		PasswordCredentials: []graph.PasswordCredential{}, ResourceSpecificApplicationPermissions: []any{},
	}
}

func (f *fakeAzure) newAssignment(scope, roleID, principal, ptype string) arm.RoleAssignment {
	name := f.guid()
	return arm.RoleAssignment{
		ID: scope + "/providers/Microsoft.Authorization/roleAssignments/" + name, Name: name,
		Type: "Microsoft.Authorization/roleAssignments",
		Properties: arm.RoleAssignmentProperties{
			RoleDefinitionID: roleID, PrincipalID: principal, PrincipalType: ptype, Scope: scope,
			CreatedOn: fakeTime.Add(123456 * time.Microsecond), UpdatedOn: fakeTime.Add(123456 * time.Microsecond),
			CreatedBy: strPtr(fakeOwnerObject),
		},
	}
}

// ---- responses ----------------------------------------------------------------

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func armError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, arm.ErrorResponse{Error: arm.ErrorDetail{Code: code, Message: msg}})
}

func graphError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, graph.Error{Error: graph.ErrorBody{Code: code, Message: msg,
		InnerError: graph.InnerError{Date: "2024-05-01T12:00:00", RequestID: "r", ClientRequestID: "c"}}})
}

func (f *fakeAzure) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r.Method+" "+r.URL.RequestURI())
	path := r.URL.Path
	switch {
	case strings.HasSuffix(path, "/oauth2/v2.0/token"):
		f.token(w, r)
		return
	case path == "/metadata/endpoints":
		domain := f.registryDomain
		if domain == "" {
			domain = strings.TrimPrefix(fakeRegistryDomain, ".")
		}
		writeJSON(w, 200, arm.CloudMetadata{Name: "Cerulean", ResourceManager: f.srv.URL + "/",
			Suffixes: map[string]string{"acrLoginServer": domain}})
		return
	case strings.HasPrefix(path, "/v1.0/"):
		if r.Header.Get("Authorization") == "" {
			graphError(w, 401, "InvalidAuthenticationToken", "Access token is empty.")
			return
		}
		f.graph(w, r, strings.TrimPrefix(path, "/v1.0"))
		return
	}
	if r.Header.Get("Authorization") == "" {
		armError(w, 401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.")
		return
	}
	if r.URL.Query().Get("api-version") == "" {
		armError(w, 400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.")
		return
	}
	if i := strings.Index(strings.ToLower(path), "/providers/microsoft.authorization/"); i >= 0 {
		f.authorization(w, r, path[:i], path[i+len("/providers/microsoft.authorization/"):])
		return
	}
	if f.serveTasks(w, r, path) {
		return
	}
	if f.serveACR(w, r, path) {
		return
	}
	if f.serveContainerGroups(w, r, path) {
		return
	}
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case path == "/subscriptions":
		writeJSON(w, 200, arm.List[arm.Subscription]{Value: []arm.Subscription{{
			ID: "/subscriptions/" + fakeSubscription, AuthorizationSource: "RoleBased", ManagedByTenants: []arm.ManagedByTenant{},
			SubscriptionID: fakeSubscription, TenantID: fakeTenant, DisplayName: "Cerulean", State: "Enabled",
		}}})
	case path == "/tenants":
		writeJSON(w, 200, arm.List[arm.Tenant]{Value: []arm.Tenant{{ID: "/tenants/" + fakeTenant, TenantID: fakeTenant,
			DisplayName: "Cerulean", DefaultDomain: "cerulean.onmicrosoft.com", Domains: []string{"cerulean.onmicrosoft.com"}, TenantType: "AAD"}}})
	case len(parts) == 3 && strings.EqualFold(parts[2], "resourcegroups"):
		var out []arm.ResourceGroup
		filter := r.URL.Query().Get("$filter")
		for _, g := range f.groups {
			if m := regexp.MustCompile(`tagname eq '([^']*)'`).FindStringSubmatch(filter); m != nil {
				if _, ok := g.Tags[m[1]]; !ok {
					continue
				}
			}
			out = append(out, g)
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
		writeJSON(w, 200, arm.List[arm.ResourceGroup]{Value: out})
	case len(parts) == 4 && strings.EqualFold(parts[2], "resourcegroups"):
		f.group(w, r, parts[3])
	case strings.HasPrefix(path, "/operations/"):
		w.WriteHeader(http.StatusOK)
	default:
		armError(w, 404, "InvalidResourceType", "The resource type could not be found.")
	}
}

func (f *fakeAzure) token(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	id, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	ok := false
	for _, sp := range f.sps {
		if sp.sp.AppID == id {
			for _, s := range sp.passwords {
				ok = ok || s == secret
			}
		}
	}
	for _, a := range f.apps {
		if a.app.AppID == id {
			for _, s := range a.passwords {
				ok = ok || s == secret
			}
		}
	}
	if !ok {
		writeJSON(w, 401, oauth2.ErrorResponse{Error: "invalid_client",
			ErrorDescription: "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '" + id + "'. Trace ID: 0000 Correlation ID: 0000 Timestamp: 2024-05-01 12:00:00Z",
			ErrorCodes:       []int{7000215}})
		return
	}
	scope := r.PostForm.Get("scope")
	writeJSON(w, 200, oauth2.TokenResponse{TokenType: "Bearer", ExpiresIn: 3599, ExtExpiresIn: 3599, AccessToken: "token-for-" + id + "-" + scope})
}

func (f *fakeAzure) group(w http.ResponseWriter, r *http.Request, name string) {
	key := strings.ToLower(name)
	if key == "forbidden" {
		armError(w, 403, "AuthorizationFailed", "The client '"+fakeOwnerAppID+"' with object id '"+fakeOwnerObject+
			"' does not have authorization to perform action 'Microsoft.Resources/subscriptions/resourcegroups/read' over scope '/subscriptions/"+
			fakeSubscription+"/resourcegroups/forbidden' or the scope is invalid. If access was recently granted, please refresh your credentials.")
		return
	}
	g, exists := f.groups[key]
	switch r.Method {
	case http.MethodPut:
		var body arm.ResourceGroupPut
		_ = json.NewDecoder(r.Body).Decode(&body)
		status := 201
		if exists {
			status = 200
			name = g.Name
		}
		g = arm.ResourceGroup{ID: "/subscriptions/" + fakeSubscription + "/resourceGroups/" + name, Name: name,
			Type: "Microsoft.Resources/resourceGroups", Location: body.Location, ManagedBy: body.ManagedBy, Tags: body.Tags,
			Properties: arm.ResourceGroupProperties{ProvisioningState: "Succeeded"}}
		f.groups[key] = g
		writeJSON(w, status, g)
		return
	}
	if !exists {
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		armError(w, 404, "ResourceGroupNotFound", "Resource group '"+name+"' could not be found.")
		return
	}
	switch r.Method {
	case http.MethodHead:
		w.WriteHeader(http.StatusNoContent)
	case http.MethodGet:
		writeJSON(w, 200, g)
	case http.MethodDelete:
		delete(f.groups, key)
		w.Header().Set("Location", f.srv.URL+"/operations/del-"+key+"?api-version=2021-04-01")
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(http.StatusAccepted)
	default:
		armError(w, 405, "MethodNotAllowed", "method not allowed")
	}
}

var roleNameFilter = regexp.MustCompile(`^roleName eq '(.*)'$`)

func (f *fakeAzure) authorization(w http.ResponseWriter, r *http.Request, scope, rest string) {
	kind, name, _ := strings.Cut(rest, "/")
	filter := r.URL.Query().Get("$filter")
	switch strings.ToLower(kind) {
	case "roledefinitions":
		var out []arm.RoleDefinition
		for _, d := range f.definitions {
			if m := roleNameFilter.FindStringSubmatch(filter); m != nil && !strings.EqualFold(d.Properties.RoleName, m[1]) {
				continue
			}
			if name != "" && d.Name != name {
				continue
			}
			out = append(out, d)
		}
		if name != "" {
			if len(out) == 0 {
				armError(w, 404, "RoleDefinitionDoesNotExist", "The specified role definition with ID '"+name+"' does not exist.")
				return
			}
			writeJSON(w, 200, out[0])
			return
		}
		writeJSON(w, 200, arm.List[arm.RoleDefinition]{Value: out})
	case "roleassignments":
		switch r.Method {
		case http.MethodPut:
			var body arm.RoleAssignmentCreate
			_ = json.NewDecoder(r.Body).Decode(&body)
			p := body.Properties
			for _, a := range f.assignments {
				if strings.EqualFold(a.Properties.Scope, scope) && a.Properties.PrincipalID == p.PrincipalID && a.Properties.RoleDefinitionID == p.RoleDefinitionID {
					armError(w, 409, "RoleAssignmentExists", "The role assignment already exists.")
					return
				}
			}
			if f.assignmentCreateFailures > 0 || f.spByID(p.PrincipalID) == nil {
				if f.assignmentCreateFailures > 0 {
					f.assignmentCreateFailures--
				}
				armError(w, 400, "PrincipalNotFound", "Principal "+p.PrincipalID+" does not exist in the directory "+fakeTenant+".")
				return
			}
			ra := f.newAssignment(scope, p.RoleDefinitionID, p.PrincipalID, p.PrincipalType)
			f.seq-- // the name comes from the client
			ra.Name = name
			ra.ID = scope + "/providers/Microsoft.Authorization/roleAssignments/" + name
			f.assignments = append(f.assignments, ra)
			writeJSON(w, 201, ra)
		case http.MethodGet:
			var out []arm.RoleAssignment
			for _, a := range f.assignments {
				s := a.Properties.Scope
				if filter == "atScope()" && !(strings.EqualFold(s, scope) || strings.HasPrefix(strings.ToLower(scope), strings.ToLower(s)+"/")) {
					continue
				}
				if m := regexp.MustCompile(`principalId eq '([^']*)'`).FindStringSubmatch(filter); m != nil && a.Properties.PrincipalID != m[1] {
					continue
				}
				out = append(out, a)
			}
			writeJSON(w, 200, arm.List[arm.RoleAssignment]{Value: out})
		case http.MethodDelete:
			for i, a := range f.assignments {
				if a.Name == name {
					f.assignments = append(f.assignments[:i], f.assignments[i+1:]...)
					writeJSON(w, 200, a)
					return
				}
			}
			w.WriteHeader(http.StatusNoContent)
		}
	default:
		armError(w, 404, "InvalidResourceType", "The resource type could not be found.")
	}
}

func (f *fakeAzure) spByID(id string) *fakeSP {
	for _, s := range f.sps {
		if s.sp.ID == id {
			return s
		}
	}
	return nil
}

var (
	filterEq         = regexp.MustCompile(`^(displayName|appId) eq '(.*)'$`)
	filterStartsWith = regexp.MustCompile(`^startswith\(displayName,'(.*)'\)$`)
	filterSPN        = regexp.MustCompile(`^servicePrincipalNames/any\(c:c eq '(.*)'\)$`)
)

// matchFilter evaluates the few OData filters az sends.
func matchFilter(filter string, fields map[string]string, spns []string) bool {
	if filter == "" {
		return true
	}
	for _, part := range strings.Split(filter, " and ") {
		switch {
		case filterEq.MatchString(part):
			m := filterEq.FindStringSubmatch(part)
			if fields[m[1]] != m[2] {
				return false
			}
		case filterStartsWith.MatchString(part):
			m := filterStartsWith.FindStringSubmatch(part)
			if !strings.HasPrefix(strings.ToLower(fields["displayName"]), strings.ToLower(m[1])) {
				return false
			}
		case filterSPN.MatchString(part):
			m := filterSPN.FindStringSubmatch(part)
			found := false
			for _, n := range spns {
				found = found || n == m[1]
			}
			if !found {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func notFoundGraph(w http.ResponseWriter, id string) {
	graphError(w, 404, "Request_ResourceNotFound", "Resource '"+id+"' does not exist or one of its queried reference-property objects are not present.")
}

func (f *fakeAzure) graph(w http.ResponseWriter, r *http.Request, path string) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	filter := r.URL.Query().Get("$filter")
	ctx := "https://graph.microsoft.com/v1.0/$metadata#"
	switch parts[0] {
	case "applications":
		if len(parts) == 1 {
			switch r.Method {
			case http.MethodGet:
				out := []graph.Application{}
				for _, a := range f.apps {
					if matchFilter(filter, map[string]string{"displayName": a.app.DisplayName, "appId": a.app.AppID}, nil) {
						out = append(out, a.app)
					}
				}
				writeJSON(w, 200, graph.List[graph.Application]{Context: ctx + "applications", Value: out})
			case http.MethodPost:
				var in graph.ApplicationInput
				_ = json.NewDecoder(r.Body).Decode(&in)
				a := graph.Application{ID: f.guid(), AppID: f.guid(), CreatedDateTime: fakeTime, DisplayName: *in.DisplayName,
					IdentifierURIs: []string{}, PublisherDomain: "cerulean.onmicrosoft.com", SignInAudience: "AzureADMyOrg",
					Tags: []string{}, AddIns: []any{}, AppRoles: []any{}, KeyCredentials: []any{}, PasswordCredentials: []graph.PasswordCredential{},
					RequiredResourceAccess: []any{}}
				f.apps = append(f.apps, &fakeApp{app: a, passwords: map[string]string{}})
				a.ODataContext = ctx + "applications/$entity"
				writeJSON(w, 201, a)
			}
			return
		}
		var app *fakeApp
		for _, a := range f.apps {
			if a.app.ID == parts[1] {
				app = a
			}
		}
		if app == nil {
			notFoundGraph(w, parts[1])
			return
		}
		if len(parts) == 3 {
			f.password(w, r, parts[2], &app.app.PasswordCredentials, app.passwords)
			return
		}
		switch r.Method {
		case http.MethodGet:
			out := app.app
			out.ODataContext = ctx + "applications/$entity"
			writeJSON(w, 200, out)
		case http.MethodPatch:
			var in graph.ApplicationInput
			_ = json.NewDecoder(r.Body).Decode(&in)
			if in.DisplayName != nil {
				app.app.DisplayName = *in.DisplayName
			}
			w.WriteHeader(http.StatusNoContent)
		case http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
		}
	case "servicePrincipals":
		if len(parts) == 1 {
			switch r.Method {
			case http.MethodGet:
				out := []graph.ServicePrincipal{}
				for _, s := range f.sps {
					if matchFilter(filter, map[string]string{"displayName": s.sp.DisplayName, "appId": s.sp.AppID}, s.sp.ServicePrincipalNames) {
						out = append(out, s.sp)
					}
				}
				writeJSON(w, 200, graph.List[graph.ServicePrincipal]{Context: ctx + "servicePrincipals", Value: out})
			case http.MethodPost:
				var in graph.ServicePrincipalInput
				_ = json.NewDecoder(r.Body).Decode(&in)
				var app *fakeApp
				for _, a := range f.apps {
					if in.AppID != nil && a.app.AppID == *in.AppID {
						app = a
					}
				}
				if f.spCreateFailures > 0 {
					f.spCreateFailures--
					app = nil
				}
				if app == nil {
					graphError(w, 400, "Request_BadRequest", "The appId '"+*in.AppID+"' of the service principal does not reference a valid application object.")
					return
				}
				s := &fakeSP{sp: f.newSP(f.guid(), app.app.AppID, app.app.DisplayName), passwords: map[string]string{}}
				f.sps = append(f.sps, s)
				out := s.sp
				out.ODataContext = ctx + "servicePrincipals/$entity"
				writeJSON(w, 201, out)
			}
			return
		}
		sp := f.spByID(parts[1])
		if sp == nil {
			notFoundGraph(w, parts[1])
			return
		}
		if len(parts) == 3 {
			f.password(w, r, parts[2], &sp.sp.PasswordCredentials, sp.passwords)
			return
		}
		switch r.Method {
		case http.MethodGet:
			out := sp.sp
			out.ODataContext = ctx + "servicePrincipals/$entity"
			writeJSON(w, 200, out)
		case http.MethodDelete:
			for i, s := range f.sps {
				if s == sp {
					f.sps = append(f.sps[:i], f.sps[i+1:]...)
				}
			}
			w.WriteHeader(http.StatusNoContent)
		}
	case "directoryObjects":
		var in graph.GetByIDsRequest
		_ = json.NewDecoder(r.Body).Decode(&in)
		var out []map[string]any
		for _, id := range in.IDs {
			if s := f.spByID(id); s != nil {
				out = append(out, map[string]any{"@odata.type": "#microsoft.graph.servicePrincipal", "id": s.sp.ID,
					"displayName": s.sp.DisplayName, "appId": s.sp.AppID, "servicePrincipalNames": s.sp.ServicePrincipalNames})
			}
		}
		writeJSON(w, 200, map[string]any{"@odata.context": ctx + "directoryObjects", "value": out})
	case "users":
		writeJSON(w, 200, map[string]any{"@odata.context": ctx + "users", "value": []any{}})
	default:
		graphError(w, 400, "BadRequest", "Resource not found for the segment '"+parts[0]+"'.")
	}
}

func (f *fakeAzure) password(w http.ResponseWriter, r *http.Request, action string, creds *[]graph.PasswordCredential, secrets map[string]string) {
	switch action {
	case "addPassword":
		var in graph.AddPasswordRequest
		_ = json.NewDecoder(r.Body).Decode(&in)
		keyID := f.guid()
		secret := fmt.Sprintf("Fake8Q~secret%d", f.seq)
		hint := secret[:3]
		pc := graph.PasswordCredential{DisplayName: in.PasswordCredential.DisplayName, EndDateTime: in.PasswordCredential.EndDateTime,
			Hint: &hint, KeyID: &keyID, StartDateTime: in.PasswordCredential.StartDateTime}
		*creds = append(*creds, pc)
		secrets[keyID] = secret
		pc.SecretText = &secret
		writeJSON(w, 200, pc)
	case "removePassword":
		var in graph.RemovePasswordRequest
		_ = json.NewDecoder(r.Body).Decode(&in)
		kept := (*creds)[:0]
		for _, c := range *creds {
			if c.KeyID == nil || *c.KeyID != in.KeyID {
				kept = append(kept, c)
			}
		}
		*creds = kept
		delete(secrets, in.KeyID)
		w.WriteHeader(http.StatusNoContent)
	default:
		notFoundGraph(w, action)
	}
}

// requestLog returns the requests so far with the query decoded.
func (f *fakeAzure) requestLog() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, len(f.requests))
	for i, r := range f.requests {
		if u, err := url.QueryUnescape(r); err == nil {
			r = u
		}
		out[i] = r
	}
	return out
}
