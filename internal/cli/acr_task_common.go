package cli

// What az acr build, az acr run and az acr task list-runs|show-run|logs
// share (acr/_utils.py, _validators.py, _stream_utils.py,
// _run_polling.py): the managed-registry check, --platform, build
// arguments and task values, following a run's log blob, and waiting
// for a run without its log.

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/cerulean/cerulean/internal/client"
)

// Logger names of the ACR Tasks modules (shown with --debug).
const (
	logACRBuild  = "cli.azure.cli.command_modules.acr.build"
	logACRRun    = "cli.azure.cli.command_modules.acr.run"
	logACRTask   = "cli.azure.cli.command_modules.acr.task"
	logACRStream = "cli.azure.cli.command_modules.acr._stream_utils"
	logACRUtils  = "cli.azure.cli.command_modules.acr._utils"
	logACRPack   = "cli.azure.cli.command_modules.acr._archive_utils"
	logStorage   = "cli.azure.multiapi.storage.v2018_11_09.common.storageclient"
)

// The messages of build.py, run.py and task.py.
const (
	buildNotSupported = "Builds are only supported for managed registries."
	runNotSupported   = "Run is only available for managed registries."
	taskNotSupported  = "Task is only supported for managed registries."
)

// runDefaultTimeout is ACR_RUN_DEFAULT_TIMEOUT_IN_SEC.
const runDefaultTimeout = 3600

// runPollInterval is RunPolling's: a run without its log is read every 30 s.
const runPollInterval = 30 * time.Second

// acrRegistryArg is --registry/-r of the ACR Tasks commands.
func acrRegistryArg() *argDef {
	return &argDef{dest: "registry_name", options: []string{"--registry", "-r"}, kind: argValue, required: true,
		help: "The name of the container registry. It should be specified in lower case. You can configure the default registry name using `az configure --defaults acr=<registry name>`."}
}

var (
	argTimeout  = &argDef{dest: "timeout", options: []string{"--timeout"}, kind: argValue, help: "The timeout in seconds."}
	argNoFormat = &argDef{dest: "no_format", options: []string{"--no-format"}, kind: argFlag,
		help: "Indicates whether the logs should be displayed in raw format."}
	argPlatform = &argDef{dest: "platform", options: []string{"--platform"}, kind: argValue,
		help: "The platform where build/task is run, Eg, 'windows' and 'linux'. When it's used in build commands, it also can be specified in 'os/arch/variant' format for the resulting image. Eg, linux/arm/v7. The 'arch' and 'variant' parts are optional."}
	argAuthMode = &argDef{dest: "auth_mode", options: []string{"--auth-mode"}, kind: argValue, choices: []string{"Default", "None"},
		help: "Auth mode of the source registry."}
	argAgentPool = &argDef{dest: "agent_pool_name", options: []string{"--agent-pool"}, kind: argValue,
		help: "The name of the agent pool."}
	argLogTemplate = &argDef{dest: "log_template", options: []string{"--log-template"}, kind: argValue,
		help: "The repository and tag template for run log artifact using the format: 'log/repo:tag' (e.g., 'acr/logs:{{.Run.ID}}'). Only applicable to CMK enabled registry."}
	argRunID = &argDef{dest: "run_id", options: []string{"--run-id"}, kind: argValue, help: "The unique run identifier."}
)

// intArg is argparse's type=int: an int, or "argument --x: invalid int
// value: 'v'" (exit 2).
func (i *inv) intArg(dest, option string) (*int, error) {
	if !i.args.has(dest) {
		return nil, nil
	}
	v := i.args.str(dest)
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return nil, &usageError{msg: fmt.Sprintf("argument %s: invalid int value: %s", option, pyRepr(v))}
	}
	return &n, nil
}

// taskRegistry is validate_managed_registry: the session, the registry's
// resource group, and a check that its SKU is a managed one.
func (i *inv) taskRegistry(notSupported string) (s *session, name, group string, err error) {
	s, name, group, err = i.registryTarget()
	if err != nil {
		return nil, "", "", err
	}
	reg, err := s.arm().GetRegistry(i.ctx, s.subscriptionID(), group, name)
	if err != nil {
		return nil, "", "", err
	}
	switch reg.SKU.Name {
	case "Basic", "Standard", "Premium":
	default:
		return nil, "", "", errorf("%s", notSupported)
	}
	return s, name, group, nil
}

// runPlatform is get_validate_platform.
func runPlatform(platform string) (client.RunPlatform, error) {
	p := client.RunPlatform{OS: "linux", Architecture: "amd64"}
	if platform != "" {
		parts := strings.Split(platform, "/")
		p.OS = parts[0]
		if len(parts) > 1 {
			p.Architecture = parts[1]
		}
		if len(parts) > 2 {
			p.Variant = parts[2]
		}
	}
	p.OS, p.Architecture = strings.ToLower(p.OS), strings.ToLower(p.Architecture)
	valid := func(v string, set ...string) bool {
		for _, s := range set {
			if v == s {
				return true
			}
		}
		return false
	}
	oses, arches, variants := []string{"windows", "linux"}, []string{"amd64", "x86", "386", "arm", "arm64"}, []string{"v6", "v7", "v8"}
	switch {
	case !valid(p.OS, oses...):
		return p, errorf("'%s' is not a valid value for OS specified in --platform. Valid options are %s.", p.OS, strings.Join(oses, ","))
	case !valid(p.Architecture, arches...):
		return p, errorf("'%s' is not a valid value for Architecture specified in --platform. Valid options are %s.", p.Architecture, strings.Join(arches, ","))
	case p.Variant != "" && !valid(p.Variant, variants...):
		return p, errorf("'%s' is not a valid value for Variant specified in --platform. Valid options are %s.", p.Variant, strings.Join(variants, ","))
	}
	return p, nil
}

// buildArguments is validate_task_argument (fromEnv: a name without '='
// takes the variable of the environment, as --build-arg does) or
// validate_task_value (--set: an empty value).
func (i *inv) buildArguments(items []string, secret, fromEnv bool) []client.RunArgument {
	var out []client.RunArgument
	for _, it := range items {
		if it == "" {
			continue
		}
		name, value, ok := strings.Cut(it, "=")
		if !ok && fromEnv {
			value = i.app.env(name)
		}
		out = append(out, client.RunArgument{Name: name, Value: value, Secret: secret})
	}
	return out
}

// blobClient opens a log or upload SAS URL: its host is reached through
// the server's address, with the Cerulean CA, as registry login servers
// are.
func (i *inv) blobClient(sasURL string) (*client.Blob, error) {
	cfg := client.BlobConfig{Endpoint: i.app.settings.endpoint, HTTPClient: i.app.httpClient,
		UserAgent: "Azure-Storage/1.4.2-2.1.0 (Python CPython 3; Linux) AZURECLI/" + Version + " (Cerulean)"}
	if cfg.HTTPClient == nil {
		pool, err := i.app.caPool()
		if err != nil {
			return nil, err
		}
		cfg.CAPool = pool
	}
	if i.app.log.level >= levelDebug {
		cfg.Logger = slog.New(slogHandler{l: i.app.log, name: logStorage})
	}
	return client.NewBlob(cfg, sasURL)
}

// streamRunLogs is stream_logs: the run's log, printed on stdout while it
// grows, until the run ends. With raiseOnFailure (build, run) a failed,
// timed-out or cancelled run is an error.
func (i *inv) streamRunLogs(s *session, name, group, runID string, timeout *int, raiseOnFailure bool) error {
	errMsg := fmt.Sprintf("Could not get logs for ID: %s", runID)
	links, err := s.arm().GetRunLogSASURL(i.ctx, s.subscriptionID(), group, name, runID)
	if err != nil {
		// stream_logs turns only msrestazure's CloudError into "Could not
		// get logs"; az 2.45's track-2 client raises HttpResponseError,
		// which az prints as the service's error ((RunNotFound) …, exit 3).
		return err
	}
	if links.LogArtifactLink != "" {
		return i.streamArtifactLogs(links.LogArtifactLink)
	}
	if links.LogLink == "" {
		i.app.log.debugf(logACRStream, "%s Empty SAS URL.", errMsg)
		return errorf("%s", errMsg)
	}
	blob, err := i.blobClient(links.LogLink)
	if err != nil {
		return err
	}
	limit := runDefaultTimeout
	if timeout != nil && *timeout != 0 {
		limit = *timeout
	}
	res, err := blob.TailLog(i.ctx, client.Tail{
		Out: i.app.stdout, Timeout: time.Duration(limit) * time.Second, Sleep: i.app.sleep,
		Debugf: func(format string, args ...any) { i.app.log.debugf(logACRStream, format, args...) },
	})
	if err != nil {
		return err
	}
	if res.GaveUp {
		i.app.log.warnf(logACRStream, "Failed to find any new logs in %d seconds. Client will stop polling for additional logs.", int(res.Idle.Seconds()))
		return nil
	}
	if raiseOnFailure {
		switch strings.ToLower(res.Status) {
		case "internalerror", "failed":
			return errorf("Run failed")
		case "timedout":
			return errorf("Run timed out")
		case "canceled":
			return errorf("Run was canceled")
		}
	}
	return nil
}

// streamArtifactLogs is _stream_artifact_logs: a log kept as an artifact
// is read once, line by line.
func (i *inv) streamArtifactLogs(link string) error {
	blob, err := i.blobClient(link)
	if err != nil {
		return err
	}
	p, err := blob.Properties(i.ctx)
	if err != nil {
		return &cliError{msg: err.Error()}
	}
	data, err := blob.ReadRange(i.ctx, 0, max(p.Size-1, 0))
	if err != nil {
		return &cliError{msg: err.Error()}
	}
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	text = strings.TrimSuffix(text, "\n")
	for _, line := range strings.Split(text, "\n") {
		fmt.Fprintln(i.app.stdout, strings.ToValidUTF8(line, ""))
	}
	return nil
}

// waitForRun is get_run_with_polling: the run, read every 30 s until it
// ends; an unsuccessful end is an error.
func (i *inv) waitForRun(s *session, name, group, runID string) (any, error) {
	run, err := s.arm().GetRun(i.ctx, s.subscriptionID(), group, name, runID)
	if err != nil {
		return nil, err
	}
	for !runFinished(run.Properties.Status) {
		if err := i.app.sleep(i.ctx, runPollInterval); err != nil {
			return nil, err
		}
		if run, err = s.arm().GetRun(i.ctx, s.subscriptionID(), group, name, runID); err != nil {
			return nil, err
		}
	}
	if run.Properties.Status != "Succeeded" {
		return nil, errorf("The run with ID '%s' finished with unsuccessful status '%s'. Show run details by 'az acr task show-run -r %s --run-id %s'. Show run logs by 'az acr task logs -r %s --run-id %s'.",
			runID, run.Properties.Status, name, runID, name, runID)
	}
	return runOutput(run), nil
}

// runFinished is get_finished_run_status (a missing status counts as
// Queued).
func runFinished(status string) bool {
	switch status {
	case "Succeeded", "Failed", "Canceled", "Error", "Timeout":
		return true
	}
	return false
}

// tempDir is tempfile.gettempdir().
func (a *app) tempDir() string {
	for _, k := range []string{"TMPDIR", "TEMP", "TMP"} {
		if d := a.env(k); d != "" {
			return d
		}
	}
	return os.TempDir()
}

// uuidHex is uuid.uuid4().hex.
func (a *app) uuidHex() string { return strings.ReplaceAll(a.uuid(), "-", "") }
