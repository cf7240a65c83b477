package cli

// A run as az prints it: the azure-mgmt-containerregistry (2019-06-01-preview)
// Run model flattened by todict (every attribute, null when unset; az sorts
// the keys when it prints JSON), plus the resourceGroup az adds; and
// _format._run_format_group for -o table.

import (
	"fmt"
	"time"

	"github.com/cerulean/cerulean/internal/cli/output"
	"github.com/cerulean/cerulean/internal/client"
)

type runOut struct {
	ID                 string                 `json:"id"`
	Name               string                 `json:"name"`
	Type               string                 `json:"type"`
	SystemData         *systemDataOut         `json:"systemData"`
	RunID              *string                `json:"runId"`
	Status             *string                `json:"status"`
	LastUpdatedTime    *string                `json:"lastUpdatedTime"`
	RunType            *string                `json:"runType"`
	AgentPoolName      *string                `json:"agentPoolName"`
	CreateTime         *string                `json:"createTime"`
	StartTime          *string                `json:"startTime"`
	FinishTime         *string                `json:"finishTime"`
	OutputImages       []imageDescriptorOut   `json:"outputImages"`
	Task               *string                `json:"task"`
	ImageUpdateTrigger *imageUpdateTriggerOut `json:"imageUpdateTrigger"`
	SourceTrigger      *sourceTriggerOut      `json:"sourceTrigger"`
	TimerTrigger       *timerTriggerOut       `json:"timerTrigger"`
	Platform           *platformOut           `json:"platform"`
	AgentConfiguration *agentConfigurationOut `json:"agentConfiguration"`
	SourceRegistryAuth *string                `json:"sourceRegistryAuth"`
	CustomRegistries   []string               `json:"customRegistries"`
	RunErrorMessage    *string                `json:"runErrorMessage"`
	UpdateTriggerToken *string                `json:"updateTriggerToken"`
	LogArtifact        *imageDescriptorOut    `json:"logArtifact"`
	ProvisioningState  *string                `json:"provisioningState"`
	IsArchiveEnabled   bool                   `json:"isArchiveEnabled"`
	ResourceGroup      *string                `json:"resourceGroup,omitempty"`
}

type imageDescriptorOut struct {
	Registry   *string `json:"registry"`
	Repository *string `json:"repository"`
	Tag        *string `json:"tag"`
	Digest     *string `json:"digest"`
}

type imageUpdateTriggerOut struct {
	ID        *string              `json:"id"`
	Timestamp *string              `json:"timestamp"`
	Images    []imageDescriptorOut `json:"images"`
}

type sourceTriggerOut struct {
	ID            *string `json:"id"`
	EventType     *string `json:"eventType"`
	CommitID      *string `json:"commitId"`
	PullRequestID *string `json:"pullRequestId"`
	RepositoryURL *string `json:"repositoryUrl"`
	BranchName    *string `json:"branchName"`
	ProviderType  *string `json:"providerType"`
}

type timerTriggerOut struct {
	TimerTriggerName   *string `json:"timerTriggerName"`
	ScheduleOccurrence *string `json:"scheduleOccurrence"`
}

type platformOut struct {
	OS           *string `json:"os"`
	Architecture *string `json:"architecture"`
	Variant      *string `json:"variant"`
}

type agentConfigurationOut struct {
	CPU *int `json:"cpu"`
}

func optTime(t *time.Time) *string {
	if t == nil {
		return nil
	}
	return pyTime(*t)
}

func imageOut(d client.ImageDescriptor) imageDescriptorOut {
	return imageDescriptorOut{Registry: strPtrOrNil(d.Registry), Repository: strPtrOrNil(d.Repository),
		Tag: strPtrOrNil(d.Tag), Digest: strPtrOrNil(d.Digest)}
}

func imagesOut(ds []client.ImageDescriptor) []imageDescriptorOut {
	if ds == nil {
		return nil
	}
	out := make([]imageDescriptorOut, 0, len(ds))
	for _, d := range ds {
		out = append(out, imageOut(d))
	}
	return out
}

// runOutput flattens a run the way az prints it.
func runOutput(r client.Run) runOut {
	p := r.Properties
	out := runOut{
		ID: r.ID, Name: r.Name, Type: r.Type,
		RunID: strPtrOrNil(p.RunID), Status: strPtrOrNil(p.Status), LastUpdatedTime: optTime(p.LastUpdatedTime),
		RunType: strPtrOrNil(p.RunType), AgentPoolName: strPtrOrNil(p.AgentPoolName), CreateTime: optTime(p.CreateTime),
		StartTime: optTime(p.StartTime), FinishTime: optTime(p.FinishTime), OutputImages: imagesOut(p.OutputImages),
		Task: strPtrOrNil(p.Task), SourceRegistryAuth: strPtrOrNil(p.SourceRegistryAuth), CustomRegistries: p.CustomRegistries,
		RunErrorMessage: strPtrOrNil(p.RunErrorMessage), UpdateTriggerToken: strPtrOrNil(p.UpdateTriggerToken),
		ProvisioningState: strPtrOrNil(p.ProvisioningState), IsArchiveEnabled: p.IsArchiveEnabled != nil && *p.IsArchiveEnabled,
		ResourceGroup: resourceGroupOfID(r.ID),
	}
	if sd := r.SystemData; sd != nil {
		out.SystemData = &systemDataOut{
			CreatedBy: strPtrOrNil(sd.CreatedBy), CreatedByType: strPtrOrNil(sd.CreatedByType), CreatedAt: pyTime(sd.CreatedAt),
			LastModifiedBy: strPtrOrNil(sd.LastModifiedBy), LastModifiedByType: strPtrOrNil(sd.LastModifiedByType),
			LastModifiedAt: pyTime(sd.LastModifiedAt),
		}
	}
	if t := p.ImageUpdateTrigger; t != nil {
		out.ImageUpdateTrigger = &imageUpdateTriggerOut{ID: strPtrOrNil(t.ID), Timestamp: optTime(t.Timestamp), Images: imagesOut(t.Images)}
	}
	if t := p.SourceTrigger; t != nil {
		out.SourceTrigger = &sourceTriggerOut{ID: strPtrOrNil(t.ID), EventType: strPtrOrNil(t.EventType), CommitID: strPtrOrNil(t.CommitID),
			PullRequestID: strPtrOrNil(t.PullRequestID), RepositoryURL: strPtrOrNil(t.RepositoryURL), BranchName: strPtrOrNil(t.BranchName),
			ProviderType: strPtrOrNil(t.ProviderType)}
	}
	if t := p.TimerTrigger; t != nil {
		out.TimerTrigger = &timerTriggerOut{TimerTriggerName: strPtrOrNil(t.TimerTriggerName), ScheduleOccurrence: strPtrOrNil(t.ScheduleOccurrence)}
	}
	if pl := p.Platform; pl != nil {
		out.Platform = &platformOut{OS: strPtrOrNil(pl.OS), Architecture: strPtrOrNil(pl.Architecture), Variant: strPtrOrNil(pl.Variant)}
	}
	if a := p.AgentConfiguration; a != nil {
		out.AgentConfiguration = &agentConfigurationOut{CPU: a.CPU}
	}
	if l := p.LogArtifact; l != nil {
		d := imageOut(*l)
		out.LogArtifact = &d
	}
	return out
}

func runsOutput(runs []client.Run) []runOut {
	out := make([]runOut, 0, len(runs))
	for _, r := range runs {
		out = append(out, runOutput(r))
	}
	return out
}

// transformRuns is _format.run_output_format.
func transformRuns(result any) any {
	if m, ok := result.(map[string]any); ok {
		if v, ok := m["value"].([]any); ok {
			result = v
		}
	}
	return acrRows(result, func(r map[string]any) output.Row {
		started, finished := acrValue(r, "startTime"), acrValue(r, "finishTime")
		return output.Row{
			{Key: "RUN ID", Value: acrValue(r, "runId")},
			{Key: "TASK", Value: acrValue(r, "task")},
			{Key: "PLATFORM", Value: acrValue(r, "platform", "os")},
			{Key: "STATUS", Value: acrValue(r, "status")},
			{Key: "TRIGGER", Value: runTrigger(acrValue(r, "imageUpdateTrigger"), acrValue(r, "sourceTrigger", "eventType"), acrValue(r, "timerTrigger"))},
			{Key: "STARTED", Value: runDate(started)},
			{Key: "DURATION", Value: runDuration(started, finished)},
		}
	})
}

// runTrigger is _get_build_trigger.
func runTrigger(imageUpdate, sourceEvent, timer string) string {
	switch {
	case sourceEvent != " " && sourceEvent != "":
		return sourceEvent
	case timer != " " && timer != "":
		return "Timer"
	case imageUpdate != " " && imageUpdate != "":
		return "Image Update"
	}
	return "Manual"
}

// parsePyTime reads the times runOutput writes (and RFC 3339).
func parsePyTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// runDate is _format_datetime: "%Y-%m-%dT%H:%M:%SZ" of the time in its
// own offset; what does not parse is shown as it is.
func runDate(s string) string {
	if t, ok := parsePyTime(s); ok {
		return t.Format("2006-01-02T15:04:05Z")
	}
	return s
}

// runDuration is _get_duration: HH:MM:SS, or " " when a time is missing.
func runDuration(start, finish string) string {
	s, ok1 := parsePyTime(start)
	f, ok2 := parsePyTime(finish)
	if !ok1 || !ok2 {
		return " "
	}
	d := f.Sub(s)
	// Python's timedelta floors to whole seconds, days may be negative.
	secs := int64(d / time.Second)
	if d < 0 && d%time.Second != 0 {
		secs--
	}
	days, rem := secs/86400, secs%86400
	if rem < 0 {
		rem += 86400
		days--
	}
	return fmt.Sprintf("%02d:%02d:%02d", 24*days+rem/3600, (rem%3600)/60, rem%60)
}
