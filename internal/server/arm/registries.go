package arm

// Microsoft.ContainerRegistry/registries: the management plane of Azure
// Container Registry, plugged into the router as a ResourceType.
//
//	PUT    …/registries/{name}                      registries/write   201 created, 200 updated
//	GET    …/registries/{name}                      registries/read    200
//	PATCH  …/registries/{name}                      registries/write   200
//	DELETE …/registries/{name}                      registries/delete  200, 204 when absent
//	GET    {group|subscription}/…/registries        registries/read    200, the readable ones
//	POST   …/registries/{name}/listCredentials      registries/listCredentials/action
//	POST   …/registries/{name}/regenerateCredential registries/regenerateCredential/action
//	POST   /subscriptions/{s}/providers/Microsoft.ContainerRegistry/checkNameAvailability
//	                                                checkNameAvailability/read
//
// Every operation completes before the answer, which always carries
// provisioningState "Succeeded" and no polling headers, so the Azure SDKs'
// pollers finish at once. Settings Cerulean cannot honour (private
// networking, customer-managed keys, zone redundancy, managed identities,
// quarantine/trust/retention policies) are refused when a request asks for
// them, rather than silently ignored: a caller who asks for a closed
// registry must not get an open one.

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/cerulean/cerulean/api/arm"
	"github.com/cerulean/cerulean/internal/errdefs"
	acr "github.com/cerulean/cerulean/internal/registry"
	"github.com/cerulean/cerulean/internal/resourceid"
	"github.com/cerulean/cerulean/internal/server"
)

// Registries is the part of registry.Service the ARM provider calls.
type Registries interface {
	Create(ctx context.Context, in acr.CreateInput) (acr.Registry, bool, error)
	Get(ctx context.Context, group resourceid.ID, name string) (acr.Registry, error)
	Update(ctx context.Context, group resourceid.ID, name string, in acr.UpdateInput) (acr.Registry, error)
	Delete(ctx context.Context, group resourceid.ID, name string) error
	List(ctx context.Context, subscriptionID, group string) ([]acr.Registry, error)
	CheckName(ctx context.Context, name string) (acr.NameAvailability, error)
	Credentials(ctx context.Context, group resourceid.ID, name string) (acr.Credentials, error)
	RegenerateCredential(ctx context.Context, group resourceid.ID, name, passwordName string) (acr.Credentials, error)
}

// The Microsoft.ContainerRegistry actions (Azure's provider operations).
const (
	registryNamespace     = "Microsoft.ContainerRegistry"
	registryType          = acr.ResourceType // registryNamespace + "/registries"
	actionRegistryRead    = registryType + "/read"
	actionRegistryWrite   = registryType + "/write"
	actionRegistryDelete  = registryType + "/delete"
	actionListCredentials = registryType + "/listCredentials/action"
	actionRegenerateCred  = registryType + "/regenerateCredential/action"
	actionCheckName       = registryNamespace + "/checkNameAvailability/read"
)

// RegistriesTypes registers Microsoft.ContainerRegistry/registries (and
// the provider's checkNameAvailability) served by svc.
func RegistriesTypes(svc Registries) []ResourceType {
	p := registriesProvider{svc: svc}
	return []ResourceType{
		{
			Namespace: registryNamespace, Type: "registries",
			Item: Methods{
				http.MethodGet:    {Action: actionRegistryRead, Auth: CheckAction, Serve: p.get},
				http.MethodPut:    {Action: actionRegistryWrite, Auth: CheckAction, Serve: p.put},
				http.MethodPatch:  {Action: actionRegistryWrite, Auth: CheckAction, Serve: p.patch},
				http.MethodDelete: {Action: actionRegistryDelete, Auth: CheckAction, Serve: p.delete},
			},
			Collection: Methods{http.MethodGet: {Action: actionRegistryRead, Auth: FilterItems, Serve: p.list}},
			Actions: map[string]Op{
				"listCredentials":      {Action: actionListCredentials, Auth: CheckAction, Serve: p.listCredentials},
				"regenerateCredential": {Action: actionRegenerateCred, Auth: CheckAction, Serve: p.regenerateCredential},
			},
		},
		{
			// POST /subscriptions/{s}/providers/Microsoft.ContainerRegistry/checkNameAvailability
			// routes as a collection of this pseudo-type.
			Namespace: registryNamespace, Type: "checkNameAvailability",
			Collection: Methods{http.MethodPost: {Action: actionCheckName, Auth: CheckAction, Serve: p.checkName}},
		},
	}
}

type registriesProvider struct{ svc Registries }

// ---- handlers ---------------------------------------------------------------

// get serves GET …/registries/{name}.
func (p registriesProvider) get(ctx context.Context, w http.ResponseWriter, c *Call) error {
	r, err := p.svc.Get(ctx, c.Scope, c.Name)
	if err != nil {
		return err
	}
	server.WriteJSON(w, http.StatusOK, registryWire(r))
	return nil
}

// put serves PUT …/registries/{name}: 201 when created, 200 when the
// registry existed in this group and its updatable fields were replaced.
// Read-only fields echoed from a GET are ignored.
func (p registriesProvider) put(ctx context.Context, w http.ResponseWriter, c *Call) error {
	var body arm.RegistryCreate
	if err := server.DecodeJSON(c.Request, &body, false); err != nil {
		return err
	}
	if body.SKU == nil || body.SKU.Name == "" {
		return acr.ErrInvalidSKU.WithMessage("The 'sku' property is required to create a container registry.").WithTarget("sku")
	}
	if err := checkIdentity(body.Identity); err != nil {
		return err
	}
	in := acr.CreateInput{
		Group: c.Scope, Name: c.Name, Location: body.Location, SKU: body.SKU.Name,
		Tags: body.Tags, CreatedBy: c.Caller.ObjectID,
	}
	if props := body.Properties; props != nil {
		if err := checkUnsupported(props); err != nil {
			return err
		}
		in.AdminUserEnabled = props.AdminUserEnabled != nil && *props.AdminUserEnabled
		in.AnonymousPullEnabled = props.AnonymousPullEnabled != nil && *props.AnonymousPullEnabled
	}
	r, created, err := p.svc.Create(ctx, in)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	server.WriteJSON(w, status, registryWire(r))
	return nil
}

// patch serves PATCH …/registries/{name}: sku, tags (replaced when
// present), adminUserEnabled and anonymousPullEnabled.
func (p registriesProvider) patch(ctx context.Context, w http.ResponseWriter, c *Call) error {
	var body arm.RegistryUpdateParameters
	if err := server.DecodeJSON(c.Request, &body, false); err != nil {
		return err
	}
	if err := checkIdentity(body.Identity); err != nil {
		return err
	}
	in := acr.UpdateInput{Tags: body.Tags, SetTags: body.Tags != nil, ChangedBy: c.Caller.ObjectID}
	if body.SKU != nil {
		if body.SKU.Name == "" {
			return acr.ErrInvalidSKU.WithMessage("The 'sku.name' property is required to change the SKU.").WithTarget("sku.name")
		}
		in.SKU = &body.SKU.Name
	}
	if props := body.Properties; props != nil {
		if err := checkUnsupported(props); err != nil {
			return err
		}
		in.AdminUserEnabled, in.AnonymousPullEnabled = props.AdminUserEnabled, props.AnonymousPullEnabled
	}
	r, err := p.svc.Update(ctx, c.Scope, c.Name, in)
	if err != nil {
		return err
	}
	server.WriteJSON(w, http.StatusOK, registryWire(r))
	return nil
}

// delete serves DELETE …/registries/{name}: the registry and everything
// in it go at once (200); a registry that is not there is 204, as ARM
// answers for an absent resource.
func (p registriesProvider) delete(ctx context.Context, w http.ResponseWriter, c *Call) error {
	err := p.svc.Delete(ctx, c.Scope, c.Name)
	if errors.Is(err, acr.ErrRegistryNotFound) {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// list serves GET {subscription|group}/providers/Microsoft.ContainerRegistry/registries.
// A caller that cannot read the whole scope sees the registries it can read.
func (p registriesProvider) list(ctx context.Context, w http.ResponseWriter, c *Call) error {
	rs, err := p.svc.List(ctx, c.Scope.SubscriptionID, c.Scope.ResourceGroup)
	if err != nil {
		return err
	}
	out := []arm.Registry{}
	for _, r := range rs {
		if ok, err := c.Readable(ctx, actionRegistryRead, r.ID); err != nil {
			return err
		} else if !ok {
			continue
		}
		out = append(out, registryWire(r))
	}
	server.WriteJSON(w, http.StatusOK, arm.List[arm.Registry]{Value: out})
	return nil
}

// listCredentials serves POST …/registries/{name}/listCredentials. The
// body, if any, is ignored.
func (p registriesProvider) listCredentials(ctx context.Context, w http.ResponseWriter, c *Call) error {
	cred, err := p.svc.Credentials(ctx, c.Scope, c.Name)
	if err != nil {
		return err
	}
	writeCredentials(w, cred)
	return nil
}

// regenerateCredential serves POST …/registries/{name}/regenerateCredential
// with {"name":"password"|"password2"}.
func (p registriesProvider) regenerateCredential(ctx context.Context, w http.ResponseWriter, c *Call) error {
	var body arm.RegenerateCredentialParameters
	if err := server.DecodeJSON(c.Request, &body, true); err != nil {
		return err
	}
	cred, err := p.svc.RegenerateCredential(ctx, c.Scope, c.Name, body.Name)
	if err != nil {
		return err
	}
	writeCredentials(w, cred)
	return nil
}

// checkName serves POST /subscriptions/{s}/providers/Microsoft.ContainerRegistry/checkNameAvailability.
// Registry names are global, so the answer covers every subscription.
func (p registriesProvider) checkName(ctx context.Context, w http.ResponseWriter, c *Call) error {
	if c.Scope.Level() != resourceid.Subscription {
		return errUnknownType(registryNamespace, "checkNameAvailability", c.APIVersion)
	}
	var body arm.RegistryNameCheckRequest
	if err := server.DecodeJSON(c.Request, &body, false); err != nil {
		return err
	}
	if !equalFold(body.Type, registryType) {
		return errdefs.Newf(errdefs.InvalidArgument, "InvalidResourceType",
			"The resource type '%s' is not valid. The only supported type is '%s'.", clip(body.Type), registryType).WithTarget("type")
	}
	st, err := p.svc.CheckName(ctx, body.Name)
	if err != nil {
		return err
	}
	out := arm.RegistryNameStatus{NameAvailable: st.Available}
	if !st.Available {
		out.Reason, out.Message = st.Reason, st.Message
	}
	server.WriteJSON(w, http.StatusOK, out)
	return nil
}

// ---- validation -------------------------------------------------------------

const reasonPropertyNotSupported = "PropertyNotSupported"

func errNotSupported(property, value string) error {
	return errdefs.Newf(errdefs.InvalidArgument, reasonPropertyNotSupported,
		"The value '%s' of property '%s' is not supported by this registry service.", clip(value), property).WithTarget(property)
}

// checkIdentity refuses managed identities: Cerulean issues none.
func checkIdentity(id *arm.RegistryIdentity) error {
	if id == nil || id.Type == "" || equalFold(id.Type, "None") {
		return nil
	}
	return errNotSupported("identity.type", id.Type)
}

// checkUnsupported refuses settings Cerulean cannot honour; Azure's
// defaults, which clients such as Terraform send explicitly, pass.
func checkUnsupported(p *arm.RegistryCreateProperties) error {
	var err error
	need := func(property string, v *string, want string) {
		if err == nil && v != nil && !equalFold(*v, want) {
			err = errNotSupported(property, *v)
		}
	}
	need("properties.publicNetworkAccess", p.PublicNetworkAccess, "Enabled")
	need("properties.networkRuleBypassOptions", p.NetworkRuleBypassOptions, "AzureServices")
	need("properties.zoneRedundancy", p.ZoneRedundancy, "Disabled")
	if err == nil && p.DataEndpointEnabled != nil && *p.DataEndpointEnabled {
		err = errNotSupported("properties.dataEndpointEnabled", "true")
	}
	if n := p.NetworkRuleSet; n != nil {
		need("properties.networkRuleSet.defaultAction", &n.DefaultAction, "Allow")
		if err == nil && len(n.IPRules) > 0 {
			err = errNotSupported("properties.networkRuleSet.ipRules", n.IPRules[0].Value)
		}
	}
	if e := p.Encryption; e != nil {
		need("properties.encryption.status", &e.Status, "disabled")
	}
	if pol := p.Policies; pol != nil {
		status := func(ps *arm.PolicyStatus) *string {
			if ps == nil {
				return nil
			}
			return &ps.Status
		}
		need("properties.policies.quarantinePolicy.status", status(pol.QuarantinePolicy), "disabled")
		need("properties.policies.exportPolicy.status", status(pol.ExportPolicy), "enabled")
		need("properties.policies.azureADAuthenticationAsArmPolicy.status", status(pol.AzureADAuthenticationAsArmPolicy), "enabled")
		if t := pol.TrustPolicy; t != nil {
			need("properties.policies.trustPolicy.status", &t.Status, "disabled")
		}
		if r := pol.RetentionPolicy; r != nil {
			need("properties.policies.retentionPolicy.status", &r.Status, "disabled")
		}
	}
	return err
}

// ---- wire forms -------------------------------------------------------------

// registryWire renders a registry as ARM's Registry resource.
func registryWire(r acr.Registry) arm.Registry {
	tags := r.Tags
	if tags == nil {
		tags = map[string]string{}
	}
	state := r.ProvisioningState
	if state == "" {
		state = "Succeeded"
	}
	created := r.CreatedAt.UTC()
	out := arm.Registry{
		ID: r.ID.String(), Name: r.Name, Type: registryType, Location: r.Location, Tags: tags,
		SKU: arm.SKU{Name: r.SKU, Tier: r.SKU},
		SystemData: &arm.SystemData{
			CreatedBy: r.CreatedBy, CreatedByType: byType(r.CreatedBy), CreatedAt: created,
			LastModifiedBy: r.ChangedBy, LastModifiedByType: byType(r.ChangedBy), LastModifiedAt: r.ChangedAt.UTC(),
		},
		Properties: arm.RegistryProperties{
			LoginServer: r.LoginServer, CreationDate: created, ProvisioningState: state,
			AdminUserEnabled: r.AdminUserEnabled,
			Policies: arm.RegistryPolicies{
				QuarantinePolicy:                 &arm.PolicyStatus{Status: "disabled"},
				TrustPolicy:                      &arm.TrustPolicy{Type: "Notary", Status: "disabled"},
				RetentionPolicy:                  &arm.RetentionPolicy{Days: 7, LastUpdatedTime: &created, Status: "disabled"},
				ExportPolicy:                     &arm.PolicyStatus{Status: "enabled"},
				AzureADAuthenticationAsArmPolicy: &arm.PolicyStatus{Status: "enabled"},
			},
			Encryption:                 arm.EncryptionProperty{Status: "disabled"},
			DataEndpointHostNames:      []string{},
			PrivateEndpointConnections: []any{},
			PublicNetworkAccess:        "Enabled",
			NetworkRuleBypassOptions:   "AzureServices",
			ZoneRedundancy:             "Disabled",
			AnonymousPullEnabled:       r.AnonymousPullEnabled,
		},
	}
	if strings.EqualFold(r.SKU, acr.SKUPremium) {
		out.Properties.NetworkRuleSet = &arm.NetworkRuleSet{DefaultAction: "Allow", IPRules: []arm.IPRule{}}
	}
	return out
}

// byType is systemData's *ByType: every Cerulean principal is an
// application's service principal.
func byType(who string) string {
	if who == "" {
		return ""
	}
	return "Application"
}

// writeCredentials answers with the admin credentials, which no cache
// may keep.
func writeCredentials(w http.ResponseWriter, c acr.Credentials) {
	w.Header().Set("Cache-Control", "no-store")
	server.WriteJSON(w, http.StatusOK, credentialsWire(c))
}

func credentialsWire(c acr.Credentials) arm.RegistryListCredentialsResult {
	out := arm.RegistryListCredentialsResult{Username: c.Username, Passwords: []arm.RegistryPassword{}}
	for _, p := range c.Passwords {
		out.Passwords = append(out.Passwords, arm.RegistryPassword{Name: p.Name, Value: p.Value})
	}
	return out
}
