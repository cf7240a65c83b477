package cli

// The fake server's Microsoft.ContainerRegistry routes and the generic
// resource list az uses to find a registry's resource group, with the
// shapes of the ARM provider (api/arm registry types).

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"

	"github.com/cerulean/cerulean/api/arm"
)

type fakeRegistry struct {
	reg       arm.Registry
	passwords []arm.RegistryPassword
	lastBody  string // of the last PUT or PATCH
}

var (
	fakeRegistryPath = regexp.MustCompile(`(?i)^/subscriptions/[^/]+/resourceGroups/([^/]+)/providers/Microsoft\.ContainerRegistry/registries(?:/([^/]+)(?:/([^/]+))?)?$`)
	fakeRegistryList = regexp.MustCompile(`(?i)^/subscriptions/[^/]+/providers/Microsoft\.ContainerRegistry/registries$`)
	fakeNameCheck    = regexp.MustCompile(`(?i)^/subscriptions/[^/]+/providers/Microsoft\.ContainerRegistry/checkNameAvailability$`)
	fakeResources    = regexp.MustCompile(`(?i)^/subscriptions/[^/]+/resources$`)
	fakeRegistryName = regexp.MustCompile(`^[a-zA-Z0-9]{5,50}$`)
)

// serveACR answers the registry routes; false means the path is not one.
func (f *fakeAzure) serveACR(w http.ResponseWriter, r *http.Request, path string) bool {
	if f.registries == nil {
		f.registries = map[string]*fakeRegistry{}
	}
	switch {
	case fakeResources.MatchString(path):
		f.acrResources(w, r)
	case fakeNameCheck.MatchString(path):
		var in arm.RegistryNameCheckRequest
		_ = json.NewDecoder(r.Body).Decode(&in)
		switch _, taken := f.registries[strings.ToLower(in.Name)]; {
		case !fakeRegistryName.MatchString(in.Name):
			writeJSON(w, 200, arm.RegistryNameStatus{Reason: "Invalid", Message: "Registry name '" + in.Name + "' is invalid. Registry names may contain only alpha numeric characters and must be between 5 and 50 characters."})
		case taken:
			writeJSON(w, 200, arm.RegistryNameStatus{Reason: "AlreadyExists", Message: "The registry " + in.Name + " is already in use."})
		default:
			writeJSON(w, 200, arm.RegistryNameStatus{NameAvailable: true})
		}
	case fakeRegistryList.MatchString(path):
		f.acrList(w, "")
	case fakeRegistryPath.MatchString(path):
		m := fakeRegistryPath.FindStringSubmatch(path)
		group, ok := f.groups[strings.ToLower(m[1])]
		switch {
		case !ok:
			armError(w, 404, "ResourceGroupNotFound", "Resource group '"+m[1]+"' could not be found.")
		case m[2] == "":
			f.acrList(w, group.Name)
		case m[3] != "":
			f.acrAction(w, r, group, m[2], m[3])
		default:
			f.acrItem(w, r, group, m[2])
		}
	default:
		return false
	}
	return true
}

func (f *fakeAzure) acrResources(w http.ResponseWriter, r *http.Request) {
	out := []arm.GenericResource{}
	filter := r.URL.Query().Get("$filter")
	if filter == "" || strings.EqualFold(filter, "resourceType eq 'Microsoft.ContainerRegistry/registries'") {
		for _, reg := range f.sortedRegistries("") {
			out = append(out, arm.GenericResource{ID: reg.reg.ID, Name: reg.reg.Name, Type: reg.reg.Type, Location: reg.reg.Location,
				SKU: &arm.SKU{Name: reg.reg.SKU.Name, Tier: reg.reg.SKU.Tier}, Tags: reg.reg.Tags})
		}
	}
	writeJSON(w, 200, arm.List[arm.GenericResource]{Value: out})
}

func (f *fakeAzure) sortedRegistries(group string) []*fakeRegistry {
	var out []*fakeRegistry
	for _, reg := range f.registries {
		if group == "" || strings.HasSuffix(strings.ToLower(reg.reg.ID[:strings.Index(reg.reg.ID, "/providers/")]), "/"+strings.ToLower(group)) {
			out = append(out, reg)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].reg.Name < out[j].reg.Name })
	return out
}

func (f *fakeAzure) acrList(w http.ResponseWriter, group string) {
	out := []arm.Registry{}
	for _, reg := range f.sortedRegistries(group) {
		out = append(out, reg.reg)
	}
	writeJSON(w, 200, arm.List[arm.Registry]{Value: out})
}

func fakeRegistryNotFound(w http.ResponseWriter, group, name string) {
	armError(w, 404, "ResourceNotFound", "The Resource 'Microsoft.ContainerRegistry/registries/"+name+
		"' under resource group '"+group+"' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix")
}

// lookup finds a registry of the group.
func (f *fakeAzure) lookupRegistry(group arm.ResourceGroup, name string) *fakeRegistry {
	reg, ok := f.registries[strings.ToLower(name)]
	if !ok || !strings.HasPrefix(strings.ToLower(reg.reg.ID), strings.ToLower(group.ID)+"/") {
		return nil
	}
	return reg
}

func (f *fakeAzure) acrItem(w http.ResponseWriter, r *http.Request, group arm.ResourceGroup, name string) {
	reg := f.lookupRegistry(group, name)
	body, _ := io.ReadAll(r.Body)
	switch r.Method {
	case http.MethodPut:
		var in arm.RegistryCreate
		_ = json.Unmarshal(body, &in)
		if reg = f.acrPut(w, group, name, reg, in); reg != nil {
			reg.lastBody = string(body)
		}
	case http.MethodGet:
		if reg == nil {
			fakeRegistryNotFound(w, group.Name, name)
			return
		}
		writeJSON(w, 200, reg.reg)
	case http.MethodPatch:
		if reg == nil {
			fakeRegistryNotFound(w, group.Name, name)
			return
		}
		reg.lastBody = string(body)
		var in arm.RegistryUpdateParameters
		_ = json.Unmarshal(body, &in)
		if in.SKU != nil {
			if !validSKU(in.SKU.Name) {
				armError(w, 400, "InvalidSku", "The SKU '"+in.SKU.Name+"' is not valid. Valid SKUs are Basic, Standard and Premium.")
				return
			}
			reg.reg.SKU = arm.SKU{Name: in.SKU.Name, Tier: in.SKU.Name}
		}
		if in.Tags != nil {
			reg.reg.Tags = in.Tags
		}
		if p := in.Properties; p != nil {
			if p.AdminUserEnabled != nil {
				reg.reg.Properties.AdminUserEnabled = *p.AdminUserEnabled
			}
			if p.AnonymousPullEnabled != nil {
				reg.reg.Properties.AnonymousPullEnabled = *p.AnonymousPullEnabled
			}
		}
		writeJSON(w, 200, reg.reg)
	case http.MethodDelete:
		if reg == nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		delete(f.registries, strings.ToLower(name))
		w.WriteHeader(http.StatusOK)
	}
}

func validSKU(s string) bool { return s == "Basic" || s == "Standard" || s == "Premium" }

func (f *fakeAzure) acrPut(w http.ResponseWriter, group arm.ResourceGroup, name string, reg *fakeRegistry, in arm.RegistryCreate) *fakeRegistry {
	if !fakeRegistryName.MatchString(name) {
		armError(w, 400, "InvalidRegistryName", "Registry name '"+name+"' is invalid. Registry names may contain only alpha numeric characters and must be between 5 and 50 characters.")
		return nil
	}
	if in.SKU == nil || !validSKU(in.SKU.Name) {
		armError(w, 400, "InvalidSku", "The SKU is not valid. Valid SKUs are Basic, Standard and Premium.")
		return nil
	}
	if _, taken := f.registries[strings.ToLower(name)]; taken && reg == nil {
		armError(w, 409, "RegistryNameNotAvailable", "The registry DNS name "+strings.ToLower(name)+
			".azurecr.localhost is already in use. You can check if the name is already claimed using following API: https://docs.microsoft.com/en-us/rest/api/containerregistry/registries/checknameavailability")
		return nil
	}
	admin := in.Properties != nil && in.Properties.AdminUserEnabled != nil && *in.Properties.AdminUserEnabled
	tags := in.Tags
	if tags == nil {
		tags = map[string]string{}
	}
	status := 200
	if reg == nil {
		status = 201
		created := fakeTime.Add(123456700)
		reg = &fakeRegistry{reg: arm.Registry{
			ID: group.ID + "/providers/Microsoft.ContainerRegistry/registries/" + name, Name: name,
			Type: "Microsoft.ContainerRegistry/registries", Location: in.Location,
			SystemData: &arm.SystemData{CreatedBy: fakeOwnerObject, CreatedByType: "Application", CreatedAt: created,
				LastModifiedBy: fakeOwnerObject, LastModifiedByType: "Application", LastModifiedAt: created},
			Properties: arm.RegistryProperties{
				LoginServer: strings.ToLower(name) + ".azurecr.localhost:8443", CreationDate: created, ProvisioningState: "Succeeded",
				Policies: arm.RegistryPolicies{
					QuarantinePolicy: &arm.PolicyStatus{Status: "disabled"}, TrustPolicy: &arm.TrustPolicy{Type: "Notary", Status: "disabled"},
					RetentionPolicy: &arm.RetentionPolicy{Days: 7, LastUpdatedTime: &created, Status: "disabled"},
					ExportPolicy:    &arm.PolicyStatus{Status: "enabled"}, AzureADAuthenticationAsArmPolicy: &arm.PolicyStatus{Status: "enabled"},
				},
				Encryption: arm.EncryptionProperty{Status: "disabled"}, DataEndpointHostNames: []string{}, PrivateEndpointConnections: []any{},
				PublicNetworkAccess: "Enabled", NetworkRuleBypassOptions: "AzureServices", ZoneRedundancy: "Disabled",
			},
		}}
		f.registries[strings.ToLower(name)] = reg
		reg.passwords = []arm.RegistryPassword{{Name: "password", Value: f.registryPassword()}, {Name: "password2", Value: f.registryPassword()}}
	}
	reg.reg.Tags, reg.reg.SKU = tags, arm.SKU{Name: in.SKU.Name, Tier: in.SKU.Name}
	reg.reg.Properties.AdminUserEnabled = admin
	writeJSON(w, status, reg.reg)
	return reg
}

func (f *fakeAzure) registryPassword() string {
	f.seq++
	return fmt.Sprintf("FakeAdminPassword%02d+abcdefghijklmnopqrstu", f.seq)
}

func (f *fakeAzure) acrAction(w http.ResponseWriter, r *http.Request, group arm.ResourceGroup, name, action string) {
	reg := f.lookupRegistry(group, name)
	if r.Method != http.MethodPost {
		armError(w, 405, "MethodNotAllowed", "The requested resource does not support http method '"+r.Method+"'.")
		return
	}
	if reg == nil {
		fakeRegistryNotFound(w, group.Name, name)
		return
	}
	if !reg.reg.Properties.AdminUserEnabled {
		armError(w, 400, "UnAuthorizedForCredentialOperations", "Cannot perform credential operations for "+reg.reg.ID+" as admin user is disabled.")
		return
	}
	switch strings.ToLower(action) {
	case "listcredentials":
	case "regeneratecredential":
		var in arm.RegenerateCredentialParameters
		_ = json.NewDecoder(r.Body).Decode(&in)
		for i := range reg.passwords {
			if reg.passwords[i].Name == in.Name {
				reg.passwords[i].Value = f.registryPassword()
			}
		}
	default:
		armError(w, 404, "InvalidResourceType", "The resource type could not be found.")
		return
	}
	writeJSON(w, 200, arm.RegistryListCredentialsResult{Username: reg.reg.Name, Passwords: reg.passwords})
}
