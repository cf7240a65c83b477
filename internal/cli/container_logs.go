package cli

// az container logs and az container attach (custom container_logs,
// attach_to_container, _start_streaming, _stream_logs,
// _stream_container_events_and_logs, _is_container_terminated). There is
// no streaming API: az polls the logs every 2 s and, every 10 s, whether
// the container is done; once it is, it streams 5 s more and exits.
//
// On a terminal the output is az's: each poll reprints the whole log (or
// the event list) after moving the cursor back up over the previous one.
// When stdout is not a terminal those escape sequences would be noise in a
// file or pipe, so only what is new since the last poll is written.

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/cerulean/cerulean/api/arm"
)

const (
	streamPeriod      = 2 * time.Second
	streamCheckEvery  = 5 // polls between termination checks (10 s)
	streamGracePolls  = 2 // polls after termination (az's 5 s grace)
	containerNameHelp = "The container name to tail the logs. If omitted, the first container in the container group will be chosen."
)

func containerLogsCommand() *command {
	return &command{
		path:         "container logs",
		short:        "Examine the logs for a container in a container group.",
		subscription: true,
		args: []*argDef{
			containerGroupArg(true), containerNameArg(true),
			{dest: "container_name", options: []string{"--container-name"}, kind: argValue, help: containerNameHelp},
			{dest: "follow", options: []string{"--follow"}, kind: argFlag, help: "Indicate to stream the tailing logs."},
		},
		run: func(i *inv) (any, error) {
			s, group, name, g, err := i.containerGroup()
			if err != nil {
				return nil, err
			}
			st := i.newStreamer(s, group, name, defaultContainer(g, i.args.str("container_name")), g.Properties.RestartPolicy)
			if !i.args.flag("follow") {
				logs, err := s.arm().ContainerLogs(i.ctx, s.subscriptionID(), group, name, st.container, 0, false)
				if err != nil {
					return nil, err
				}
				_, err = fmt.Fprintln(i.app.stdout, logs.Content) // print(log.content)
				return nil, err
			}
			return nil, st.run(st.logStep)
		},
	}
}

func containerAttachCommand() *command {
	return &command{
		path:         "container attach",
		short:        "Attach local standard output and error streams to a container in a container group. This command provides diagnostic information during container startup. Once the container has started, it streams STDOUT and STDERR to your local console.",
		subscription: true,
		args: []*argDef{
			containerGroupArg(true), containerNameArg(true),
			{dest: "container_name", options: []string{"--container-name"}, kind: argValue,
				help: "The container to attach to. If omitted, the first container in the container group will be chosen."},
		},
		run: func(i *inv) (any, error) {
			s, group, name, g, err := i.containerGroup()
			if err != nil {
				return nil, err
			}
			st := i.newStreamer(s, group, name, defaultContainer(g, i.args.str("container_name")), g.Properties.RestartPolicy)
			return nil, st.run(st.attachStep)
		},
	}
}

// streamer is one logs --follow or attach session.
type streamer struct {
	i                      *inv
	s                      *session
	w                      io.Writer
	tty                    bool
	group, name, container string
	policy                 string
	lastLines              int    // az's lastOutputLines
	printed                string // not a terminal: the log text already written
	running                bool   // attach: the container reached Running
	lastState              string
	seenEvents             map[string]bool
}

func (i *inv) newStreamer(s *session, group, name, container, policy string) *streamer {
	return &streamer{i: i, s: s, w: i.app.stdout, tty: i.app.stdoutIsTTY(), group: group, name: name,
		container: container, policy: policy, seenEvents: map[string]bool{}}
}

// run polls step every 2 s; every 10 s it checks whether the container is
// done, and after that it polls twice more (az's 5 s grace) and returns.
// step returns true when the stream itself ends (a restart).
func (st *streamer) run(step func() (bool, error)) error {
	remaining := -1
	for n := 0; ; n++ {
		if done, err := step(); err != nil || done {
			return err
		}
		switch {
		case remaining == 0:
			return nil
		case remaining > 0:
			remaining--
		case n%streamCheckEvery == 0:
			done, err := st.terminated()
			if err != nil {
				return err
			}
			if done {
				remaining = streamGracePolls - 1
			}
		}
		if err := st.i.app.sleep(st.i.ctx, streamPeriod); err != nil {
			return err
		}
	}
}

func (st *streamer) find() (arm.ContainerGroup, *arm.Container, error) {
	g, err := st.s.arm().GetContainerGroup(st.i.ctx, st.s.subscriptionID(), st.group, st.name)
	if err != nil {
		return g, nil, err
	}
	var found []*arm.Container
	for k := range g.Properties.Containers {
		if g.Properties.Containers[k].Name == st.container {
			found = append(found, &g.Properties.Containers[k])
		}
	}
	if len(found) != 1 {
		return g, nil, errorf("Found 0 or more than 1 container with name '%s'", st.container)
	}
	return g, found[0], nil
}

// terminated is _is_container_terminated.
func (st *streamer) terminated() (bool, error) {
	g, c, err := st.find()
	if err != nil {
		return false, err
	}
	if iv := g.Properties.InstanceView; iv != nil && (iv.State == "Succeeded" || iv.State == "Failed") {
		return true, nil
	}
	if g.Properties.RestartPolicy == "Always" {
		return false, nil
	}
	iv := c.Properties.InstanceView
	return iv != nil && iv.CurrentState != nil && iv.CurrentState.State == "Terminated", nil
}

func (st *streamer) moveUp(lines int) {
	if st.tty && lines > 0 {
		fmt.Fprintf(st.w, "\x1b[%dA\x1b[K\x1b[J", lines)
	}
}

// logStep is one iteration of _stream_logs.
func (st *streamer) logStep() (bool, error) {
	logs, err := st.s.arm().ContainerLogs(st.i.ctx, st.s.subscriptionID(), st.group, st.name, st.container, 0, false)
	if err != nil {
		return false, err
	}
	lines := len(strings.Split(logs.Content, "\n"))
	if lines < st.lastLines && st.policy != "Never" {
		fmt.Fprintf(st.w, "Warning: you're having '--restart-policy=%s'; the container '%s' was just restarted; the tail of the current log might be missing. Exiting...\n", st.policy, st.container)
		return true, nil
	}
	if st.tty {
		st.moveUp(st.lastLines)
		fmt.Fprintln(st.w, logs.Content)
	} else {
		if !strings.HasPrefix(logs.Content, st.printed) {
			st.printed = "" // the log was replaced: write it again
		}
		_, _ = io.WriteString(st.w, logs.Content[len(st.printed):])
		st.printed = logs.Content
	}
	st.lastLines = lines
	return false, nil
}

// attachStep is one iteration of _stream_container_events_and_logs, then
// of _stream_logs once the container runs.
func (st *streamer) attachStep() (bool, error) {
	if st.running {
		return st.logStep()
	}
	_, c, err := st.find()
	if err != nil {
		return false, err
	}
	state := "Unknown"
	var events []arm.ContainerEvent
	if iv := c.Properties.InstanceView; iv != nil {
		if iv.CurrentState != nil && iv.CurrentState.State != "" {
			state = iv.CurrentState.State
		}
		events = append(events, iv.Events...)
	}
	sort.SliceStable(events, func(a, b int) bool { return events[a].LastTimestamp.Before(events[b].LastTimestamp) })
	st.moveUp(st.lastLines)
	if state != st.lastState {
		fmt.Fprintf(st.w, "Container '%s' is in state '%s'...\n", st.container, state)
	}
	for _, e := range events {
		line := fmt.Sprintf("(count: %d) (last timestamp: %s) %s", e.Count, pyDatetimeStr(e.LastTimestamp), e.Message)
		if !st.tty {
			if st.seenEvents[line] {
				continue
			}
			st.seenEvents[line] = true
		}
		fmt.Fprintln(st.w, line)
	}
	st.lastLines = len(events)
	st.lastState = state
	if state != "Running" {
		return false, nil
	}
	fmt.Fprintln(st.w, "\nStart streaming logs:")
	st.running, st.lastLines = true, 0
	return st.logStep()
}
