package arm

// ACR Tasks' quick builds and quick runs, plugged into the registries
// provider (2019-06-01-preview in az and the Go SDK; any api-version is
// accepted):
//
//	POST  …/registries/{r}/listBuildSourceUploadUrl   registries/listBuildSourceUploadUrl/action   200 {uploadUrl, relativePath}
//	POST  …/registries/{r}/scheduleRun                registries/scheduleRun/action               200 Run (Queued)
//	GET   …/registries/{r}/runs?$top&$filter          registries/runs/read                        200 {value}
//	GET   …/registries/{r}/runs/{id}                  registries/runs/read                        200 Run
//	PATCH …/registries/{r}/runs/{id}                  registries/runs/write                       200 Run
//	POST  …/registries/{r}/runs/{id}/cancel           registries/runs/cancel/action               200
//	POST  …/registries/{r}/runs/{id}/listLogSasUrl    registries/runs/listLogSasUrl/action        200 {logLink}
//
// scheduleRun answers 200 with the queued run and no polling headers: the
// Azure SDKs' pollers (Python's ARMPolling, Go's azcore) then finish at
// once with the run, and callers follow it with GET runs/{id} and its log
// (ACR's own spec allows 200 {Run}).

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/cerulean/cerulean/api/arm"
	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/resourceid"
	"github.com/cerulean/cerulean/internal/server"
	"github.com/cerulean/cerulean/internal/task"
)

// Tasks is the part of task.Service the ARM provider calls.
type Tasks interface {
	SourceUploadURL(ctx context.Context, group resourceid.ID, name string) (task.BlobGrant, error)
	ScheduleBuild(ctx context.Context, caller task.Caller, group resourceid.ID, name string, spec task.BuildSpec) (task.Run, error)
	ScheduleRun(ctx context.Context, caller task.Caller, group resourceid.ID, name string, spec task.CommandSpec) (task.Run, error)
	Get(ctx context.Context, group resourceid.ID, name, id string) (task.Run, error)
	List(ctx context.Context, group resourceid.ID, name string, f task.RunFilter) ([]task.Run, error)
	SetArchive(ctx context.Context, group resourceid.ID, name, id string, enabled bool) (task.Run, error)
	Cancel(ctx context.Context, group resourceid.ID, name, id string) (task.Run, error)
	LogURL(ctx context.Context, group resourceid.ID, name, id string) (task.BlobGrant, error)
}

// BlobEndpoint returns the blob-storage base URL
// (https://<account>.blob.<suffix>[:port]) for a request, from the host
// the client used.
type BlobEndpoint func(r *http.Request) string

const (
	runsType                = registryType + "/runs"
	actionScheduleRun       = registryType + "/scheduleRun/action"
	actionListUploadURL     = registryType + "/listBuildSourceUploadUrl/action"
	actionRunsRead          = runsType + "/read"
	actionRunsWrite         = runsType + "/write"
	actionRunsCancel        = runsType + "/cancel/action"
	actionRunsListLogSasURL = runsType + "/listLogSasUrl/action"
)

// WithTasks adds ACR Tasks to the registries provider of types (as
// RegistriesTypes returns them): the registry actions scheduleRun and
// listBuildSourceUploadUrl, and the registries/runs type.
func WithTasks(types []ResourceType, svc Tasks, blobs BlobEndpoint) []ResourceType {
	p := tasksProvider{svc: svc, blobs: blobs}
	out := make([]ResourceType, 0, len(types)+1)
	for _, t := range types {
		if strings.EqualFold(t.FullType(), registryType) {
			actions := make(map[string]Op, len(t.Actions)+2)
			for k, v := range t.Actions {
				actions[k] = v
			}
			actions["scheduleRun"] = Op{Action: actionScheduleRun, Auth: CheckAction, Serve: p.scheduleRun}
			actions["listBuildSourceUploadUrl"] = Op{Action: actionListUploadURL, Auth: CheckAction, Serve: p.listUploadURL}
			t.Actions = actions
		}
		out = append(out, t)
	}
	return append(out, ResourceType{
		Namespace: registryNamespace, Type: "registries/runs",
		Item: Methods{
			http.MethodGet:   {Action: actionRunsRead, Auth: CheckAction, Serve: p.getRun},
			http.MethodPatch: {Action: actionRunsWrite, Auth: CheckAction, Serve: p.patchRun},
		},
		Collection: Methods{http.MethodGet: {Action: actionRunsRead, Auth: CheckAction, Serve: p.listRuns}},
		Actions: map[string]Op{
			"cancel":        {Action: actionRunsCancel, Auth: CheckAction, Serve: p.cancelRun},
			"listLogSasUrl": {Action: actionRunsListLogSasURL, Auth: CheckAction, Serve: p.logURL},
		},
	})
}

type tasksProvider struct {
	svc   Tasks
	blobs BlobEndpoint
}

// registryOf returns the group and name of the registry a call addresses:
// the item of a registry action, or the parent of a run.
func registryOf(c *Call) (resourceid.ID, string) {
	group := resourceid.ForResourceGroup(c.Scope.SubscriptionID, c.Scope.ResourceGroup)
	return group, c.Names[0]
}

func (p tasksProvider) blobURL(r *http.Request, g task.BlobGrant) string {
	return p.blobs(r) + "/" + g.Container + "/" + g.Path + "?" + g.Query
}

// listUploadURL serves POST …/registries/{r}/listBuildSourceUploadUrl.
func (p tasksProvider) listUploadURL(ctx context.Context, w http.ResponseWriter, c *Call) error {
	group, name := registryOf(c)
	g, err := p.svc.SourceUploadURL(ctx, group, name)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	server.WriteJSON(w, http.StatusOK, arm.SourceUploadDefinition{UploadURL: p.blobURL(c.Request, g), RelativePath: g.Path})
	return nil
}

// caller is the principal of the call with the client secret its token
// was issued for.
func (c *Call) taskCaller(ctx context.Context) (task.Caller, error) {
	_, claims, err := c.h.identity.Verify(ctx, server.BearerToken(c.Request), identity.ARM)
	if err != nil {
		return task.Caller{}, err
	}
	return task.Caller{Principal: c.Caller, KeyID: claims.CKID}, nil
}

func errRunRequest(format string, args ...any) error {
	return errdefs.Newf(errdefs.InvalidArgument, "InvalidRequestContent", format, args...)
}

// scheduleRun serves POST …/registries/{r}/scheduleRun.
func (p tasksProvider) scheduleRun(ctx context.Context, w http.ResponseWriter, c *Call) error {
	var body arm.RunRequest
	if err := server.DecodeJSON(c.Request, &body, false); err != nil {
		return err
	}
	if body.AgentPoolName != "" {
		return errRunRequest("Agent pools are not supported: omit agentPoolName.")
	}
	if err := checkRunCredentials(body.Credentials); err != nil {
		return err
	}
	caller, err := c.taskCaller(ctx)
	if err != nil {
		return err
	}
	group, name := registryOf(c)
	platform := task.Platform{}
	if body.Platform != nil {
		platform = task.Platform{OS: body.Platform.OS, Architecture: body.Platform.Architecture, Variant: body.Platform.Variant}
	}
	timeout := 0
	if body.Timeout != nil {
		timeout = *body.Timeout
	}
	archive := body.IsArchiveEnabled != nil && *body.IsArchiveEnabled
	var run task.Run
	switch {
	case strings.EqualFold(body.Type, "DockerBuildRequest"):
		args := make([]task.BuildArg, 0, len(body.Arguments))
		for _, a := range body.Arguments {
			args = append(args, task.BuildArg{Name: a.Name, Value: a.Value, Secret: a.IsSecret})
		}
		run, err = p.svc.ScheduleBuild(ctx, caller, group, name, task.BuildSpec{
			SourceLocation: body.SourceLocation, Dockerfile: body.DockerFilePath, Images: body.ImageNames,
			Push: body.IsPushEnabled == nil || *body.IsPushEnabled, NoCache: body.NoCache != nil && *body.NoCache,
			Target: body.Target, Args: args, Platform: platform, Timeout: timeout, ArchiveEnabled: archive,
		})
	case strings.EqualFold(body.Type, "EncodedTaskRunRequest"):
		if body.EncodedValuesContent != "" {
			return errRunRequest("encodedValuesContent is not supported: pass values instead.")
		}
		if body.SourceLocation != "" {
			return errRunRequest("A quick run with a source is not supported: run with /dev/null as the source.")
		}
		values := make([]task.BuildArg, 0, len(body.Values))
		for _, v := range body.Values {
			values = append(values, task.BuildArg{Name: v.Name, Value: v.Value, Secret: v.IsSecret})
		}
		run, err = p.svc.ScheduleRun(ctx, caller, group, name, task.CommandSpec{
			EncodedTask: body.EncodedTaskContent, Values: values, Platform: platform, Timeout: timeout, ArchiveEnabled: archive,
		})
	case body.Type == "":
		return errRunRequest("The run request has no 'type': it must be DockerBuildRequest or EncodedTaskRunRequest.")
	default:
		return errRunRequest("The run request type '%s' is not supported: Cerulean runs DockerBuildRequest and EncodedTaskRunRequest.", clip(body.Type))
	}
	if err != nil {
		return err
	}
	server.WriteJSON(w, http.StatusOK, runWire(c.Scope, name, run))
	return nil
}

// checkRunCredentials accepts {} and the source registry's login modes;
// custom registries' credentials are not supported.
func checkRunCredentials(raw []byte) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var cr arm.RunCredentials
	if err := json.Unmarshal(raw, &cr); err != nil {
		return errRunRequest("The credentials are invalid: %s", clip(err.Error()))
	}
	if len(cr.CustomRegistries) > 0 {
		return errRunRequest("credentials.customRegistries is not supported: runs use the caller's own rights on this server's registries.")
	}
	return nil
}

// runID checks a run id from a path.
var runIDRE = regexp.MustCompile(`^[A-Za-z0-9]{1,50}$`)

func runName(c *Call) (string, error) {
	id := c.Names[len(c.Names)-1]
	if !runIDRE.MatchString(id) {
		return "", task.ErrRunNotFound.WithMessage("The run '%s' was not found.", clip(id))
	}
	return id, nil
}

// getRun serves GET …/runs/{id}.
func (p tasksProvider) getRun(ctx context.Context, w http.ResponseWriter, c *Call) error {
	group, name := registryOf(c)
	id, err := runName(c)
	if err != nil {
		return err
	}
	r, err := p.svc.Get(ctx, group, name, id)
	if err != nil {
		return err
	}
	server.WriteJSON(w, http.StatusOK, runWire(c.Scope, name, r))
	return nil
}

// patchRun serves PATCH …/runs/{id}: isArchiveEnabled.
func (p tasksProvider) patchRun(ctx context.Context, w http.ResponseWriter, c *Call) error {
	group, name := registryOf(c)
	id, err := runName(c)
	if err != nil {
		return err
	}
	var body arm.RunUpdateParameters
	if err := server.DecodeJSON(c.Request, &body, false); err != nil {
		return err
	}
	var r task.Run
	if body.IsArchiveEnabled != nil {
		r, err = p.svc.SetArchive(ctx, group, name, id, *body.IsArchiveEnabled)
	} else {
		r, err = p.svc.Get(ctx, group, name, id)
	}
	if err != nil {
		return err
	}
	server.WriteJSON(w, http.StatusOK, runWire(c.Scope, name, r))
	return nil
}

// cancelRun serves POST …/runs/{id}/cancel: 200, no body.
func (p tasksProvider) cancelRun(ctx context.Context, w http.ResponseWriter, c *Call) error {
	group, name := registryOf(c)
	id, err := runName(c)
	if err != nil {
		return err
	}
	if _, err := p.svc.Cancel(ctx, group, name, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// logURL serves POST …/runs/{id}/listLogSasUrl.
func (p tasksProvider) logURL(ctx context.Context, w http.ResponseWriter, c *Call) error {
	group, name := registryOf(c)
	id, err := runName(c)
	if err != nil {
		return err
	}
	g, err := p.svc.LogURL(ctx, group, name, id)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	server.WriteJSON(w, http.StatusOK, arm.RunGetLogResult{LogLink: p.blobURL(c.Request, g)})
	return nil
}

// filterRE matches one clause of list-runs' $filter that Cerulean
// evaluates: Status eq '…', TaskName eq '…' and (az acr task list-runs
// --image) contains(OutputImageManifests, '<repository>@<digest>').
var (
	filterRE      = regexp.MustCompile(`(?i)^\s*(status|taskname)\s+eq\s+'([^']*)'\s*$`)
	imageFilterRE = regexp.MustCompile(`(?i)^\s*contains\(\s*outputimagemanifests\s*,\s*'([^']*)'\s*\)\s*$`)
)

// listRuns serves GET …/runs: newest first, $top (default all, at most
// 1000) and a $filter of Status eq, TaskName eq and
// contains(OutputImageManifests, …) clauses joined by and.
// Quick runs belong to no task, so a TaskName clause matches none.
func (p tasksProvider) listRuns(ctx context.Context, w http.ResponseWriter, c *Call) error {
	group, name := registryOf(c)
	f := task.RunFilter{Top: 1000}
	if top := c.Query("$top"); top != "" {
		n, err := strconv.Atoi(top)
		if err != nil || n < 1 {
			return errdefs.Newf(errdefs.InvalidArgument, "InvalidQueryParameterValue", "The value '%s' of $top is not a positive integer.", clip(top))
		}
		f.Top = min(n, 1000)
	}
	none := false
	if filter := strings.TrimSpace(c.Query("$filter")); filter != "" {
		for _, clause := range regexp.MustCompile(`(?i)\s+and\s+`).Split(filter, -1) {
			if m := imageFilterRE.FindStringSubmatch(clause); m != nil {
				f.Image = m[1]
				continue
			}
			m := filterRE.FindStringSubmatch(clause)
			if m == nil {
				return errdefs.Newf(errdefs.InvalidArgument, "InvalidFilter",
					"The $filter '%s' is not supported: Cerulean filters runs by \"Status eq '<status>'\", \"TaskName eq '<task>'\" and \"contains(OutputImageManifests, '<repository>@<digest>')\" joined with 'and'.", clip(filter))
			}
			if strings.EqualFold(m[1], "taskname") {
				none = true
				continue
			}
			f.Status = canonicalStatus(m[2])
		}
	}
	out := []arm.Run{}
	if !none {
		runs, err := p.svc.List(ctx, group, name, f)
		if err != nil {
			return err
		}
		for _, r := range runs {
			out = append(out, runWire(c.Scope, name, r))
		}
	}
	server.WriteJSON(w, http.StatusOK, arm.List[arm.Run]{Value: out})
	return nil
}

// canonicalStatus spells a status as ACR does (the filter is
// case-insensitive).
func canonicalStatus(s string) task.Status {
	for _, st := range []task.Status{task.StatusQueued, "Started", task.StatusRunning, task.StatusSucceeded, task.StatusFailed,
		task.StatusCanceled, task.StatusError, task.StatusTimeout} {
		if strings.EqualFold(string(st), s) {
			return st
		}
	}
	return task.Status(s)
}

// runWire renders a run as ARM's Run resource. scope is the registry's
// group (registry actions) or the registry itself (runs routes).
func runWire(scope resourceid.ID, registryName string, r task.Run) arm.Run {
	id := resourceid.ForResource(scope.SubscriptionID, scope.ResourceGroup, registryNamespace, "registries", registryName)
	tp := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		u := t.UTC()
		return &u
	}
	out := arm.Run{
		ID: id.String() + "/runs/" + r.ID, Name: r.ID, Type: runsType,
		Properties: arm.RunProperties{
			RunID: r.ID, Status: string(r.Status), LastUpdatedTime: tp(r.UpdatedAt), RunType: string(r.Type),
			CreateTime: tp(r.CreatedAt), StartTime: tp(r.StartedAt), FinishTime: tp(r.FinishedAt),
			Platform:           &arm.PlatformProperties{OS: r.Platform.OS, Architecture: r.Platform.Architecture, Variant: r.Platform.Variant},
			AgentConfiguration: &arm.AgentProperties{CPU: 2},
			RunErrorMessage:    r.ErrorMessage, ProvisioningState: "Succeeded", IsArchiveEnabled: r.ArchiveEnabled,
		},
	}
	for _, im := range r.OutputImages {
		out.Properties.OutputImages = append(out.Properties.OutputImages, arm.ImageDescriptor{
			Registry: im.Registry, Repository: im.Repository, Tag: im.Tag, Digest: im.Digest,
		})
	}
	return out
}
