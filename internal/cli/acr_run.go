package cli

// az acr run (acr/run.py) with no source context (/dev/null): the task is
// --cmd, made into az's one-step YAML, or the YAML of --file (a local
// file, or '-' for the standard input), sent base64-encoded in an
// EncodedTaskRunRequest; then the run is followed as az acr build's is.
// A source context (a directory or URL, sent by az as a
// FileTaskRunRequest) is not supported by Cerulean.

import (
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/cerulean/cerulean/internal/client"
)

// az acr run.
func acrRunCommand() *command {
	return &command{
		path:         "acr run",
		short:        "Queues a quick run providing streamed logs for an Azure Container Registry.",
		subscription: true,
		table:        transformRuns,
		args: []*argDef{
			acrRegistryArg(),
			{dest: "source_location", options: []string{"<SOURCE_LOCATION>"}, positional: true, required: true, group: "Positional",
				help: "The local source code directory path (e.g., './src'), or the URL to a git repository (e.g., 'https://github.com/Azure-Samples/acr-build-helloworld-node.git'), or a remote tarball (e.g., 'http://server/context.tar.gz'), or the repository of an OCI artifact in an Azure container registry (e.g., 'oci://myregistry.azurecr.io/myartifact:mytag'). If '/dev/null' is specified, the value will be set to None and ignored. (Cerulean runs only with '/dev/null'.)"},
			{dest: "cmd_value", options: []string{"--cmd"}, kind: argValue,
				help: "Commands to execute. This also supports additional docker run parameters (https://docs.docker.com/engine/reference/commandline/run/) or even other docker commands (https://docs.docker.com/engine/reference/commandline/docker/)."},
			{dest: "file", options: []string{"--file", "-f"}, kind: argValue,
				help: "The task template/definition file path relative to the source context. It can be '-' to pipe a file from the standard input."},
			{dest: "values", options: []string{"--values"}, kind: argValue, help: "The task values file path relative to the source context."},
			{dest: "set_value", options: []string{"--set"}, kind: argAppend,
				help: "Value in 'name[=value]' format. Multiples supported by passing --set multiple times."},
			{dest: "set_secret", options: []string{"--set-secret"}, kind: argAppend,
				help: "Secret value in '--set name[=value]' format. Multiples supported by passing --set multiple times."},
			{dest: "no_logs", options: []string{"--no-logs"}, kind: argFlag, help: "Do not show logs after successfully queuing the build."},
			{dest: "no_wait", options: []string{"--no-wait"}, kind: argFlag,
				help: "Do not wait for the run to complete and return immediately after queuing the run."},
			argTimeout, argNoFormat, argPlatform, argAuthMode, argAgentPool, argLogTemplate,
			acrGroupArg(false),
		},
		run: runACRRun,
	}
}

func runACRRun(i *inv) (any, error) {
	a := i.args
	timeout, err := i.intArg("timeout", "--timeout")
	if err != nil {
		return nil, err
	}
	values := append(i.buildArguments(a.list("set_value"), false, false), i.buildArguments(a.list("set_secret"), true, false)...)
	s, name, group, err := i.taskRegistry(runNotSupported)
	if err != nil {
		return nil, err
	}
	cmdValue, file := a.str("cmd_value"), a.str("file")
	if cmdValue != "" && file != "" {
		return nil, errorf("Azure Container Registry can run with either --cmd myCommand /dev/null or -f myFile mySourceLocation, but not both.")
	}
	if source := a.str("source_location"); source != "" && !strings.EqualFold(source, "/dev/null") {
		return nil, errorf("Cerulean runs tasks without a source context only: pass '/dev/null' as the source location (got '%s').", source)
	}
	platform, err := runPlatform(a.str("platform"))
	if err != nil {
		return nil, err
	}
	task, err := i.taskYAML(cmdValue, timeout, file)
	if err != nil {
		return nil, err
	}
	run, err := s.arm().ScheduleQuickRun(i.ctx, s.subscriptionID(), group, name, client.QuickRun{
		Task: task, Values: values, Timeout: timeout, Platform: platform,
		AgentPoolName: a.str("agent_pool_name"), LogTemplate: a.str("log_template"), AuthMode: a.str("auth_mode"),
	})
	if err != nil {
		return nil, err
	}
	i.app.log.warnf(logACRRun, "Queued a run with ID: %s", run.Properties.RunID)
	return i.followRun(s, name, group, run, timeout, logACRRun)
}

// taskYAML is get_yaml_template.
func (i *inv) taskYAML(cmdValue string, timeout *int, file string) (string, error) {
	yaml := "version: v1.1.0\n"
	if cmdValue != "" {
		yaml += "steps: \n  - cmd: " + cmdValue + "\n    disableWorkingDirectoryOverride: true\n"
		if timeout != nil && *timeout != 0 {
			yaml += "    timeout: " + strconv.Itoa(*timeout) + "\n"
		}
		return yaml, nil
	}
	if file == "" {
		file = "acb.yaml"
	}
	if file == "-" {
		data, err := io.ReadAll(i.app.stdin)
		if err != nil {
			return "", &cliError{msg: err.Error()}
		}
		return yaml + string(data), nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return "", errorf("%s does not exist.", file)
	}
	return yaml + string(data), nil
}
