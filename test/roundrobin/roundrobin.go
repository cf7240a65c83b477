// Package roundrobin is test and benchmark support for several Cerulean
// servers behind one name: an HTTPS reverse proxy on loopback that sends
// every request to the next backend in turn, whatever connection it came
// on, so that a client's consecutive requests (a POST that starts an
// upload, the PATCH that continues it, the PUT that commits it) land on
// different servers. It keeps the request's Host, so each server routes
// and builds URLs exactly as it would without the proxy, and passes
// protocol upgrades (websockets) through.
//
// A backend marked down gets no requests, as behind a load balancer whose
// health check has noticed a dead server.
package roundrobin

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// Proxy is the round-robin reverse proxy.
type Proxy struct {
	backends []*url.URL
	served   []atomic.Int64
	next     atomic.Uint64

	mu   sync.RWMutex
	down []bool

	rp        *httputil.ReverseProxy
	transport *http.Transport
}

// New returns a proxy to the HTTPS backends (host:port), trusting roots
// for their certificates.
func New(backends []string, roots *x509.CertPool) (*Proxy, error) {
	if len(backends) == 0 {
		return nil, errors.New("roundrobin: no backends")
	}
	p := &Proxy{served: make([]atomic.Int64, len(backends)), down: make([]bool, len(backends))}
	for _, b := range backends {
		host, _, err := net.SplitHostPort(b)
		if err != nil || host == "" {
			return nil, fmt.Errorf("roundrobin: backend %q is not host:port", b)
		}
		p.backends = append(p.backends, &url.URL{Scheme: "https", Host: b})
	}
	transport := &http.Transport{
		// HTTP/1.1 to the backends: upgrades (exec websockets) need it.
		TLSClientConfig:     &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		TLSNextProto:        map[string]func(string, *tls.Conn) http.RoundTripper{},
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
	}
	p.transport = transport
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			target := p.backends[r.In.Context().Value(backendKey{}).(int)]
			r.SetURL(target)
			r.Out.Host = r.In.Host
			r.SetXForwarded()
		},
		Transport:     transport,
		FlushInterval: -1, // stream logs and blobs as they come
		ErrorLog:      log.New(discard{}, "", 0),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			http.Error(w, "roundrobin: backend unreachable: "+err.Error(), http.StatusBadGateway)
		},
	}
	return p, nil
}

type backendKey struct{}

func contextWithBackend(r *http.Request, i int) context.Context {
	return context.WithValue(r.Context(), backendKey{}, i)
}

type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }

// ServeHTTP sends r to the next backend that is up.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i, ok := p.pick()
	if !ok {
		http.Error(w, "roundrobin: every backend is down", http.StatusServiceUnavailable)
		return
	}
	p.served[i].Add(1)
	p.rp.ServeHTTP(w, r.WithContext(contextWithBackend(r, i)))
}

func (p *Proxy) pick() (int, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	n := len(p.backends)
	for range n {
		i := int(p.next.Add(1)-1) % n
		if !p.down[i] {
			return i, true
		}
	}
	return 0, false
}

// VerifyAs makes the proxy check every backend's certificate for name
// instead of the backend's address, for servers on loopback addresses that
// their certificate does not list (127.0.0.2, 127.0.0.3, …: several servers
// must share one port, which is part of their login servers). Call it
// before the proxy serves.
func (p *Proxy) VerifyAs(name string) { p.transport.TLSClientConfig.ServerName = name }

// SetDown takes backend i out of (or back into) the rotation.
func (p *Proxy) SetDown(i int, down bool) {
	p.mu.Lock()
	p.down[i] = down
	p.mu.Unlock()
}

// Served is how many requests backend i has been sent.
func (p *Proxy) Served(i int) int64 { return p.served[i].Load() }

// Serve runs the proxy over TLS with cert on ln until ln is closed. It
// speaks HTTP/1.1 only, so that upgrades pass through.
func (p *Proxy) Serve(ln net.Listener, cert tls.Certificate) error {
	srv := &http.Server{
		Handler:           p,
		ReadHeaderTimeout: 10 * time.Second,
		TLSNextProto:      map[string]func(*http.Server, *tls.Conn, http.Handler){},
		ErrorLog:          log.New(discard{}, "", 0),
	}
	tlsLn := tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}})
	err := srv.Serve(tlsLn)
	if errors.Is(err, http.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
