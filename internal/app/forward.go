package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"
	"time"

	"github.com/cerulean/cerulean/internal/resourceid"
	"github.com/cerulean/cerulean/internal/server/execstream"
)

// ForwardedHeader marks a request one server forwarded to another (its
// value is the forwarding server's id). A request carrying it is served
// where it lands, never forwarded again, so that servers disagreeing for
// a moment about an owner cannot bounce a request between them.
const ForwardedHeader = "X-Cerulean-Forwarded-By"

// groupRouter is what the forwarder asks the container group domain,
// which alone decides who owns a group (containergroup.Service).
type groupRouter interface {
	ServerID() string
	Route(ctx context.Context, id resourceid.ID) (string, error)
	RouteSession(ctx context.Context, sessionID string) (string, error)
}

// forwarder sends the requests about a container group owned by another
// live server to that server: the group's ARM resource and everything
// under it (start, stop, restart, logs, exec, attach), and the exec and
// attach websockets of sessions the other server made. It proxies HTTPS
// to the owner's advertised address with Host, Authorization and body as
// they came; the owner authenticates and authorizes the request itself.
type forwarder struct {
	next           http.Handler
	groups         groupRouter
	registrySuffix string
	proxy          *httputil.ReverseProxy
	log            *slog.Logger
}

type targetKey struct{}

func newForwarder(next http.Handler, groups groupRouter, caPEM []byte, registryDomain string, logger *slog.Logger) *forwarder {
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	f := &forwarder{next: next, groups: groups, registrySuffix: "." + strings.ToLower(registryDomain), log: logger}
	f.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme = "https"
			pr.Out.URL.Host = pr.In.Context().Value(targetKey{}).(string)
			pr.Out.Host = pr.In.Host // the owner builds URLs (exec's websocket, async operations) from it
			pr.Out.Header.Set(ForwardedHeader, groups.ServerID())
			pr.SetXForwarded()
		},
		Transport: &http.Transport{
			// Every server's certificate comes from the CA the servers
			// share and names localhost, whatever address a server is
			// advertised at: verifying that name proves the peer holds a
			// certificate of this CA, which is what matters here.
			TLSClientConfig:     &tls.Config{RootCAs: roots, ServerName: "localhost", MinVersion: tls.VersionTLS12},
			DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			ForceAttemptHTTP2:   true, // websocket upgrades still go over HTTP/1.1
			MaxIdleConnsPerHost: 16,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: 10 * time.Second,
		},
		FlushInterval: -1, // logs and websockets stream
		ErrorHandler:  f.unreachable,
	}
	return f
}

func (f *forwarder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get(ForwardedHeader) != "" || strings.HasSuffix(hostOnly(r.Host), f.registrySuffix) {
		f.next.ServeHTTP(w, r)
		return
	}
	addr, err := f.route(r)
	if err != nil {
		// The local handler meets the same store and says what is wrong.
		f.log.WarnContext(r.Context(), "container group owner lookup failed; serving here", "path", r.URL.Path, "err", err)
	}
	if addr == "" {
		f.next.ServeHTTP(w, r)
		return
	}
	f.log.DebugContext(r.Context(), "forwarding to the owning server", "path", r.URL.Path, "to", addr)
	f.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), targetKey{}, addr)))
}

// route returns the address of the server that serves r, "" for here.
func (f *forwarder) route(r *http.Request) (string, error) {
	if sid, ok := strings.CutPrefix(r.URL.Path, execstream.PathPrefix); ok {
		return f.groups.RouteSession(r.Context(), sid)
	}
	if id, ok := containerGroupOf(r.URL.Path); ok {
		return f.groups.Route(r.Context(), id)
	}
	return "", nil
}

// containerGroupOf parses /subscriptions/{s}/resourceGroups/{g}/providers/
// Microsoft.ContainerInstance/containerGroups/{name}[/…] (segments other
// than the names case-insensitive, leading slashes as one, as ARM reads
// them).
func containerGroupOf(path string) (resourceid.ID, bool) {
	seg := strings.Split(strings.TrimLeft(path, "/"), "/")
	if len(seg) < 8 {
		return resourceid.ID{}, false
	}
	for i, want := range map[int]string{0: "subscriptions", 2: "resourcegroups", 4: "providers", 5: "microsoft.containerinstance", 6: "containergroups"} {
		if !strings.EqualFold(seg[i], want) {
			return resourceid.ID{}, false
		}
	}
	if seg[1] == "" || seg[3] == "" || seg[7] == "" {
		return resourceid.ID{}, false
	}
	return resourceid.ForResource(seg[1], seg[3], "Microsoft.ContainerInstance", "containerGroups", seg[7]), true
}

// unreachable answers when the owner cannot be reached: it may have just
// died, and its groups move to a live server once its lease runs out, so
// the client is told to retry.
func (f *forwarder) unreachable(w http.ResponseWriter, r *http.Request, err error) {
	f.log.WarnContext(r.Context(), "owning server unreachable", "path", r.URL.Path, "to", r.Context().Value(targetKey{}), "err", err)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Retry-After", "10")
	w.WriteHeader(http.StatusServiceUnavailable)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{
		"code":    "ServerUnavailable",
		"message": "The server that runs this container group cannot be reached; please retry later.",
	}})
}
