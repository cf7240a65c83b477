package arm

import "time"

// Microsoft.ContainerRegistry wire types: the registry resource, its
// create, update and credential bodies, and the name check. Shapes are
// those of api-version 2023-07-01 (azure-rest-api-specs
// containerregistry.json and its examples); anonymousPullEnabled and
// policies.azureADAuthenticationAsArmPolicy come from the later preview
// versions az sends, and older clients ignore them.

// Registry is a Microsoft.ContainerRegistry/registries resource.
type Registry struct {
	ID         string             `json:"id"`
	Name       string             `json:"name"`
	Type       string             `json:"type"`
	Location   string             `json:"location"`
	Tags       map[string]string  `json:"tags"`
	SKU        SKU                `json:"sku"`
	SystemData *SystemData        `json:"systemData,omitempty"`
	Properties RegistryProperties `json:"properties"`
}

// SystemData is ARM's creation and modification metadata of a resource.
type SystemData struct {
	CreatedBy          string    `json:"createdBy,omitempty"`
	CreatedByType      string    `json:"createdByType,omitempty"`
	CreatedAt          time.Time `json:"createdAt"`
	LastModifiedBy     string    `json:"lastModifiedBy,omitempty"`
	LastModifiedByType string    `json:"lastModifiedByType,omitempty"`
	LastModifiedAt     time.Time `json:"lastModifiedAt"`
}

// RegistryProperties are a registry's properties as ARM returns them.
type RegistryProperties struct {
	LoginServer       string    `json:"loginServer"`
	CreationDate      time.Time `json:"creationDate"`
	ProvisioningState string    `json:"provisioningState"`
	AdminUserEnabled  bool      `json:"adminUserEnabled"`
	// NetworkRuleSet is set for Premium registries only, as in Azure.
	NetworkRuleSet             *NetworkRuleSet    `json:"networkRuleSet,omitempty"`
	Policies                   RegistryPolicies   `json:"policies"`
	Encryption                 EncryptionProperty `json:"encryption"`
	Status                     *RegistryStatus    `json:"status"`
	DataEndpointEnabled        bool               `json:"dataEndpointEnabled"`
	DataEndpointHostNames      []string           `json:"dataEndpointHostNames"`
	PrivateEndpointConnections []any              `json:"privateEndpointConnections"`
	PublicNetworkAccess        string             `json:"publicNetworkAccess"`
	NetworkRuleBypassOptions   string             `json:"networkRuleBypassOptions"`
	ZoneRedundancy             string             `json:"zoneRedundancy"`
	AnonymousPullEnabled       bool               `json:"anonymousPullEnabled"`
}

// RegistryStatus is a registry's status message (Azure sends null).
type RegistryStatus struct {
	DisplayStatus string    `json:"displayStatus,omitempty"`
	Message       string    `json:"message,omitempty"`
	Timestamp     time.Time `json:"timestamp"`
}

// NetworkRuleSet is a registry's firewall.
type NetworkRuleSet struct {
	DefaultAction string   `json:"defaultAction"`
	IPRules       []IPRule `json:"ipRules"`
}

// IPRule is one firewall rule.
type IPRule struct {
	Action string `json:"action,omitempty"`
	Value  string `json:"value"`
}

// RegistryPolicies are a registry's policies.
type RegistryPolicies struct {
	QuarantinePolicy                 *PolicyStatus    `json:"quarantinePolicy,omitempty"`
	TrustPolicy                      *TrustPolicy     `json:"trustPolicy,omitempty"`
	RetentionPolicy                  *RetentionPolicy `json:"retentionPolicy,omitempty"`
	ExportPolicy                     *PolicyStatus    `json:"exportPolicy,omitempty"`
	AzureADAuthenticationAsArmPolicy *PolicyStatus    `json:"azureADAuthenticationAsArmPolicy,omitempty"`
}

// PolicyStatus is a policy that is only "enabled" or "disabled".
type PolicyStatus struct {
	Status string `json:"status"`
}

// TrustPolicy is the content-trust policy.
type TrustPolicy struct {
	Type   string `json:"type"`
	Status string `json:"status"`
}

// RetentionPolicy is the untagged-manifest retention policy.
type RetentionPolicy struct {
	Days            int        `json:"days"`
	LastUpdatedTime *time.Time `json:"lastUpdatedTime,omitempty"`
	Status          string     `json:"status"`
}

// EncryptionProperty is the customer-managed-key setting.
type EncryptionProperty struct {
	Status string `json:"status"`
}

// RegistryCreate is the body of PUT …/registries/{name}. Read-only fields
// a client echoes back from a GET (id, name, type, systemData, the
// read-only properties) are accepted and ignored.
type RegistryCreate struct {
	Location   string                    `json:"location"`
	Tags       map[string]string         `json:"tags,omitempty"`
	SKU        *SKU                      `json:"sku,omitempty"`
	Identity   *RegistryIdentity         `json:"identity,omitempty"`
	Properties *RegistryCreateProperties `json:"properties,omitempty"`
}

// RegistryIdentity is a managed identity request; Cerulean supports none.
type RegistryIdentity struct {
	Type string `json:"type,omitempty"`
}

// RegistryCreateProperties are the settable properties of a registry, in
// a create (PUT) or an update (PATCH). Pointers distinguish "absent" from
// a value.
type RegistryCreateProperties struct {
	AdminUserEnabled         *bool               `json:"adminUserEnabled,omitempty"`
	AnonymousPullEnabled     *bool               `json:"anonymousPullEnabled,omitempty"`
	NetworkRuleSet           *NetworkRuleSet     `json:"networkRuleSet,omitempty"`
	Policies                 *RegistryPolicies   `json:"policies,omitempty"`
	Encryption               *EncryptionProperty `json:"encryption,omitempty"`
	DataEndpointEnabled      *bool               `json:"dataEndpointEnabled,omitempty"`
	PublicNetworkAccess      *string             `json:"publicNetworkAccess,omitempty"`
	NetworkRuleBypassOptions *string             `json:"networkRuleBypassOptions,omitempty"`
	ZoneRedundancy           *string             `json:"zoneRedundancy,omitempty"`
}

// RegistryUpdateParameters is the body of PATCH …/registries/{name}.
type RegistryUpdateParameters struct {
	Tags       map[string]string         `json:"tags,omitempty"`
	SKU        *SKU                      `json:"sku,omitempty"`
	Identity   *RegistryIdentity         `json:"identity,omitempty"`
	Properties *RegistryCreateProperties `json:"properties,omitempty"`
}

// RegistryListCredentialsResult is the answer of listCredentials and
// regenerateCredential: the admin user and its two passwords.
type RegistryListCredentialsResult struct {
	Username  string             `json:"username"`
	Passwords []RegistryPassword `json:"passwords"`
}

// RegistryPassword is one admin password ("password" or "password2").
type RegistryPassword struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// RegenerateCredentialParameters is the body of regenerateCredential.
type RegenerateCredentialParameters struct {
	Name string `json:"name"`
}

// RegistryNameCheckRequest is the body of checkNameAvailability.
type RegistryNameCheckRequest struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// RegistryNameStatus is the answer of checkNameAvailability; reason and
// message are set only when the name is not available.
type RegistryNameStatus struct {
	NameAvailable bool   `json:"nameAvailable"`
	Reason        string `json:"reason,omitempty"`
	Message       string `json:"message,omitempty"`
}
