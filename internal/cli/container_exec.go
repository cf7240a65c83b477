package cli

// az container exec (custom container_exec, _start_exec_pipe_linux): the
// exec API hands out a websocket and a password; stdin goes up as binary
// frames, the remote terminal's output comes back. A terminal on stdin is
// put in raw mode for the session, so keys such as Ctrl-C reach the
// remote process.

import (
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/term"

	"github.com/cerulean/cerulean/api/arm"
)

func containerExecCommand() *command {
	return &command{
		path:         "container exec",
		short:        "Execute a command from within a running container of a container group.",
		subscription: true,
		args: []*argDef{
			containerGroupArg(true), containerNameArg(true),
			{dest: "exec_command", options: []string{"--exec-command"}, kind: argValue, required: true,
				help: "The command to run from within the container."},
			{dest: "container_name", options: []string{"--container-name"}, kind: argValue,
				help: "The container name where to execute the command. Can be ommitted for container groups with only one container."},
			{dest: "terminal_row_size", options: []string{"--terminal-row-size"}, kind: argValue, help: "The row size for the command output."},
			{dest: "terminal_col_size", options: []string{"--terminal-col-size"}, kind: argValue, help: "The col size for the command output."},
		},
		run: runContainerExec,
	}
}

func runContainerExec(i *inv) (any, error) {
	s, group, name, g, err := i.containerGroup()
	if err != nil {
		return nil, err
	}
	container := i.args.str("container_name")
	if container == "" {
		if len(g.Properties.Containers) != 1 {
			return nil, errorf("--container-name required when container group has more than one container.")
		}
		container = g.Properties.Containers[0].Name
	}
	cols, rows := i.app.terminalSize()
	if v, err := strconv.Atoi(i.args.str("terminal_row_size")); err == nil && v > 0 {
		rows = v
	}
	if v, err := strconv.Atoi(i.args.str("terminal_col_size")); err == nil && v > 0 {
		cols = v
	}
	resp, err := s.arm().ExecContainer(i.ctx, s.subscriptionID(), group, name, container, arm.ContainerExecRequest{
		Command: i.args.str("exec_command"), TerminalSize: &arm.TerminalSize{Rows: rows, Cols: cols},
	})
	if err != nil {
		return nil, err
	}
	stdin := i.app.stdin
	if f, ok := stdin.(*os.File); ok && i.app.stdinIsTTY() {
		if old, err := term.MakeRaw(int(f.Fd())); err == nil {
			defer func() { _ = term.Restore(int(f.Fd()), old) }()
		}
	} else {
		// Input from a pipe or file: after it ends, send the terminal's
		// end-of-file key so that a shell reading it exits.
		stdin = io.MultiReader(stdin, strings.NewReader("\x04"))
	}
	return nil, s.client.ExecSession(i.ctx, resp.WebSocketURI, resp.Password, stdin, i.app.stdout)
}

// terminalSize is os.get_terminal_size() of stdout, or 80x24.
func (a *app) terminalSize() (cols, rows int) {
	if f, ok := a.stdout.(*os.File); ok && a.stdoutIsTTY() {
		if c, r, err := term.GetSize(int(f.Fd())); err == nil && c > 0 && r > 0 {
			return c, r
		}
	}
	return 80, 24
}
