package runner

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/cerulean/cerulean/internal/containergroup"
	"github.com/cerulean/cerulean/internal/errdefs"
)

// Exec implements containergroup.Runner. The runtime runs in the
// foreground (`exec --tty`) on a terminal the runner allocates: it makes
// the container's terminal, relays between the two, resizes the inner one
// when ours changes size (SIGWINCH, as our terminal is its controlling
// terminal) and exits with the process's exit code. Closing the session
// hangs up that terminal; the runtime passes the SIGHUP on to the process.
func (r *Runner) Exec(ctx context.Context, id, container string, cmd []string, size containergroup.TerminalSize) (containergroup.Process, error) {
	if !r.known(id) {
		return nil, notFound(id)
	}
	if len(cmd) == 0 {
		return nil, errdefs.New(errdefs.InvalidArgument, "", "no command to run")
	}
	st, err := r.status(id)
	if err != nil {
		return nil, err
	}
	c := st.find(container)
	if c == nil {
		return nil, errdefs.Newf(errdefs.NotFound, "", "container %q is not in group %q", container, id)
	}
	if !st.Active || c.Current.State != "Running" {
		return nil, errdefs.Newf(errdefs.FailedPrecondition, "", "container %q is not running", container)
	}
	master, slave, err := openPTY()
	if err != nil {
		return nil, errdefs.Internalf(err, "runner: allocate a terminal")
	}
	if size.Rows == 0 || size.Cols == 0 {
		size = containergroup.TerminalSize{Rows: 24, Cols: 80}
	}
	_ = unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: size.Rows, Col: size.Cols})
	args := append([]string{"--root", r.runtimeRoot, "exec", "--tty", containerID(id, container)}, cmd...)
	x := exec.Command(r.cfg.Runtime, args...)
	x.Stdin, x.Stdout, x.Stderr = slave, slave, slave
	x.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	err = x.Start()
	_ = slave.Close()
	if err != nil {
		_ = master.Close()
		return nil, errdefs.Internalf(err, "runner: exec")
	}
	p := &process{master: master, cmd: x, done: make(chan struct{})}
	go p.wait()
	return p, nil
}

// openPTY opens a new pseudo-terminal pair.
func openPTY() (master, slave *os.File, err error) {
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		_ = unix.Close(fd)
		return nil, nil, err
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		_ = unix.Close(fd)
		return nil, nil, err
	}
	sfd, err := unix.Open("/dev/pts/"+strconv.Itoa(int(n)), unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		_ = unix.Close(fd)
		return nil, nil, err
	}
	return os.NewFile(uintptr(fd), "ptmx"), os.NewFile(uintptr(sfd), "pts"), nil
}

type process struct {
	master *os.File
	cmd    *exec.Cmd
	done   chan struct{}
	code   int
	err    error
	close  sync.Once
}

func (p *process) wait() {
	err := p.cmd.Wait()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			p.code = 128 + int(ws.Signal())
		} else {
			p.code = ee.ExitCode()
		}
	default:
		p.err = err
	}
	close(p.done)
}

func (p *process) Stdin() io.WriteCloser { return ptyInput{p.master} }
func (p *process) Output() io.Reader     { return ptyOutput{p.master} }

func (p *process) Resize(s containergroup.TerminalSize) error {
	return unix.IoctlSetWinsize(int(p.master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: s.Rows, Col: s.Cols})
}

func (p *process) Wait() (int, error) {
	<-p.done
	return p.code, p.err
}

// Close hangs up the terminal (SIGHUP to the runtime, which passes it on)
// and waits for the runtime to exit.
func (p *process) Close() error {
	p.close.Do(func() { _ = p.master.Close() })
	<-p.done
	return nil
}

// ptyInput is the terminal's input; closing it sends end-of-file (^D), as
// closing a terminal's input does, and keeps the output open.
type ptyInput struct{ f *os.File }

func (i ptyInput) Write(b []byte) (int, error) { return i.f.Write(b) }
func (i ptyInput) Close() error {
	_, err := i.f.Write([]byte{4})
	return err
}

// ptyOutput reads the terminal; EIO (every writer gone) is the end.
type ptyOutput struct{ f *os.File }

func (o ptyOutput) Read(b []byte) (int, error) {
	n, err := o.f.Read(b)
	if err != nil && (errors.Is(err, unix.EIO) || errors.Is(err, os.ErrClosed)) {
		err = io.EOF
	}
	return n, err
}
