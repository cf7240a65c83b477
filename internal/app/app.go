// Package app is Cerulean's composition root: it turns a Config into
// backends, domain services and HTTP surfaces, bootstraps the first tenant,
// and runs the HTTPS listener until its context ends. It is the only
// package that knows every other one.
package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/cerulean/cerulean/internal/blob"
	"github.com/cerulean/cerulean/internal/blob/fileblob"
	"github.com/cerulean/cerulean/internal/blob/s3blob"
	"github.com/cerulean/cerulean/internal/config"
	"github.com/cerulean/cerulean/internal/containergroup"
	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/image"
	"github.com/cerulean/cerulean/internal/rbac"
	"github.com/cerulean/cerulean/internal/registry"
	"github.com/cerulean/cerulean/internal/resource"
	"github.com/cerulean/cerulean/internal/runner"
	"github.com/cerulean/cerulean/internal/sealbox"
	"github.com/cerulean/cerulean/internal/server"
	"github.com/cerulean/cerulean/internal/server/acrtoken"
	"github.com/cerulean/cerulean/internal/server/arm"
	"github.com/cerulean/cerulean/internal/server/blobstorage"
	"github.com/cerulean/cerulean/internal/server/execstream"
	"github.com/cerulean/cerulean/internal/server/graph"
	"github.com/cerulean/cerulean/internal/server/login"
	"github.com/cerulean/cerulean/internal/server/oci"
	"github.com/cerulean/cerulean/internal/store"
	"github.com/cerulean/cerulean/internal/store/pgstore"
	"github.com/cerulean/cerulean/internal/store/sqlstore"
	"github.com/cerulean/cerulean/internal/task"
	"github.com/cerulean/cerulean/internal/tlsca"
	"github.com/cerulean/cerulean/internal/token"
)

// App is a configured, bootstrapped server, ready to Run.
type App struct {
	cfg      config.Config
	logger   *slog.Logger
	store    store.Store
	blobs    blobStore
	lockers  []io.Closer // the registry's shared locks, on PostgreSQL
	tls      *tlsca.Bundle
	sealers  map[string]*sealbox.Box // by shared secret name (secrets.go)
	handler  http.Handler
	listener net.Listener

	// What container groups and image builds share on this machine
	// (instances.go): the image cache, the transport it reaches
	// registries with, and the runner — nil, with the reason, where
	// containers cannot run.
	images        *image.Cache
	registryRT    http.RoundTripper
	runner        *runner.Runner
	runnerMissing string

	Identity        *identity.Service
	RBAC            *rbac.Service
	Resources       *resource.Service
	Registries      *registry.Service
	ContainerGroups *containergroup.Service
	Tasks           *task.Service
}

// gcInterval is how often registry garbage collection runs.
const gcInterval = 10 * time.Minute

// New builds the app: data dir, store, CA and serving certificate, signing
// and sealing keys (from the data dir, or from a shared store), services,
// bootstrap identity, and the listener (bound here, so
// that Addr is known before Run).
func New(ctx context.Context, cfg config.Config, logger *slog.Logger) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	host, _, _ := net.SplitHostPort(cfg.Listen)
	blobs, err := openBlobs(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("blob store: %w", err)
	}
	st, err := openStore(ctx, cfg, logger)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("store: %w", err), blobs.Close())
	}
	a := &App{cfg: cfg, logger: logger, store: st, blobs: blobs}
	// With a shared store the keys and the CA come from it (secrets.go).
	k, err := a.loadKeys(ctx, host)
	if err != nil {
		return nil, errors.Join(err, a.closeBackends())
	}
	a.tls, a.sealers = k.tls, k.sealers
	signer := k.signer
	a.Identity = identity.NewService(identity.Config{Store: st.Identity(), Signer: signer})
	a.Resources = resource.NewService(st.Resources(), nil)
	a.RBAC = rbac.NewService(st.RBAC(), directory{a.Identity}, nil)

	if err := withStoreLock(ctx, st, "bootstrap", func() error { return a.bootstrap(ctx) }); err != nil {
		return nil, errors.Join(fmt.Errorf("bootstrap: %w", err), a.closeBackends())
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, errors.Join(err, a.closeBackends())
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	if cfg.RegistryPort != "" {
		port = cfg.RegistryPort // the load balancer's, shared by every server behind it
	}
	locks, err := a.registryLocks(ctx)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("registry locks: %w", err), ln.Close(), a.closeBackends())
	}
	a.Registries = registry.NewService(registry.Config{
		Store: st.Registry(), Blobs: blobs, Sealer: k.sealers[secretRegistrySealing],
		Domain: cfg.RegistryDomain, Port: port, Logger: logger, Locks: locks,
	})
	// Login servers follow the configured registry domain and port (the
	// serving certificate covers only the current domain).
	if err := a.Registries.AdoptLoginServers(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("registry login servers: %w", err), ln.Close(), a.closeBackends())
	}
	if err := a.instances(ln.Addr()); err != nil {
		return nil, errors.Join(err, ln.Close(), a.closeBackends())
	}
	if err := a.tasks(ctx, signer); err != nil {
		return nil, errors.Join(err, ln.Close(), a.closeBackends())
	}
	a.handler = server.Middleware(logger,
		// Requests about a container group another server owns go there (forward.go).
		newForwarder(a.routes(signer, loginHosts(host, ln.Addr(), cfg.AzureHostnames)), a.ContainerGroups, a.tls.CAPEM, cfg.RegistryDomain, logger))
	// Registry clients encode their request targets: their connections
	// skip the request-line repair.
	a.listener = server.NewTLSListener(ln, tlsConfig(a.tls.Cert, cfg.RegistryDomain), server.WithoutRepair(registryHost(cfg.RegistryDomain)))
	return a, nil
}

// openStore opens the metadata store: PostgreSQL when cfg.Store names
// one, else SQLite in the data dir.
func openStore(ctx context.Context, cfg config.Config, logger *slog.Logger) (store.Store, error) {
	if cfg.Store != "" {
		st, err := pgstore.Open(ctx, cfg.Store, logger)
		if err != nil {
			return nil, err
		}
		return st, nil
	}
	st, err := sqlstore.Open(ctx, filepath.Join(cfg.DataDir, "cerulean.db"), logger)
	if err != nil {
		return nil, err
	}
	return st, nil
}

// Connections of the registry's lock pools on PostgreSQL, beside the
// store's 16: a lock holds one for as long as a PATCH streams or a push
// commits, so at most 32 upload requests hold their sessions and 16
// pushes their digests at once per server, and more wait for a
// connection. A server opens at most 16+32+16 connections.
const (
	uploadLockConns = 32
	digestLockConns = 16
)

// registryLocks opens the registry's locks shared by every server on the
// PostgreSQL store, in two pools (see registry.SharedLocks); on SQLite the
// registry locks in this process alone.
func (a *App) registryLocks(ctx context.Context) (registry.SharedLocks, error) {
	if a.cfg.Store == "" {
		return registry.SharedLocks{}, nil
	}
	uploads, err := pgstore.OpenLocker(ctx, a.cfg.Store, uploadLockConns)
	if err != nil {
		return registry.SharedLocks{}, err
	}
	digests, err := pgstore.OpenLocker(ctx, a.cfg.Store, digestLockConns)
	if err != nil {
		return registry.SharedLocks{}, errors.Join(err, uploads.Close())
	}
	a.lockers = []io.Closer{uploads, digests}
	return registry.SharedLocks{Uploads: uploads, Digests: digests}, nil
}

// withStoreLock runs fn under the store's named lock where the store is
// shared between servers (PostgreSQL), so that servers starting at once
// bootstrap one after the other: the second finds the tenant and
// subscription the first made. SQLite belongs to one server.
func withStoreLock(ctx context.Context, st store.Store, name string, fn func() error) error {
	if l, ok := st.(interface {
		WithLock(ctx context.Context, name string, fn func() error) error
	}); ok {
		return l.WithLock(ctx, name, fn)
	}
	return fn()
}

// blobStore is a blob backend the app closes on shutdown.
type blobStore interface {
	blob.Store
	Close() error
}

// openBlobs opens the S3 bucket of --blobs, or else <data dir>/blobs.
func openBlobs(ctx context.Context, cfg config.Config) (blobStore, error) {
	if cfg.Blobs != "" {
		return s3blob.New(ctx, cfg.Blobs)
	}
	return fileblob.New(filepath.Join(cfg.DataDir, "blobs"))
}

// tlsConfig is the listener's TLS configuration. Registry login servers
// (recognised by SNI) prefer HTTP/1.1 over HTTP/2 in ALPN: a registry moves
// large blobs, and net/http's HTTP/2 server funnels every stream of a
// connection through one frame writer in frames of the client's maximum
// size (16 KiB for Go clients, which push and pull layers in parallel over
// one connection), which took twice the server CPU of HTTP/1.1 for a pull
// and held crane's pulls to ~410 MB/s against ~620 MB/s over parallel
// HTTP/1.1 connections on the benchmark machine (golang/go#47840). Clients
// that only speak h2 still get it. Other hosts keep preferring HTTP/2.
func tlsConfig(cert tls.Certificate, registryDomain string) *tls.Config {
	base := &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"h2", "http/1.1"},
	}
	registryHosts := base.Clone()
	registryHosts.NextProtos = []string{"http/1.1", "h2"}
	isRegistry := registryHost(registryDomain)
	base.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		if isRegistry(hello.ServerName) {
			return registryHosts, nil
		}
		return nil, nil
	}
	return base
}

// registryHost reports whether a TLS server name is a registry login server.
func registryHost(registryDomain string) func(serverName string) bool {
	suffix := "." + strings.ToLower(registryDomain)
	return func(serverName string) bool { return strings.HasSuffix(strings.ToLower(serverName), suffix) }
}

// Addr is the address the server listens on.
func (a *App) Addr() net.Addr { return a.listener.Addr() }

// CAFile is the path of the CA certificate clients must trust.
func (a *App) CAFile() string { return a.tls.CAFile }

// Handler is the app's HTTP handler (for in-process tests).
func (a *App) Handler() http.Handler { return a.handler }

// routes sends each request to its surface: a registry host's requests to
// the ACR token service or the OCI data plane; the server host's (and, with
// --azure-hostnames, Azure's login, management and Graph hosts') to ARM,
// cloud metadata, Graph, exec streams, health, or login: their paths do not
// overlap.
func (a *App) routes(signer *token.Signer, hosts []string) http.Handler {
	armH := arm.New(arm.Config{Logger: a.logger, Identity: a.Identity, RBAC: a.RBAC, Resources: a.Resources,
		Types: append(arm.WithTasks(arm.RegistriesTypes(a.Registries), a.Tasks, a.blobEndpoint()), arm.ContainerGroupTypes(a.ContainerGroups)...)})
	graphH := graph.New(graph.Config{Logger: a.logger, Identity: a.Identity, RBAC: a.RBAC, Resources: a.Resources})
	loginH := login.New(login.Config{Logger: a.logger, Identity: a.Identity, Signer: signer, Hosts: hosts})
	tokens := acrtoken.New(acrtoken.Config{Logger: a.logger, Identity: a.Identity, RBAC: a.RBAC, Registries: a.Registries, Signer: signer})
	redirect, _ := a.blobs.(blob.Redirector) // s3blob: redirects when --blobs has ?redirect=true
	dataPlane := oci.New(oci.Config{Logger: a.logger, Registries: a.Registries, Auth: tokens, Redirect: redirect})
	execH := execstream.New(a.ContainerGroups, a.logger)
	metadataH := arm.Metadata(arm.MetadataConfig{Logger: a.logger, AzureHostnames: a.cfg.AzureHostnames, RegistryDomain: a.cfg.RegistryDomain})
	registrySuffix := "." + a.cfg.RegistryDomain
	blobH, blobHost := blobstorage.New(a.logger, a.Tasks), BlobHost(a.cfg)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hostOnly(r.Host) == blobHost { // ACR Tasks' uploads and logs (tasks.go)
			blobH.ServeHTTP(w, r)
			return
		}
		if host := hostOnly(r.Host); strings.HasSuffix(host, registrySuffix) {
			switch r.URL.Path {
			case "/oauth2/token", "/oauth2/exchange":
				tokens.ServeHTTP(w, r)
			default:
				dataPlane.ServeHTTP(w, r)
			}
			return
		}
		switch strings.ToLower(firstSegment(r.URL.Path)) {
		case "subscriptions", "providers", "tenants":
			armH.ServeHTTP(w, r)
		case "v1.0":
			graphH.ServeHTTP(w, r)
		case "execstream":
			execH.ServeHTTP(w, r)
		case "metadata":
			metadataH.ServeHTTP(w, r)
		case "healthz":
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = w.Write([]byte("ok\n"))
		default:
			loginH.ServeHTTP(w, r)
		}
	})
}

// firstSegment is the path's first segment, which picks the surface.
// Leading slashes are one: the Azure SDK for JavaScript puts a resource id
// where a path template says /{scope}/providers/…, so it asks for
// //subscriptions/…, and ARM answers that as /subscriptions/….
func firstSegment(path string) string {
	first, _, _ := strings.Cut(strings.TrimLeft(path, "/"), "/")
	return first
}

// Run serves until ctx ends, then shuts down gracefully: the listener
// closes, in-flight requests get up to 30 seconds to finish, and the store
// is closed.
func (a *App) Run(ctx context.Context) error {
	srv := &http.Server{
		Handler:           a.handler,
		Protocols:         server.Protocols(),
		HTTP2:             server.HTTP2Config(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          slog.NewLogLogger(a.logger.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(a.listener) }()
	gcCtx, stopGC := context.WithCancel(ctx)
	gcDone := make(chan struct{})
	go func() { a.Registries.RunGC(gcCtx, gcInterval); close(gcDone) }()
	reconcileDone := make(chan struct{})
	go func() { a.ContainerGroups.Run(gcCtx); close(reconcileDone) }()
	tasksDone := make(chan struct{})
	go func() { a.Tasks.Run(gcCtx); close(tasksDone) }()
	a.logger.InfoContext(ctx, "cerulean serving", "addr", a.Addr().String(), "data_dir", a.cfg.DataDir,
		"registry_domain", a.cfg.RegistryDomain, "ca_file", a.tls.CAFile)

	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		a.logger.InfoContext(ctx, "shutting down")
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		err = srv.Shutdown(sctx)
		cancel()
	}
	stopGC()
	<-gcDone
	<-reconcileDone
	<-tasksDone
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return errors.Join(err, a.closeBackends())
}

// Close releases the app's resources without serving (when Run is not
// called).
func (a *App) Close() error {
	return errors.Join(a.listener.Close(), a.closeBackends())
}

func (a *App) closeBackends() error {
	errs := []error{a.store.Close(), a.blobs.Close()}
	for _, l := range a.lockers {
		errs = append(errs, l.Close())
	}
	return errors.Join(errs...)
}

// hostOnly strips the port and lower-cases a Host header.
func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		hostport = h
	}
	return strings.ToLower(hostport)
}

// loginHosts lists the host[:port] names clients may use as the Entra
// authority host, for instance discovery. On port 443 a URL names the host
// alone, so both spellings are listed.
func loginHosts(listenHost string, addr net.Addr, azureHostnames bool) []string {
	_, port, _ := net.SplitHostPort(addr.String())
	names := []string{"localhost", "127.0.0.1", "::1"}
	if listenHost != "" && listenHost != "localhost" && net.ParseIP(listenHost) == nil {
		names = append(names, listenHost)
	}
	if azureHostnames {
		names = append(names, config.AzureHosts...)
	}
	var hosts []string
	for _, n := range names {
		hosts = append(hosts, net.JoinHostPort(n, port))
		if port == "443" {
			hosts = append(hosts, n)
		}
	}
	return hosts
}

// certNames are the DNS names of the serving certificate. Besides the
// server's and the registries' names it always covers
// login.microsoftonline.com: MSAL sends the instance discovery of any
// authority it does not know there, so a client in a registered cloud
// reaches Cerulean with a hosts entry for that one name. Covering it grants
// nothing new: whoever trusts the local CA trusts every name it signs.
func certNames(host string, cfg config.Config) []string {
	names := []string{"localhost", cfg.RegistryDomain, "*." + cfg.RegistryDomain, "login.microsoftonline.com", BlobHost(cfg)}
	if host != "" && net.ParseIP(host) == nil && host != "localhost" {
		names = append(names, host)
	}
	if cfg.AzureHostnames {
		names = append(names, config.AzureHosts...)
	}
	return slices.Compact(slices.Sorted(slices.Values(names)))
}

func certIPs(host string) []net.IP {
	ips := []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	if ip := net.ParseIP(host); ip != nil && !ip.IsUnspecified() && !ip.IsLoopback() {
		ips = append(ips, ip)
	}
	return ips
}
