package client

// ACR Tasks' quick builds and quick runs over ARM (az acr build, az acr
// run, az acr task list-runs|show-run|logs): the registry actions
// listBuildSourceUploadUrl and scheduleRun, and the runs collection, at
// the api-version az 2.45 and the Go SDK send for them (2019-06-01-preview).
//
// The wire shapes are declared here, unexported for the requests, rather
// than in api/arm: the server side of ACR Tasks declares its own there, and
// the two are merged later. Run is the client's model of a run (as an SDK
// returns it), decoded from the wire shape.

import (
	"context"
	"encoding/base64"
	"net/http"
	"strconv"
	"time"

	"github.com/cerulean/cerulean/api/arm"
)

// APIVersionTasks is the api-version of scheduleRun,
// listBuildSourceUploadUrl and runs/* (az 2.45's runs client and
// armcontainerregistry's RegistriesClient.BeginScheduleRun, RunsClient).
const APIVersionTasks = "2019-06-01-preview"

// RunPlatform is a run's platform (PlatformProperties).
type RunPlatform struct {
	OS           string `json:"os"`
	Architecture string `json:"architecture,omitempty"`
	Variant      string `json:"variant,omitempty"`
}

// RunArgument is a --build-arg, --secret-build-arg, --set or --set-secret.
type RunArgument struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Secret bool   `json:"isSecret"`
}

// ImageDescriptor is an image a run produced or was triggered by.
type ImageDescriptor struct {
	Registry   string `json:"registry,omitempty"`
	Repository string `json:"repository,omitempty"`
	Tag        string `json:"tag,omitempty"`
	Digest     string `json:"digest,omitempty"`
}

// Run is a run of a registry (Microsoft.ContainerRegistry/registries/runs).
type Run struct {
	ID         string          `json:"id,omitempty"`
	Name       string          `json:"name,omitempty"`
	Type       string          `json:"type,omitempty"`
	SystemData *arm.SystemData `json:"systemData,omitempty"`
	Properties RunProperties   `json:"properties"`
}

// RunProperties are a run's properties (RunProperties of the spec).
type RunProperties struct {
	RunID              string              `json:"runId,omitempty"`
	Status             string              `json:"status,omitempty"`
	LastUpdatedTime    *time.Time          `json:"lastUpdatedTime,omitempty"`
	RunType            string              `json:"runType,omitempty"`
	AgentPoolName      string              `json:"agentPoolName,omitempty"`
	CreateTime         *time.Time          `json:"createTime,omitempty"`
	StartTime          *time.Time          `json:"startTime,omitempty"`
	FinishTime         *time.Time          `json:"finishTime,omitempty"`
	OutputImages       []ImageDescriptor   `json:"outputImages,omitempty"`
	Task               string              `json:"task,omitempty"`
	ImageUpdateTrigger *ImageUpdateTrigger `json:"imageUpdateTrigger,omitempty"`
	SourceTrigger      *SourceTrigger      `json:"sourceTrigger,omitempty"`
	TimerTrigger       *TimerTrigger       `json:"timerTrigger,omitempty"`
	Platform           *RunPlatform        `json:"platform,omitempty"`
	AgentConfiguration *AgentProperties    `json:"agentConfiguration,omitempty"`
	SourceRegistryAuth string              `json:"sourceRegistryAuth,omitempty"`
	CustomRegistries   []string            `json:"customRegistries,omitempty"`
	RunErrorMessage    string              `json:"runErrorMessage,omitempty"`
	UpdateTriggerToken string              `json:"updateTriggerToken,omitempty"`
	LogArtifact        *ImageDescriptor    `json:"logArtifact,omitempty"`
	ProvisioningState  string              `json:"provisioningState,omitempty"`
	IsArchiveEnabled   *bool               `json:"isArchiveEnabled,omitempty"`
}

// ImageUpdateTrigger is the base image update that triggered a run.
type ImageUpdateTrigger struct {
	ID        string            `json:"id,omitempty"`
	Timestamp *time.Time        `json:"timestamp,omitempty"`
	Images    []ImageDescriptor `json:"images,omitempty"`
}

// SourceTrigger is the source event that triggered a run.
type SourceTrigger struct {
	ID            string `json:"id,omitempty"`
	EventType     string `json:"eventType,omitempty"`
	CommitID      string `json:"commitId,omitempty"`
	PullRequestID string `json:"pullRequestId,omitempty"`
	RepositoryURL string `json:"repositoryUrl,omitempty"`
	BranchName    string `json:"branchName,omitempty"`
	ProviderType  string `json:"providerType,omitempty"`
}

// TimerTrigger is the schedule that triggered a run.
type TimerTrigger struct {
	TimerTriggerName   string `json:"timerTriggerName,omitempty"`
	ScheduleOccurrence string `json:"scheduleOccurrence,omitempty"`
}

// AgentProperties is a run's agent configuration.
type AgentProperties struct {
	CPU *int `json:"cpu,omitempty"`
}

// QuickBuild is what az acr build asks for (a DockerBuildRequest).
type QuickBuild struct {
	ImageNames     []string
	Push           bool
	DockerFilePath string
	Target         string
	Arguments      []RunArgument
	Timeout        *int
	Platform       RunPlatform
	SourceLocation string
	AgentPoolName  string
	LogTemplate    string
	// AuthMode is --auth-mode (Default, None): the source registry's
	// login mode; "" sends empty credentials.
	AuthMode string
}

// QuickRun is what az acr run asks for (an EncodedTaskRunRequest).
type QuickRun struct {
	// Task is the task's YAML text; it travels base64-encoded.
	Task          string
	Values        []RunArgument
	Timeout       *int
	Platform      RunPlatform
	AgentPoolName string
	LogTemplate   string
	AuthMode      string
}

// The request bodies, in the models' attribute order (msrest serialises
// in that order; optional members are left out when unset, as there).
type dockerBuildRequest struct {
	Type             string        `json:"type"`
	IsArchiveEnabled bool          `json:"isArchiveEnabled"`
	AgentPoolName    string        `json:"agentPoolName,omitempty"`
	LogTemplate      string        `json:"logTemplate,omitempty"`
	ImageNames       []string      `json:"imageNames,omitempty"`
	IsPushEnabled    bool          `json:"isPushEnabled"`
	NoCache          bool          `json:"noCache"`
	DockerFilePath   string        `json:"dockerFilePath"`
	Target           string        `json:"target,omitempty"`
	Arguments        []RunArgument `json:"arguments"`
	Timeout          *int          `json:"timeout,omitempty"`
	Platform         RunPlatform   `json:"platform"`
	SourceLocation   string        `json:"sourceLocation,omitempty"`
	Credentials      credentials   `json:"credentials"`
}

type encodedTaskRunRequest struct {
	Type               string        `json:"type"`
	IsArchiveEnabled   bool          `json:"isArchiveEnabled"`
	AgentPoolName      string        `json:"agentPoolName,omitempty"`
	LogTemplate        string        `json:"logTemplate,omitempty"`
	EncodedTaskContent string        `json:"encodedTaskContent"`
	Values             []RunArgument `json:"values"`
	Timeout            *int          `json:"timeout,omitempty"`
	Platform           RunPlatform   `json:"platform"`
	Credentials        credentials   `json:"credentials"`
}

type credentials struct {
	SourceRegistry *sourceRegistryCredentials `json:"sourceRegistry,omitempty"`
}

type sourceRegistryCredentials struct {
	LoginMode string `json:"loginMode"`
}

func credentialsFor(authMode string) credentials {
	if authMode == "" {
		return credentials{}
	}
	return credentials{SourceRegistry: &sourceRegistryCredentials{LoginMode: authMode}}
}

type sourceUploadDefinition struct {
	UploadURL    string `json:"uploadUrl"`
	RelativePath string `json:"relativePath"`
}

type runGetLogResult struct {
	LogLink         string `json:"logLink"`
	LogArtifactLink string `json:"logArtifactLink"`
}

// SourceUpload is where a build context is uploaded (listBuildSourceUploadUrl).
type SourceUpload struct {
	UploadURL    string
	RelativePath string
}

// RunLogLinks are a run's log blob SAS URLs (runs/{id}/listLogSasUrl).
type RunLogLinks struct {
	LogLink         string
	LogArtifactLink string
}

func nonNilArgs(a []RunArgument) []RunArgument {
	if a == nil {
		return []RunArgument{}
	}
	return a
}

// dockerBuildBody is the scheduleRun body of a quick build.
func dockerBuildBody(b QuickBuild) dockerBuildRequest {
	return dockerBuildRequest{
		Type: "DockerBuildRequest", AgentPoolName: b.AgentPoolName, LogTemplate: b.LogTemplate,
		ImageNames: b.ImageNames, IsPushEnabled: b.Push, DockerFilePath: b.DockerFilePath, Target: b.Target,
		Arguments: nonNilArgs(b.Arguments), Timeout: b.Timeout, Platform: b.Platform,
		SourceLocation: b.SourceLocation, Credentials: credentialsFor(b.AuthMode),
	}
}

// encodedTaskRunBody is the scheduleRun body of a quick run.
func encodedTaskRunBody(r QuickRun) encodedTaskRunRequest {
	return encodedTaskRunRequest{
		Type: "EncodedTaskRunRequest", AgentPoolName: r.AgentPoolName, LogTemplate: r.LogTemplate,
		EncodedTaskContent: base64.StdEncoding.EncodeToString([]byte(r.Task)),
		Values:             nonNilArgs(r.Values), Timeout: r.Timeout, Platform: r.Platform,
		Credentials: credentialsFor(r.AuthMode),
	}
}

func (a *ARM) tasksURL(sub, group, name, rest string, kv ...string) string {
	return a.url(registryPath(sub, group, name)+"/"+rest, APIVersionTasks, kv...)
}

// GetBuildSourceUploadURL is POST …/registries/{name}/listBuildSourceUploadUrl.
func (a *ARM) GetBuildSourceUploadURL(ctx context.Context, sub, group, name string) (SourceUpload, error) {
	resp, err := a.send(ctx, http.MethodPost, a.tasksURL(sub, group, name, "listBuildSourceUploadUrl"), nil, http.StatusOK)
	if err != nil {
		return SourceUpload{}, err
	}
	var out sourceUploadDefinition
	if err := decodeJSON(resp, &out); err != nil {
		return SourceUpload{}, err
	}
	return SourceUpload(out), nil
}

// ScheduleBuild is POST …/registries/{name}/scheduleRun with a
// DockerBuildRequest.
func (a *ARM) ScheduleBuild(ctx context.Context, sub, group, name string, b QuickBuild) (Run, error) {
	return a.scheduleRun(ctx, sub, group, name, dockerBuildBody(b))
}

// ScheduleQuickRun is POST …/registries/{name}/scheduleRun with an
// EncodedTaskRunRequest.
func (a *ARM) ScheduleQuickRun(ctx context.Context, sub, group, name string, r QuickRun) (Run, error) {
	return a.scheduleRun(ctx, sub, group, name, encodedTaskRunBody(r))
}

// scheduleRun sends the request. A 200 carries the queued run (what
// Cerulean answers, and what azure-mgmt-core's polling returns at once
// when there are no polling headers); a 202 is followed through its
// Azure-AsyncOperation or Location header to the run.
func (a *ARM) scheduleRun(ctx context.Context, sub, group, name string, body any) (Run, error) {
	var out Run
	resp, err := a.send(ctx, http.MethodPost, a.tasksURL(sub, group, name, "scheduleRun"), body, http.StatusOK, http.StatusAccepted)
	if err != nil {
		return out, err
	}
	if resp.status == http.StatusAccepted {
		if resp, err = a.waitAction(ctx, resp); err != nil {
			return out, err
		}
	}
	return out, decodeJSON(resp, &out)
}

// waitAction follows a 202 of a POST action: it polls the
// Azure-AsyncOperation (or Location) URL until it stops answering 202 or
// reports a terminal status, then reads the result from the Location URL
// when there is one, else returns the last poll's body.
func (a *ARM) waitAction(ctx context.Context, first *response) (*response, error) {
	op, loc := first.header.Get("Azure-AsyncOperation"), first.header.Get("Location")
	if op == "" && loc == "" {
		return first, nil
	}
	if op != "" {
		if err := a.pollAsyncOperation(ctx, op, first.header); err != nil {
			return nil, err
		}
		if loc == "" {
			return first, nil
		}
	}
	u, err := a.c.resolve(loc)
	if err != nil {
		return nil, err
	}
	hdr := first.header
	for {
		if err := a.c.sleep(ctx, hdr); err != nil {
			return nil, err
		}
		resp, err := a.send(ctx, http.MethodGet, u, nil, http.StatusOK, http.StatusAccepted)
		if err != nil {
			return nil, err
		}
		if resp.status != http.StatusAccepted {
			return resp, nil
		}
		hdr = resp.header
	}
}

// CancelRun is POST …/registries/{name}/runs/{runId}/cancel (200, or 202
// followed as the SDK's poller would).
func (a *ARM) CancelRun(ctx context.Context, sub, group, name, runID string) error {
	resp, err := a.send(ctx, http.MethodPost, a.tasksURL(sub, group, name, "runs/"+runID+"/cancel"), nil, http.StatusOK, http.StatusAccepted)
	if err != nil {
		return err
	}
	if resp.status == http.StatusAccepted {
		_, err = a.waitAction(ctx, resp)
	}
	return err
}

// GetRun is GET …/registries/{name}/runs/{runId}.
func (a *ARM) GetRun(ctx context.Context, sub, group, name, runID string) (Run, error) {
	return armGet[Run](ctx, a, a.tasksURL(sub, group, name, "runs/"+runID))
}

// ListRuns is GET …/registries/{name}/runs with $filter and $top (top ≤ 0
// sends none). Like the SDK's pager it follows nextLink; the server
// applies $top to the whole list.
func (a *ARM) ListRuns(ctx context.Context, sub, group, name, filter string, top int) ([]Run, error) {
	var topS string
	if top > 0 {
		topS = strconv.Itoa(top)
	}
	return armList[Run](ctx, a, a.tasksURL(sub, group, name, "runs", "$filter", filter, "$top", topS))
}

// GetRunLogSASURL is POST …/registries/{name}/runs/{runId}/listLogSasUrl.
func (a *ARM) GetRunLogSASURL(ctx context.Context, sub, group, name, runID string) (RunLogLinks, error) {
	resp, err := a.send(ctx, http.MethodPost, a.tasksURL(sub, group, name, "runs/"+runID+"/listLogSasUrl"), nil, http.StatusOK)
	if err != nil {
		return RunLogLinks{}, err
	}
	var out runGetLogResult
	if err := decodeJSON(resp, &out); err != nil {
		return RunLogLinks{}, err
	}
	return RunLogLinks(out), nil
}
