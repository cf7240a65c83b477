package arm

import (
	"encoding/json"
	"time"
)

// Microsoft.ContainerInstance wire types: container groups, their
// containers and instance views, logs, exec and attach, location usages,
// capabilities and cached images, and the async operation status body.
// Shapes are those of api-version 2023-05-01 (azure-rest-api-specs
// containerInstance.json; armcontainerinstance/v2 v2.4.0's models) and of
// real ACI responses recorded by the az CLI's tests. Fields Cerulean only
// echoes are json.RawMessage so that they round-trip unchanged.

// ContainerGroup is a Microsoft.ContainerInstance/containerGroups resource.
type ContainerGroup struct {
	ID         string                   `json:"id,omitempty"`
	Name       string                   `json:"name,omitempty"`
	Type       string                   `json:"type,omitempty"`
	Location   string                   `json:"location,omitempty"`
	Tags       map[string]string        `json:"tags,omitzero"`
	Zones      []string                 `json:"zones,omitempty"`
	Identity   *ContainerGroupIdentity  `json:"identity,omitempty"`
	Properties ContainerGroupProperties `json:"properties"`
}

// ContainerGroupIdentity is a group's managed identity.
type ContainerGroupIdentity struct {
	Type                   string                     `json:"type,omitempty"`
	PrincipalID            string                     `json:"principalId,omitempty"`
	TenantID               string                     `json:"tenantId,omitempty"`
	UserAssignedIdentities map[string]json.RawMessage `json:"userAssignedIdentities,omitempty"`
}

// ContainerGroupProperties are a group's properties.
type ContainerGroupProperties struct {
	ProvisioningState        string                    `json:"provisioningState,omitempty"`
	SKU                      string                    `json:"sku,omitempty"`
	Containers               []Container               `json:"containers"`
	InitContainers           []InitContainer           `json:"initContainers"`
	ImageRegistryCredentials []ImageRegistryCredential `json:"imageRegistryCredentials,omitempty"`
	RestartPolicy            string                    `json:"restartPolicy,omitempty"`
	IPAddress                *IPAddress                `json:"ipAddress,omitempty"`
	OSType                   string                    `json:"osType,omitempty"`
	Volumes                  []Volume                  `json:"volumes,omitempty"`
	InstanceView             *GroupInstanceView        `json:"instanceView,omitempty"`

	// Accepted and echoed, or refused when Cerulean cannot honour them.
	SubnetIDs                     []json.RawMessage `json:"subnetIds,omitempty"`
	DNSConfig                     json.RawMessage   `json:"dnsConfig,omitempty"`
	Diagnostics                   json.RawMessage   `json:"diagnostics,omitempty"`
	EncryptionProperties          json.RawMessage   `json:"encryptionProperties,omitempty"`
	Extensions                    json.RawMessage   `json:"extensions,omitempty"`
	ConfidentialComputeProperties json.RawMessage   `json:"confidentialComputeProperties,omitempty"`
	Priority                      string            `json:"priority,omitempty"`
}

// Container is one container of a group.
type Container struct {
	Name       string              `json:"name"`
	Properties ContainerProperties `json:"properties"`
}

// ContainerProperties are a container's properties.
type ContainerProperties struct {
	Image                string                 `json:"image"`
	Command              []string               `json:"command,omitempty"`
	Ports                []ContainerPort        `json:"ports"`
	EnvironmentVariables []EnvironmentVariable  `json:"environmentVariables"`
	InstanceView         *ContainerInstanceView `json:"instanceView,omitempty"`
	Resources            *ResourceRequirements  `json:"resources,omitempty"`
	VolumeMounts         []VolumeMount          `json:"volumeMounts,omitempty"`
	LivenessProbe        json.RawMessage        `json:"livenessProbe,omitempty"`
	ReadinessProbe       json.RawMessage        `json:"readinessProbe,omitempty"`
	SecurityContext      *SecurityContext       `json:"securityContext,omitempty"`
}

// InitContainer runs to completion before the group's containers start.
type InitContainer struct {
	Name       string                  `json:"name"`
	Properties InitContainerProperties `json:"properties"`
}

// InitContainerProperties are an init container's properties.
type InitContainerProperties struct {
	Image                string                 `json:"image,omitempty"`
	Command              []string               `json:"command,omitempty"`
	EnvironmentVariables []EnvironmentVariable  `json:"environmentVariables,omitempty"`
	InstanceView         *ContainerInstanceView `json:"instanceView,omitempty"`
	VolumeMounts         []VolumeMount          `json:"volumeMounts,omitempty"`
	SecurityContext      *SecurityContext       `json:"securityContext,omitempty"`
}

// SecurityContext is a container's security settings.
type SecurityContext struct {
	Privileged               *bool           `json:"privileged,omitempty"`
	AllowPrivilegeEscalation *bool           `json:"allowPrivilegeEscalation,omitempty"`
	Capabilities             json.RawMessage `json:"capabilities,omitempty"`
	RunAsGroup               *int64          `json:"runAsGroup,omitempty"`
	RunAsUser                *int64          `json:"runAsUser,omitempty"`
	SeccompProfile           string          `json:"seccompProfile,omitempty"`
}

// ContainerPort is a port a container exposes.
type ContainerPort struct {
	Protocol string `json:"protocol,omitempty"`
	Port     int    `json:"port"`
}

// EnvironmentVariable is a container's environment variable. A secure
// value is never returned.
type EnvironmentVariable struct {
	Name        string  `json:"name"`
	Value       *string `json:"value,omitempty"`
	SecureValue *string `json:"secureValue,omitempty"`
}

// ResourceRequirements are a container's resource requests and limits.
type ResourceRequirements struct {
	Requests *ResourceValues `json:"requests,omitempty"`
	Limits   *ResourceValues `json:"limits,omitempty"`
}

// ResourceValues are CPU cores, memory in GB and GPUs.
type ResourceValues struct {
	MemoryInGB *float64        `json:"memoryInGB,omitempty"`
	CPU        *float64        `json:"cpu,omitempty"`
	GPU        json.RawMessage `json:"gpu,omitempty"`
}

// VolumeMount mounts a group volume into a container.
type VolumeMount struct {
	Name      string `json:"name"`
	MountPath string `json:"mountPath"`
	ReadOnly  *bool  `json:"readOnly,omitempty"`
}

// Volume is a group volume. Secret values are never returned.
type Volume struct {
	Name      string            `json:"name"`
	AzureFile json.RawMessage   `json:"azureFile,omitempty"`
	EmptyDir  json.RawMessage   `json:"emptyDir,omitempty"`
	Secret    map[string]string `json:"secret,omitzero"`
	GitRepo   json.RawMessage   `json:"gitRepo,omitempty"`
}

// ImageRegistryCredential is a registry login. The password is never
// returned.
type ImageRegistryCredential struct {
	Server      string  `json:"server"`
	Username    string  `json:"username,omitempty"`
	Password    *string `json:"password,omitempty"`
	Identity    string  `json:"identity,omitempty"`
	IdentityURL string  `json:"identityUrl,omitempty"`
}

// IPAddress is a group's IP address and the ports open on it.
type IPAddress struct {
	Ports                             []ContainerPort `json:"ports"`
	Type                              string          `json:"type"`
	IP                                string          `json:"ip,omitempty"`
	DNSNameLabel                      string          `json:"dnsNameLabel,omitempty"`
	AutoGeneratedDomainNameLabelScope string          `json:"autoGeneratedDomainNameLabelScope,omitempty"`
	FQDN                              string          `json:"fqdn,omitempty"`
}

// GroupInstanceView is a group's runtime state.
type GroupInstanceView struct {
	Events []ContainerEvent `json:"events"`
	State  string           `json:"state,omitempty"`
}

// ContainerInstanceView is a container's runtime state.
type ContainerInstanceView struct {
	RestartCount  int              `json:"restartCount"`
	CurrentState  *ContainerState  `json:"currentState,omitempty"`
	PreviousState *ContainerState  `json:"previousState,omitempty"`
	Events        []ContainerEvent `json:"events"`
}

// ContainerState is one state of a container.
type ContainerState struct {
	State        string     `json:"state"`
	StartTime    *time.Time `json:"startTime,omitempty"`
	ExitCode     *int       `json:"exitCode,omitempty"`
	FinishTime   *time.Time `json:"finishTime,omitempty"`
	DetailStatus string     `json:"detailStatus"`
}

// ContainerEvent is a coalesced event.
type ContainerEvent struct {
	Count          int       `json:"count"`
	FirstTimestamp time.Time `json:"firstTimestamp"`
	LastTimestamp  time.Time `json:"lastTimestamp"`
	Name           string    `json:"name"`
	Message        string    `json:"message"`
	Type           string    `json:"type"`
}

// ContainerGroupPatch is the body of a PATCH (tags only).
type ContainerGroupPatch struct {
	Tags map[string]string `json:"tags"`
}

// Logs is GET …/containers/{name}/logs.
type Logs struct {
	Content string `json:"content"`
}

// ContainerExecRequest is the body of POST …/containers/{name}/exec.
type ContainerExecRequest struct {
	Command      string        `json:"command,omitempty"`
	TerminalSize *TerminalSize `json:"terminalSize,omitempty"`
}

// TerminalSize is an exec session's terminal.
type TerminalSize struct {
	Rows int `json:"rows,omitempty"`
	Cols int `json:"cols,omitempty"`
}

// ContainerExecResponse is the answer to exec and attach.
type ContainerExecResponse struct {
	WebSocketURI string `json:"webSocketUri"`
	Password     string `json:"password"`
}

// AsyncOperation is the body of an Azure-AsyncOperation URL.
type AsyncOperation struct {
	ID         string                    `json:"id"`
	Name       string                    `json:"name,omitempty"`
	Status     string                    `json:"status"`
	StartTime  time.Time                 `json:"startTime"`
	EndTime    *time.Time                `json:"endTime,omitempty"`
	Properties *AsyncOperationProperties `json:"properties,omitempty"`
	Error      *ErrorDetail              `json:"error,omitempty"`
}

// AsyncOperationProperties carry the container events of a create.
type AsyncOperationProperties struct {
	Events []ContainerEvent `json:"events"`
}

// Usage is one entry of a location's usages.
type Usage struct {
	ID           string    `json:"id,omitempty"`
	Unit         string    `json:"unit"`
	CurrentValue int       `json:"currentValue"`
	Limit        int       `json:"limit"`
	Name         UsageName `json:"name"`
}

// UsageName names a usage.
type UsageName struct {
	Value          string `json:"value"`
	LocalizedValue string `json:"localizedValue"`
}

// Capability is one entry of a location's capabilities.
type Capability struct {
	ResourceType  string                 `json:"resourceType"`
	OSType        string                 `json:"osType"`
	Location      string                 `json:"location"`
	IPAddressType string                 `json:"ipAddressType"`
	GPU           string                 `json:"gpu"`
	Capabilities  CapabilityCapabilities `json:"capabilities"`
}

// CapabilityCapabilities are the limits of a capability.
type CapabilityCapabilities struct {
	MaxMemoryInGB float64 `json:"maxMemoryInGB"`
	MaxCPU        float64 `json:"maxCpu"`
	MaxGPUCount   float64 `json:"maxGpuCount"`
}

// CachedImage is one entry of a location's cached images.
type CachedImage struct {
	OSType string `json:"osType"`
	Image  string `json:"image"`
}

// Operation is one entry of a provider's operations list.
type Operation struct {
	Name         string           `json:"name"`
	Display      OperationDisplay `json:"display"`
	Origin       string           `json:"origin,omitempty"`
	IsDataAction bool             `json:"isDataAction"`
}

// OperationDisplay describes an operation.
type OperationDisplay struct {
	Provider    string `json:"provider"`
	Resource    string `json:"resource"`
	Operation   string `json:"operation"`
	Description string `json:"description"`
}
