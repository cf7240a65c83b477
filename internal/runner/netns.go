package runner

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// netns is a group's network namespace, held by one OS thread parked in it.
// The thread creates it (unshare), pins it with a bind mount at path for
// the runtime, brings lo up, then serves dials: a socket belongs to the
// namespace of the thread that creates it, so dialing from that thread
// reaches the group's 127.0.0.1.
type netns struct {
	path  string
	dials chan dialReq
	done  chan struct{}
}

type dialReq struct {
	network, addr string
	reply         chan dialResult
}

type dialResult struct {
	conn net.Conn
	err  error
}

func newNetns(path string) (*netns, error) {
	n := &netns{path: path, dials: make(chan dialReq), done: make(chan struct{})}
	ready := make(chan error, 1)
	go n.hold(ready)
	if err := <-ready; err != nil {
		return nil, err
	}
	return n, nil
}

func (n *netns) hold(ready chan<- error) {
	// Never unlocked: when this goroutine returns, the runtime ends the
	// thread rather than reuse one that sits in another namespace.
	runtime.LockOSThread()
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		ready <- fmt.Errorf("unshare network namespace: %w", err)
		return
	}
	if err := n.pin(); err != nil {
		ready <- err
		return
	}
	if err := loopbackUp(); err != nil {
		_ = unmountNetns(n.path)
		ready <- err
		return
	}
	ready <- nil
	for {
		select {
		case r := <-n.dials:
			var d net.Dialer
			c, err := d.DialContext(context.Background(), r.network, r.addr)
			r.reply <- dialResult{c, err}
		case <-n.done:
			return
		}
	}
}

func (n *netns) pin() error {
	f, err := os.OpenFile(n.path, os.O_CREATE|os.O_RDONLY, 0o444)
	if err != nil {
		return err
	}
	_ = f.Close()
	src := "/proc/self/task/" + strconv.Itoa(unix.Gettid()) + "/ns/net"
	if err := unix.Mount(src, n.path, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind network namespace to %s: %w", n.path, err)
	}
	return nil
}

// loopbackUp sets IFF_UP on lo in the calling thread's namespace.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer func() { _ = unix.Close(fd) }()
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("lo flags: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("lo up: %w", err)
	}
	return nil
}

var errNetnsClosed = errors.New("network namespace closed")

// dial connects to addr from inside the namespace.
func (n *netns) dial(network, addr string) (net.Conn, error) {
	r := dialReq{network: network, addr: addr, reply: make(chan dialResult, 1)}
	select {
	case n.dials <- r:
	case <-n.done:
		return nil, errNetnsClosed
	}
	res := <-r.reply
	return res.conn, res.err
}

// close releases the thread and the bind mount; the namespace goes away
// with its last user.
func (n *netns) close() error {
	select {
	case <-n.done:
	default:
		close(n.done)
	}
	return unmountNetns(n.path)
}

func unmountNetns(path string) error {
	err := unix.Unmount(path, unix.MNT_DETACH)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOENT) {
		err = nil
	}
	if rerr := os.Remove(path); rerr != nil && !os.IsNotExist(rerr) && err == nil {
		err = rerr
	}
	return err
}
