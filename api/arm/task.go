package arm

import (
	"encoding/json"
	"time"
)

// ACR Tasks' quick builds and quick runs (Microsoft.ContainerRegistry
// 2019-06-01-preview): listBuildSourceUploadUrl, scheduleRun and runs.

// SourceUploadDefinition is listBuildSourceUploadUrl's answer.
type SourceUploadDefinition struct {
	UploadURL    string `json:"uploadUrl,omitempty"`
	RelativePath string `json:"relativePath,omitempty"`
}

// RunArgument is a build argument (DockerBuildRequest.arguments) or a set
// value (EncodedTaskRunRequest.values).
type RunArgument struct {
	Name     string `json:"name"`
	Value    string `json:"value"`
	IsSecret bool   `json:"isSecret,omitempty"`
}

// PlatformProperties is a run's platform.
type PlatformProperties struct {
	OS           string `json:"os"`
	Architecture string `json:"architecture,omitempty"`
	Variant      string `json:"variant,omitempty"`
}

// RunRequest is scheduleRun's body: one of DockerBuildRequest,
// EncodedTaskRunRequest, FileTaskRunRequest and TaskRunRequest, told
// apart by type. Fields of every kind are here; each kind reads its own.
type RunRequest struct {
	Type               string              `json:"type"`
	IsArchiveEnabled   *bool               `json:"isArchiveEnabled,omitempty"`
	AgentPoolName      string              `json:"agentPoolName,omitempty"`
	LogTemplate        string              `json:"logTemplate,omitempty"`
	Timeout            *int                `json:"timeout,omitempty"`
	Platform           *PlatformProperties `json:"platform,omitempty"`
	AgentConfiguration json.RawMessage     `json:"agentConfiguration,omitempty"`
	SourceLocation     string              `json:"sourceLocation,omitempty"`
	Credentials        json.RawMessage     `json:"credentials,omitempty"`

	// DockerBuildRequest
	ImageNames     []string      `json:"imageNames,omitempty"`
	IsPushEnabled  *bool         `json:"isPushEnabled,omitempty"`
	NoCache        *bool         `json:"noCache,omitempty"`
	DockerFilePath string        `json:"dockerFilePath,omitempty"`
	Target         string        `json:"target,omitempty"`
	Arguments      []RunArgument `json:"arguments,omitempty"`

	// EncodedTaskRunRequest
	EncodedTaskContent   string        `json:"encodedTaskContent,omitempty"`
	EncodedValuesContent string        `json:"encodedValuesContent,omitempty"`
	Values               []RunArgument `json:"values,omitempty"`

	// FileTaskRunRequest and TaskRunRequest
	TaskFilePath string `json:"taskFilePath,omitempty"`
	TaskID       string `json:"taskId,omitempty"`
}

// RunCredentials is a run request's credentials.
type RunCredentials struct {
	SourceRegistry   *SourceRegistryCredentials `json:"sourceRegistry,omitempty"`
	CustomRegistries map[string]json.RawMessage `json:"customRegistries,omitempty"`
}

// SourceRegistryCredentials is credentials.sourceRegistry.
type SourceRegistryCredentials struct {
	LoginMode string `json:"loginMode,omitempty"`
}

// ImageDescriptor is an image a run pushed.
type ImageDescriptor struct {
	Registry   string `json:"registry,omitempty"`
	Repository string `json:"repository,omitempty"`
	Tag        string `json:"tag,omitempty"`
	Digest     string `json:"digest,omitempty"`
}

// RunProperties are a run's properties.
type RunProperties struct {
	RunID              string              `json:"runId"`
	Status             string              `json:"status"`
	LastUpdatedTime    *time.Time          `json:"lastUpdatedTime,omitempty"`
	RunType            string              `json:"runType"`
	CreateTime         *time.Time          `json:"createTime,omitempty"`
	StartTime          *time.Time          `json:"startTime,omitempty"`
	FinishTime         *time.Time          `json:"finishTime,omitempty"`
	OutputImages       []ImageDescriptor   `json:"outputImages,omitempty"`
	Platform           *PlatformProperties `json:"platform,omitempty"`
	AgentConfiguration *AgentProperties    `json:"agentConfiguration,omitempty"`
	RunErrorMessage    string              `json:"runErrorMessage,omitempty"`
	ProvisioningState  string              `json:"provisioningState"`
	IsArchiveEnabled   bool                `json:"isArchiveEnabled"`
}

// AgentProperties is a run's agentConfiguration.
type AgentProperties struct {
	CPU int `json:"cpu,omitempty"`
}

// Run is a Microsoft.ContainerRegistry/registries/runs resource.
type Run struct {
	ID         string        `json:"id"`
	Name       string        `json:"name"`
	Type       string        `json:"type"`
	Properties RunProperties `json:"properties"`
}

// RunUpdateParameters is PATCH runs/{id}'s body.
type RunUpdateParameters struct {
	IsArchiveEnabled *bool `json:"isArchiveEnabled,omitempty"`
}

// RunGetLogResult is listLogSasUrl's answer.
type RunGetLogResult struct {
	LogLink         string `json:"logLink,omitempty"`
	LogArtifactLink string `json:"logArtifactLink,omitempty"`
}
