package runner

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cerulean/cerulean/internal/containergroup"
)

// udpIdle is how long a UDP flow without traffic keeps its socket inside.
const udpIdle = 2 * time.Minute

// forwarder serves a group's ports on its address in the host namespace
// and relays them into the group's namespace.
type forwarder struct {
	ns     *netns
	log    *slog.Logger
	tcp    []net.Listener
	udp    []*net.UDPConn
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[io.Closer]struct{}
	closed bool
}

func newForwarder(ns *netns, ip netip.Addr, ports []containergroup.Port, log *slog.Logger) (*forwarder, error) {
	f := &forwarder{ns: ns, log: log, conns: map[io.Closer]struct{}{}}
	for _, p := range ports {
		addr := netip.AddrPortFrom(ip, uint16(p.Port))
		switch strings.ToUpper(p.Protocol) {
		case "", "TCP":
			l, err := net.ListenTCP("tcp", net.TCPAddrFromAddrPort(addr))
			if err != nil {
				f.close()
				return nil, fmt.Errorf("port %d/TCP on %s: %w", p.Port, ip, err)
			}
			f.tcp = append(f.tcp, l)
		case "UDP":
			c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(addr))
			if err != nil {
				f.close()
				return nil, fmt.Errorf("port %d/UDP on %s: %w", p.Port, ip, err)
			}
			f.udp = append(f.udp, c)
		default:
			f.close()
			return nil, fmt.Errorf("port %d: unknown protocol %q", p.Port, p.Protocol)
		}
	}
	for _, l := range f.tcp {
		f.wg.Go(func() { f.serveTCP(l) })
	}
	for _, c := range f.udp {
		f.wg.Go(func() { f.serveUDP(c) })
	}
	return f, nil
}

func (f *forwarder) track(c io.Closer) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		_ = c.Close()
		return false
	}
	f.conns[c] = struct{}{}
	return true
}

func (f *forwarder) untrack(c io.Closer) {
	f.mu.Lock()
	delete(f.conns, c)
	f.mu.Unlock()
	_ = c.Close()
}

func (f *forwarder) serveTCP(l net.Listener) {
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	for {
		c, err := l.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				f.log.Warn("accept", "port", port, "err", err)
			}
			return
		}
		f.wg.Go(func() {
			if !f.track(c) {
				return
			}
			defer f.untrack(c)
			in, err := f.ns.dial("tcp", "127.0.0.1:"+port)
			if err != nil {
				return // nothing listens inside: the client sees the connection close
			}
			if !f.track(in) {
				return
			}
			defer f.untrack(in)
			done := make(chan struct{})
			go func() {
				_, _ = io.Copy(in, c)
				_ = in.(*net.TCPConn).CloseWrite()
				close(done)
			}()
			_, _ = io.Copy(c, in)
			_ = c.(*net.TCPConn).CloseWrite()
			<-done
		})
	}
}

func (f *forwarder) serveUDP(l *net.UDPConn) {
	port := strconv.Itoa(l.LocalAddr().(*net.UDPAddr).Port)
	var mu sync.Mutex
	flows := map[netip.AddrPort]net.Conn{}
	buf := make([]byte, 64<<10)
	for {
		n, from, err := l.ReadFromUDPAddrPort(buf)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				f.log.Warn("udp read", "port", port, "err", err)
			}
			return
		}
		mu.Lock()
		in, ok := flows[from]
		if !ok {
			in, err = f.ns.dial("udp", "127.0.0.1:"+port)
			if err != nil || !f.track(in) {
				mu.Unlock()
				continue
			}
			flows[from] = in
			f.wg.Go(func() {
				defer func() {
					mu.Lock()
					delete(flows, from)
					mu.Unlock()
					f.untrack(in)
				}()
				b := make([]byte, 64<<10)
				for {
					_ = in.SetReadDeadline(time.Now().Add(udpIdle))
					n, err := in.Read(b)
					if err != nil {
						var ne net.Error
						if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, net.ErrClosed) {
							return
						}
						continue // ECONNREFUSED from an earlier datagram: nothing listened yet
					}
					_, _ = l.WriteToUDPAddrPort(b[:n], from)
				}
			})
		}
		mu.Unlock()
		_, _ = in.Write(buf[:n])
	}
}

// close stops listening and ends every relayed connection.
func (f *forwarder) close() {
	f.mu.Lock()
	f.closed = true
	for c := range f.conns {
		_ = c.Close()
	}
	f.mu.Unlock()
	for _, l := range f.tcp {
		_ = l.Close()
	}
	for _, c := range f.udp {
		_ = c.Close()
	}
	f.wg.Wait()
}
