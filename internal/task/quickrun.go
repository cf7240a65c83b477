package task

import (
	"encoding/base64"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// A quick run (`az acr run --cmd "IMAGE ARGS" /dev/null`) arrives as an
// EncodedTaskRunRequest: a base64 acb.yaml of the form
//
//	version: v1.1.0
//	steps:
//	  - cmd: <the --cmd value>
//	    disableWorkingDirectoryOverride: true
//	    timeout: <seconds>
//
// ACR's runner runs each cmd step as `docker run <runner options> <cmd>`,
// so a cmd may start with docker run options before the image.

// maxTaskYAML bounds the decoded task file.
const maxTaskYAML = 256 << 10

type taskFile struct {
	Version string     `yaml:"version"`
	Steps   []taskStep `yaml:"steps"`
}

type taskStep struct {
	ID                              string   `yaml:"id"`
	Cmd                             string   `yaml:"cmd"`
	Build                           string   `yaml:"build"`
	Push                            any      `yaml:"push"`
	DisableWorkingDirectoryOverride bool     `yaml:"disableWorkingDirectoryOverride"`
	Timeout                         int      `yaml:"timeout"`
	Env                             []string `yaml:"env"`
}

// commandStep is one cmd step, ready to run.
type commandStep struct {
	ID      string
	Image   string
	Args    []string
	Env     []string
	Network bool
	Timeout int // seconds, 0 for the run's
	// Ignored are the docker run options the step named that Cerulean
	// does not honour, for the log.
	Ignored []string
}

// decodeTask decodes an encoded task file into its steps.
func decodeTask(encoded string) (taskFile, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(encoded))
	if err != nil {
		return taskFile{}, ErrInvalidRequest.WithMessage("The encodedTaskContent is not valid base64.").WithTarget("encodedTaskContent")
	}
	if len(raw) > maxTaskYAML {
		return taskFile{}, ErrInvalidRequest.WithMessage("The task file is larger than %d KiB.", maxTaskYAML>>10).WithTarget("encodedTaskContent")
	}
	var tf taskFile
	if err := yaml.Unmarshal(raw, &tf); err != nil {
		return taskFile{}, ErrInvalidRequest.WithMessage("The task file is not valid YAML: %s", clip(err.Error())).WithTarget("encodedTaskContent")
	}
	if len(tf.Steps) == 0 {
		return taskFile{}, ErrInvalidRequest.WithMessage("The task file has no steps.").WithTarget("encodedTaskContent")
	}
	for i, st := range tf.Steps {
		switch {
		case st.Build != "" || st.Push != nil:
			return taskFile{}, ErrUnsupported.WithMessage("Step %d: only cmd steps are supported in quick runs; build and push steps are not.", i+1).WithTarget("encodedTaskContent")
		case strings.TrimSpace(st.Cmd) == "":
			return taskFile{}, ErrInvalidRequest.WithMessage("Step %d has no cmd.", i+1).WithTarget("encodedTaskContent")
		case st.Timeout < 0:
			return taskFile{}, ErrInvalidRequest.WithMessage("Step %d has a negative timeout.", i+1).WithTarget("encodedTaskContent")
		}
	}
	return tf, nil
}

// dockerRunValueFlags are the docker run options that take a value.
var dockerRunValueFlags = map[string]bool{
	"-e": true, "--env": true, "--network": true, "--net": true, "-w": true, "--workdir": true, "--name": true,
	"-v": true, "--volume": true, "--entrypoint": true, "-u": true, "--user": true, "--env-file": true,
	"-p": true, "--publish": true, "--mount": true, "--memory": true, "-m": true, "--cpus": true,
	"--hostname": true, "-h": true, "--label": true, "-l": true, "--add-host": true, "--platform": true,
	"--pull": true, "--restart": true, "--ulimit": true, "--cap-add": true, "--cap-drop": true,
	"--security-opt": true, "--device": true, "--shm-size": true, "--tmpfs": true, "--log-driver": true,
}

// parseCommand splits a cmd step into docker run options, image and
// arguments. Options Cerulean honours: -e/--env NAME=value (or NAME, from
// nothing: the step's environment is empty) and --network/--net (host or
// a named network: the host's network; none: loopback only). Without
// --network a step has loopback only — unlike ACR, whose steps share a
// NATed network: Cerulean has no per-step NAT yet, and the host's network
// would let any caller allowed to schedule runs reach the host's own
// services and its cloud's metadata endpoint. A step that needs the
// network asks for it. Every other option is accepted and ignored, and
// named in Ignored for the log.
func parseCommand(cmd string) (commandStep, error) {
	words, err := splitShell(cmd)
	if err != nil {
		return commandStep{}, ErrInvalidRequest.WithMessage("The cmd %q cannot be parsed: %v.", clip(cmd), err)
	}
	var st commandStep
	i := 0
	for ; i < len(words) && strings.HasPrefix(words[i], "-") && words[i] != "-"; i++ {
		flag, value, hasValue := strings.Cut(words[i], "=")
		if !hasValue && dockerRunValueFlags[flag] {
			if i+1 >= len(words) {
				return commandStep{}, ErrInvalidRequest.WithMessage("The docker run option %s in the cmd needs a value.", flag)
			}
			i++
			value = words[i]
		}
		switch flag {
		case "-e", "--env":
			if strings.Contains(value, "=") {
				st.Env = append(st.Env, value)
			}
		case "--network", "--net":
			st.Network = value != "none"
		case "--rm", "-d", "--detach", "-i", "--interactive", "-t", "--tty", "-it", "-ti":
			// Irrelevant to a step: it runs to completion and is removed.
		default:
			st.Ignored = append(st.Ignored, flag)
		}
	}
	if i >= len(words) {
		return commandStep{}, ErrInvalidRequest.WithMessage("The cmd %q names no image.", clip(cmd))
	}
	st.Image, st.Args = words[i], words[i+1:]
	return st, nil
}

// expandAliases replaces acb's run aliases ($Registry, $ID, …) in a cmd.
// Longer names go first, so $RegistryName is not read as $Registry + "Name".
func expandAliases(s string, d templateData) string {
	return strings.NewReplacer(
		"$RegistryName", d.Run.RegistryName, "$Registry", d.Run.Registry, "$ID", d.Run.ID, "$Date", d.Run.Date,
		"$OS", d.Run.OS, "$Architecture", d.Run.Architecture, "$Commit", "", "$Branch", "",
	).Replace(s)
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

func stepID(i int, st taskStep) string {
	if st.ID != "" {
		return st.ID
	}
	return fmt.Sprintf("acb_step_%d", i)
}
