package cli

// az's indicator while it waits for a long-running operation: knack's
// IndeterminateStandardOut drives a humanfriendly Spinner on stderr, which
// draws only when stderr is a terminal: "\r\x1b[K - Running ..\r", the
// mark turning through - \ | /, and erases the line when done.

import (
	"io"
	"sync"
	"time"
)

const eraseLine = "\r\x1b[K"

// spinner draws the indicator on w.
type spinner struct {
	w     io.Writer
	label string
	n     int
}

func (s *spinner) step() {
	states := [...]string{"-", "\\", "|", "/"}
	_, _ = io.WriteString(s.w, eraseLine+" "+states[s.n%len(states)]+" "+s.label+" ..\r")
	s.n++
}

func (s *spinner) clear() { _, _ = io.WriteString(s.w, eraseLine) }

// withProgress runs fn while the spinner turns on stderr (a terminal only,
// and not under --only-show-errors).
func (i *inv) withProgress(fn func() error) error {
	a := i.app
	if !isTerminal(a.stderr) || a.log.level < levelWarning {
		return fn()
	}
	return runWithProgress(&spinner{w: a.stderr, label: "Running"}, 200*time.Millisecond, fn)
}

func runWithProgress(s *spinner, every time.Duration, fn func() error) error {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		s.step()
		for {
			select {
			case <-done:
				s.clear()
				return
			case <-t.C:
				s.step()
			}
		}
	}()
	err := fn()
	close(done)
	wg.Wait()
	return err
}
