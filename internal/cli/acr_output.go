package cli

// The az acr output: the registry and credential models as az prints them
// (azure-mgmt-containerregistry models through az's todict) and the table
// transformers of acr/_format.py.

import (
	"fmt"
	"time"

	"github.com/cerulean/cerulean/api/arm"
	"github.com/cerulean/cerulean/internal/cli/output"
)

// registryOut is a registry as az prints it: the azure-mgmt-containerregistry
// Registry model flattened (attribute order, camelCase of the Python
// attribute names), plus the resourceGroup az adds.
type registryOut struct {
	ID                         string             `json:"id"`
	Name                       string             `json:"name"`
	Type                       string             `json:"type"`
	Location                   string             `json:"location"`
	Tags                       map[string]string  `json:"tags"`
	SystemData                 *systemDataOut     `json:"systemData"`
	SKU                        skuOut             `json:"sku"`
	Identity                   *identityOut       `json:"identity"`
	LoginServer                string             `json:"loginServer"`
	CreationDate               *string            `json:"creationDate"`
	ProvisioningState          string             `json:"provisioningState"`
	Status                     *statusOut         `json:"status"`
	AdminUserEnabled           bool               `json:"adminUserEnabled"`
	NetworkRuleSet             *networkRuleSetOut `json:"networkRuleSet"`
	Policies                   policiesOut        `json:"policies"`
	Encryption                 encryptionOut      `json:"encryption"`
	DataEndpointEnabled        bool               `json:"dataEndpointEnabled"`
	DataEndpointHostNames      []string           `json:"dataEndpointHostNames"`
	PrivateEndpointConnections []any              `json:"privateEndpointConnections"`
	PublicNetworkAccess        string             `json:"publicNetworkAccess"`
	NetworkRuleBypassOptions   string             `json:"networkRuleBypassOptions"`
	ZoneRedundancy             string             `json:"zoneRedundancy"`
	AnonymousPullEnabled       bool               `json:"anonymousPullEnabled"`
	ResourceGroup              *string            `json:"resourceGroup,omitempty"`
}

type skuOut struct {
	Name string `json:"name"`
	Tier string `json:"tier"`
}

type identityOut struct {
	PrincipalID            *string `json:"principalId"`
	TenantID               *string `json:"tenantId"`
	Type                   string  `json:"type"`
	UserAssignedIdentities any     `json:"userAssignedIdentities"`
}

type systemDataOut struct {
	CreatedBy          *string `json:"createdBy"`
	CreatedByType      *string `json:"createdByType"`
	CreatedAt          *string `json:"createdAt"`
	LastModifiedBy     *string `json:"lastModifiedBy"`
	LastModifiedByType *string `json:"lastModifiedByType"`
	LastModifiedAt     *string `json:"lastModifiedAt"`
}

type statusOut struct {
	DisplayStatus *string `json:"displayStatus"`
	Message       *string `json:"message"`
	Timestamp     *string `json:"timestamp"`
}

type networkRuleSetOut struct {
	DefaultAction string      `json:"defaultAction"`
	IPRules       []ipRuleOut `json:"ipRules"`
}

// ipRuleOut names the rule's value as the Python model does.
type ipRuleOut struct {
	Action           *string `json:"action"`
	IPAddressOrRange string  `json:"ipAddressOrRange"`
}

type policyOut struct {
	Status string `json:"status"`
}

type trustPolicyOut struct {
	Type   string `json:"type"`
	Status string `json:"status"`
}

type retentionPolicyOut struct {
	Days            int     `json:"days"`
	LastUpdatedTime *string `json:"lastUpdatedTime"`
	Status          string  `json:"status"`
}

// policiesOut keys the ARM-authentication policy as the Python attribute
// azure_ad_authentication_as_arm_policy camel-cases.
type policiesOut struct {
	QuarantinePolicy                 *policyOut          `json:"quarantinePolicy"`
	TrustPolicy                      *trustPolicyOut     `json:"trustPolicy"`
	RetentionPolicy                  *retentionPolicyOut `json:"retentionPolicy"`
	ExportPolicy                     *policyOut          `json:"exportPolicy"`
	AzureAdAuthenticationAsArmPolicy *policyOut          `json:"azureAdAuthenticationAsArmPolicy"`
	SoftDeletePolicy                 any                 `json:"softDeletePolicy"`
}

type encryptionOut struct {
	Status             string `json:"status"`
	KeyVaultProperties any    `json:"keyVaultProperties"`
}

func statusPolicy(p *arm.PolicyStatus) *policyOut {
	if p == nil {
		return nil
	}
	return &policyOut{Status: p.Status}
}

// registryOutput flattens an ARM registry the way az prints it.
func registryOutput(r arm.Registry) registryOut {
	p := r.Properties
	out := registryOut{
		ID: r.ID, Name: r.Name, Type: r.Type, Location: r.Location, Tags: r.Tags,
		SKU:         skuOut{Name: r.SKU.Name, Tier: r.SKU.Tier},
		LoginServer: p.LoginServer, CreationDate: pyTime(p.CreationDate), ProvisioningState: p.ProvisioningState,
		AdminUserEnabled: p.AdminUserEnabled,
		Policies: policiesOut{
			QuarantinePolicy: statusPolicy(p.Policies.QuarantinePolicy), ExportPolicy: statusPolicy(p.Policies.ExportPolicy),
			AzureAdAuthenticationAsArmPolicy: statusPolicy(p.Policies.AzureADAuthenticationAsArmPolicy),
		},
		Encryption:                 encryptionOut{Status: p.Encryption.Status},
		DataEndpointEnabled:        p.DataEndpointEnabled,
		DataEndpointHostNames:      p.DataEndpointHostNames,
		PrivateEndpointConnections: p.PrivateEndpointConnections,
		PublicNetworkAccess:        p.PublicNetworkAccess,
		NetworkRuleBypassOptions:   p.NetworkRuleBypassOptions,
		ZoneRedundancy:             p.ZoneRedundancy,
		AnonymousPullEnabled:       p.AnonymousPullEnabled,
		ResourceGroup:              resourceGroupOfID(r.ID),
	}
	if sd := r.SystemData; sd != nil {
		out.SystemData = &systemDataOut{
			CreatedBy: strPtrOrNil(sd.CreatedBy), CreatedByType: strPtrOrNil(sd.CreatedByType), CreatedAt: pyTime(sd.CreatedAt),
			LastModifiedBy: strPtrOrNil(sd.LastModifiedBy), LastModifiedByType: strPtrOrNil(sd.LastModifiedByType),
			LastModifiedAt: pyTime(sd.LastModifiedAt),
		}
	}
	if st := p.Status; st != nil {
		out.Status = &statusOut{DisplayStatus: strPtrOrNil(st.DisplayStatus), Message: strPtrOrNil(st.Message), Timestamp: pyTime(st.Timestamp)}
	}
	if n := p.NetworkRuleSet; n != nil {
		out.NetworkRuleSet = &networkRuleSetOut{DefaultAction: n.DefaultAction, IPRules: []ipRuleOut{}}
		for _, rule := range n.IPRules {
			out.NetworkRuleSet.IPRules = append(out.NetworkRuleSet.IPRules, ipRuleOut{Action: strPtrOrNil(rule.Action), IPAddressOrRange: rule.Value})
		}
	}
	if t := p.Policies.TrustPolicy; t != nil {
		out.Policies.TrustPolicy = &trustPolicyOut{Type: t.Type, Status: t.Status}
	}
	if rp := p.Policies.RetentionPolicy; rp != nil {
		out.Policies.RetentionPolicy = &retentionPolicyOut{Days: rp.Days, Status: rp.Status}
		if rp.LastUpdatedTime != nil {
			out.Policies.RetentionPolicy.LastUpdatedTime = pyTime(*rp.LastUpdatedTime)
		}
	}
	return out
}

// credentialsOut is RegistryListCredentialsResult as az prints it.
type credentialsOut struct {
	Username  string                 `json:"username"`
	Passwords []arm.RegistryPassword `json:"passwords"`
}

func credentialsOutput(c arm.RegistryListCredentialsResult) credentialsOut {
	ps := c.Passwords
	if ps == nil {
		ps = []arm.RegistryPassword{}
	}
	return credentialsOut{Username: c.Username, Passwords: ps}
}

// ---- table transformers (_format.py) -------------------------------------------

// acrRows is _output_format: a list, or one object, becomes rows.
func acrRows(result any, row func(map[string]any) output.Row) any {
	items, ok := result.([]any)
	if !ok {
		items = []any{result}
	}
	rows := make([]output.Row, 0, len(items))
	for _, it := range items {
		m, _ := it.(map[string]any)
		rows = append(rows, row(m))
	}
	return rows
}

// acrValue is _format._get_value: the nested value as str(), or " " when
// it is missing or falsy.
func acrValue(item any, path ...any) string {
	cur := item
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := cur.(map[string]any)
			if !ok {
				return " "
			}
			cur = m[k]
		case int:
			l, ok := cur.([]any)
			if !ok || k >= len(l) {
				return " "
			}
			cur = l[k]
		}
	}
	switch v := cur.(type) {
	case nil:
		return " "
	case bool:
		if v {
			return "True"
		}
		return " "
	case string:
		if v == "" {
			return " "
		}
		return v
	default:
		s := fmt.Sprint(v)
		if s == "0" {
			return " "
		}
		return s
	}
}

// acrDate is _format._format_datetime: "%Y-%m-%dT%H:%M:%SZ".
func acrDate(s string) string {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Format("2006-01-02T15:04:05Z")
		}
	}
	return s
}

// transformRegistries is _format.registry_output_format.
func transformRegistries(result any) any {
	return acrRows(result, func(r map[string]any) output.Row {
		return output.Row{
			{Key: "NAME", Value: acrValue(r, "name")},
			{Key: "RESOURCE GROUP", Value: acrValue(r, "resourceGroup")},
			{Key: "LOCATION", Value: acrValue(r, "location")},
			{Key: "SKU", Value: acrValue(r, "sku", "name")},
			{Key: "LOGIN SERVER", Value: acrValue(r, "loginServer")},
			{Key: "CREATION DATE", Value: acrDate(acrValue(r, "creationDate"))},
			{Key: "ADMIN ENABLED", Value: acrValue(r, "adminUserEnabled")},
		}
	})
}

// transformCredentials is _format.credential_output_format.
func transformCredentials(result any) any {
	return acrRows(result, func(r map[string]any) output.Row {
		return output.Row{
			{Key: "USERNAME", Value: acrValue(r, "username")},
			{Key: "PASSWORD", Value: acrValue(r, "passwords", 0, "value")},
			{Key: "PASSWORD2", Value: acrValue(r, "passwords", 1, "value")},
		}
	})
}
