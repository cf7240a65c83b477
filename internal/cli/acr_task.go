package cli

// az acr task list-runs, show-run and logs (acr/task.py) for the runs of
// quick builds and quick runs.

import (
	"fmt"
	"strconv"
	"strings"
)

var runStatuses = []string{"Canceled", "Error", "Failed", "Queued", "Running", "Started", "Succeeded", "Timeout"}

// acrTaskImageArg is --image/-t of list-runs and logs.
func acrTaskImageArg() *argDef {
	return &argDef{dest: "image", options: []string{"--image", "-t"}, kind: argValue,
		help: "The name of the image. May include a tag in the format 'name:tag' or digest in the format 'name@digest'."}
}

func acrTaskNameArg() *argDef {
	return &argDef{dest: "task_name", options: []string{"--name", "-n"}, kind: argValue, help: "The name of the task."}
}

// az acr task list-runs.
func acrTaskListRunsCommand() *command {
	return &command{
		path:         "acr task list-runs",
		short:        "List all of the executed runs for an Azure Container Registry, with the ability to filter by a specific Task.",
		subscription: true,
		table:        transformRuns,
		args: []*argDef{
			acrRegistryArg(), acrTaskImageArg(), acrTaskNameArg(),
			{dest: "run_status", options: []string{"--run-status"}, kind: argValue, choices: runStatuses, help: "The current status of run."},
			{dest: "top", options: []string{"--top"}, kind: argValue, help: "Limit the number of latest runs in the results.  Default: 15."},
			acrGroupArg(false),
		},
		run: func(i *inv) (any, error) {
			top := 15
			if i.args.has("top") {
				n, err := strconv.Atoi(strings.TrimSpace(i.args.str("top")))
				if err != nil {
					return nil, errorf("Limit the number of latest runs in the results: '%s' is not an integer.", i.args.str("top"))
				}
				top = n
			}
			s, name, group, err := i.taskRegistry(taskNotSupported)
			if err != nil {
				return nil, err
			}
			filter, err := i.runFilter(s, name, i.args.str("run_status"))
			if err != nil {
				return nil, err
			}
			runs, err := s.arm().ListRuns(i.ctx, s.subscriptionID(), group, name, filter, top)
			if err != nil {
				return nil, err
			}
			return runsOutput(runs), nil
		},
	}
}

// runFilter is acr_task_list_runs' $filter: TaskName, Status and the
// output image (a tag is resolved to its digest first).
func (i *inv) runFilter(s *session, registry, status string) (string, error) {
	var parts []string
	if t := i.args.str("task_name"); t != "" {
		parts = append(parts, fmt.Sprintf("TaskName eq '%s'", t))
	}
	if status != "" {
		parts = append(parts, fmt.Sprintf("Status eq '%s'", status))
	}
	if image := i.args.str("image"); image != "" {
		repository, digest, err := i.imageDigest(s, registry, image)
		if err != nil {
			msg, _, _ := describeError(err)
			return "", errorf("Could not find image '%s'. %s", image, msg)
		}
		parts = append(parts, fmt.Sprintf("contains(OutputImageManifests, '%s@%s')", repository, digest))
	}
	return strings.Join(parts, " and "), nil
}

// imageDigest is repository.get_image_digest: a digest as given, or the
// one the tag points at.
func (i *inv) imageDigest(s *session, registry, image string) (repository, digest string, err error) {
	repository, tag, digest, err := parseImageName(image, true)
	if err != nil || digest != "" {
		return repository, digest, err
	}
	d, err := i.acrDataFor(s)
	if err != nil {
		return "", "", err
	}
	r, err := d.registryNamed(registry)
	if err != nil {
		return "", "", err
	}
	cred, err := d.credentials(r, "", "", credRequest{repository: repository, permission: "metadata_read"})
	if err != nil {
		return "", "", err
	}
	digest, err = d.getManifestDigest(r, cred, repository, tag)
	return repository, digest, err
}

// az acr task show-run.
func acrTaskShowRunCommand() *command {
	return &command{
		path:         "acr task show-run",
		short:        "Get the properties of a specified run of an Azure Container Registry Task.",
		subscription: true,
		show:         true,
		table:        transformRuns,
		args:         []*argDef{acrRegistryArg(), withRequired(argRunID), acrGroupArg(false)},
		run: func(i *inv) (any, error) {
			s, name, group, err := i.taskRegistry(taskNotSupported)
			if err != nil {
				return nil, err
			}
			run, err := s.arm().GetRun(i.ctx, s.subscriptionID(), group, name, i.args.str("run_id"))
			if err != nil {
				return nil, err
			}
			return runOutput(run), nil
		},
	}
}

// az acr task cancel-run: like az, it prints nothing.
func acrTaskCancelRunCommand() *command {
	return &command{
		path:         "acr task cancel-run",
		short:        "Cancel a specified run of an Azure Container Registry.",
		subscription: true,
		args:         []*argDef{acrRegistryArg(), withRequired(argRunID), acrGroupArg(false)},
		run: func(i *inv) (any, error) {
			s, name, group, err := i.taskRegistry(taskNotSupported)
			if err != nil {
				return nil, err
			}
			return nil, s.arm().CancelRun(i.ctx, s.subscriptionID(), group, name, i.args.str("run_id"))
		},
	}
}

// az acr task logs.
func acrTaskLogsCommand() *command {
	return &command{
		path:         "acr task logs",
		short:        "Show logs for a particular run. If no run-id is supplied, show logs for the last created run.",
		subscription: true,
		args:         []*argDef{acrRegistryArg(), acrTaskImageArg(), acrTaskNameArg(), argNoFormat, argRunID, acrGroupArg(false)},
		run: func(i *inv) (any, error) {
			s, name, group, err := i.taskRegistry(taskNotSupported)
			if err != nil {
				return nil, err
			}
			runID := i.args.str("run_id")
			if runID == "" {
				filter, err := i.runFilter(s, name, "")
				if err != nil {
					return nil, err
				}
				runs, err := s.arm().ListRuns(i.ctx, s.subscriptionID(), group, name, filter, 1)
				if err != nil {
					return nil, err
				}
				if len(runs) == 0 {
					return nil, errorf("%s", lastRunMessage("Could not find the last created run", i.args.str("task_name"), i.args.str("image")))
				}
				runID = runs[0].Properties.RunID
				i.app.log.warnf(logACRTask, "%s", lastRunMessage("Showing logs of the last created run", i.args.str("task_name"), i.args.str("image")))
				i.app.log.warnf(logACRTask, "Run ID: %s", runID)
			}
			return nil, i.streamRunLogs(s, name, group, runID, nil, false)
		},
	}
}

// lastRunMessage is _get_list_runs_message.
func lastRunMessage(base, task, image string) string {
	if task != "" {
		base = fmt.Sprintf("%s for task '%s'", base, task)
	}
	if image != "" {
		base = fmt.Sprintf("%s for image '%s'", base, image)
	}
	return base + "."
}
