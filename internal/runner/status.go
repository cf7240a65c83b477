package runner

import (
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	"github.com/cerulean/cerulean/internal/containergroup"
)

// statusFile is what the monitor records in status.json.
type statusFile struct {
	Active         bool                             `json:"active"`
	InitContainers []containergroup.ContainerStatus `json:"initContainers"`
	Containers     []containergroup.ContainerStatus `json:"containers"`
}

func (s *statusFile) group() containergroup.GroupStatus {
	return containergroup.GroupStatus{Active: s.Active, InitContainers: s.InitContainers, Containers: s.Containers}
}

// find returns the status of the named container (init or not).
func (s *statusFile) find(name string) *containergroup.ContainerStatus {
	for i := range s.Containers {
		if s.Containers[i].Name == name {
			return &s.Containers[i]
		}
	}
	for i := range s.InitContainers {
		if s.InitContainers[i].Name == name {
			return &s.InitContainers[i]
		}
	}
	return nil
}

func readStatus(path string) (*statusFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s statusFile
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// writeStatus replaces path atomically (temp file + rename). It does not
// fsync: the record is as volatile as the containers it describes, and
// Recover repairs a record that a crash left behind.
func writeStatus(path string, s *statusFile) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".status-*")
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		_ = os.Remove(f.Name())
	}
	return err
}

// addEvent records an event, coalescing it with an earlier one of the same
// name and message as ACI does (count + 1, last timestamp moved).
func addEvent(c *containergroup.ContainerStatus, name, typ, msg string, at time.Time) {
	for i := range c.Events {
		e := &c.Events[i]
		if e.Name == name && e.Message == msg {
			e.Count++
			e.Last = at
			return
		}
	}
	c.Events = append(c.Events, containergroup.Event{Name: name, Message: msg, Type: typ, Count: 1, First: at, Last: at})
}

// detailFor is ACI's detailStatus for a terminated container.
func detailFor(exitCode int, oom bool) string {
	switch {
	case oom:
		return "OOMKilled"
	case exitCode == 0:
		return "Completed"
	default:
		return "Error"
	}
}
