package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cerulean/cerulean/internal/containergroup"
	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/image"
	"github.com/cerulean/cerulean/internal/registry"
	"github.com/cerulean/cerulean/internal/runner"
)

// instances builds Azure Container Instances: the image cache, the runner
// and the container group service. A machine that cannot run containers
// (no OCI runtime, not root) still serves everything else; its container
// group operations say why they cannot run.
func (a *App) instances(listen net.Addr) error {
	listenAddr := listen.String()
	sealer, err := a.sealingKey(secretInstancesSealing)
	if err != nil {
		return fmt.Errorf("instances sealing key: %w", err)
	}
	a.registryRT = imageTransport(listenAddr, a.tls.CAPEM, a.cfg.RegistryDomain, a.Registries)
	images, err := image.New(image.Config{
		Dir:       filepath.Join(a.cfg.DataDir, "images"),
		Transport: a.registryRT,
		Logger:    a.logger.With("component", "images"),
	})
	if err != nil {
		return fmt.Errorf("image cache: %w", err)
	}
	a.images = images
	var run containergroup.Runner
	a.runnerMissing = "running containers needs root (namespaces, cgroups and overlay mounts)"
	if os.Geteuid() == 0 {
		r, err := runner.New(runner.Config{
			Dir: filepath.Join(a.cfg.DataDir, "instances"), Runtime: a.cfg.Runtime,
			Logger: a.logger.With("component", "runner"),
		})
		if err != nil {
			a.runnerMissing = err.Error()
		} else {
			a.runner, a.runnerMissing = r, ""
			run = r
		}
	}
	if a.runner == nil {
		run = unavailableRunner{a.runnerMissing}
		a.logger.Warn("container groups and image builds cannot run on this machine", "reason", a.runnerMissing)
	}
	id, err := serverID(a.cfg.DataDir)
	if err != nil {
		return err
	}
	a.ContainerGroups = containergroup.NewService(containergroup.Config{
		Store: a.store.ContainerGroups(), Images: images, Runner: run, Sealer: sealer,
		InstancesDomain: a.cfg.InstancesDomain, Logger: a.logger.With("component", "containergroups"),
		ServerID: id, Advertise: advertiseAddr(a.cfg.Advertise, listen), Lease: a.cfg.ServerLease,
	})
	return nil
}

// imageTransport is how the image cache reaches registries. A login
// server of this server's own registry domain is dialled at the listener
// itself (no hosts entry needed), and a name there that is no registry
// does not resolve; every other host goes through DNS. The local CA is
// trusted besides the system's roots.
func imageTransport(listenAddr string, caPEM []byte, domain string, registries *registry.Service) http.RoundTripper {
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	roots.AppendCertsFromPEM(caPEM)
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	suffix := "." + strings.ToLower(domain)
	return &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		TLSClientConfig:     &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: 8,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				host = addr
			}
			host = strings.ToLower(host)
			if name, ok := strings.CutSuffix(host, suffix); ok && !strings.Contains(name, ".") {
				if _, err := registries.ByName(ctx, name); err != nil {
					return nil, &net.DNSError{Err: "no such registry on this server", Name: host, IsNotFound: true}
				}
				return dialer.DialContext(ctx, network, listenAddr)
			}
			return dialer.DialContext(ctx, network, addr)
		},
	}
}

// unavailableRunner answers every operation with the reason this machine
// cannot run containers.
type unavailableRunner struct{ reason string }

func (u unavailableRunner) err() error {
	return errdefs.Newf(errdefs.NotImplemented, "ContainerRuntimeUnavailable",
		"Container groups cannot run on this Cerulean server: %s.", u.reason)
}

func (u unavailableRunner) Start(context.Context, containergroup.RunSpec) error { return u.err() }
func (u unavailableRunner) Stop(context.Context, string) error                  { return nil }
func (u unavailableRunner) Remove(context.Context, string) error                { return nil }
func (u unavailableRunner) Status(context.Context, string) (containergroup.GroupStatus, error) {
	return containergroup.GroupStatus{}, errdefs.New(errdefs.NotFound, "", "not running")
}
func (u unavailableRunner) Logs(context.Context, string, string, containergroup.LogOptions) (io.ReadCloser, error) {
	return nil, errdefs.New(errdefs.NotFound, "", "no logs")
}
func (u unavailableRunner) Exec(context.Context, string, string, []string, containergroup.TerminalSize) (containergroup.Process, error) {
	return nil, u.err()
}
func (u unavailableRunner) Recover(context.Context) ([]string, error) { return nil, nil }
