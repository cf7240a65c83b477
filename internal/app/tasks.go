package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cerulean/cerulean/internal/atomicfile"
	"github.com/cerulean/cerulean/internal/build"
	"github.com/cerulean/cerulean/internal/config"
	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/registry"
	"github.com/cerulean/cerulean/internal/sealbox"
	"github.com/cerulean/cerulean/internal/server/acrtoken"
	"github.com/cerulean/cerulean/internal/server/arm"
	"github.com/cerulean/cerulean/internal/task"
	"github.com/cerulean/cerulean/internal/token"
)

// ACR Tasks: the tasks service, its blob-storage host and its keys.

// secretTasksSAS is the HMAC key signing the blob URLs of ACR Tasks
// (uploads and logs): shared by every server on a PostgreSQL store, in
// keys/tasks-sas-key otherwise.
const secretTasksSAS = "tasks-sas-key"

// blobAccount is the storage account name of the blob host.
const blobAccount = "cerulean"

// BlobHost is the blob-storage host ACR Tasks' upload and log URLs name
// (az's blob client needs a host of the form <account>.blob.<suffix>):
// cerulean.blob.<registry domain> (cerulean.blob.azurecr.localhost by
// default, covered by the registry domain's wildcard DNS where there is
// one), or with --azure-hostnames cerulean.blob.core.windows.net.
func BlobHost(cfg config.Config) string {
	if cfg.AzureHostnames {
		return blobAccount + ".blob.core.windows.net"
	}
	return blobAccount + ".blob." + strings.ToLower(cfg.RegistryDomain)
}

// tasksKey loads the SAS key: from the shared store, or the data dir.
func (a *App) tasksKey(ctx context.Context) ([]byte, error) {
	path := filepath.Join(a.cfg.DataDir, "keys", secretTasksSAS)
	parse := func(b []byte) ([]byte, error) {
		if len(b) != sealbox.KeySize {
			return nil, fmt.Errorf("key is %d bytes, want %d", len(b), sealbox.KeySize)
		}
		return b, nil
	}
	if ss, ok := a.store.(sharedSecrets); ok {
		return loadShared(ctx, a.logger, ss, sharedSpec{
			name: secretTasksSAS, path: path,
			local:    func() ([]byte, error) { return os.ReadFile(path) },
			generate: sealbox.GenerateKey,
		}, parse)
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if b, err = sealbox.GenerateKey(); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, err
		}
		if err := atomicfile.WriteFile(path, b, 0o600); err != nil {
			return nil, err
		}
		return b, nil
	}
	if err != nil {
		return nil, err
	}
	k, err := parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// tasks builds the ACR Tasks service. It runs after instances (it shares
// the server id and the servers' heartbeats).
func (a *App) tasks(ctx context.Context, signer *token.Signer) error {
	key, err := a.tasksKey(ctx)
	if err != nil {
		return fmt.Errorf("tasks SAS key: %w", err)
	}
	workDir := filepath.Join(a.cfg.DataDir, "tasks", "runs")
	// A previous life's run directories: their runs are ended by Reap.
	if err := os.RemoveAll(workDir); err != nil {
		return fmt.Errorf("tasks work dir: %w", err)
	}
	if err := os.MkdirAll(workDir, 0o700); err != nil {
		return fmt.Errorf("tasks work dir: %w", err)
	}
	builder, err := a.taskBuilder()
	if err != nil {
		return err
	}
	tokens := acrtoken.New(acrtoken.Config{Logger: a.logger, Identity: a.Identity, RBAC: a.RBAC, Registries: a.Registries, Signer: signer})
	a.Tasks = task.NewService(task.Config{
		Store: a.store.Tasks(), Blobs: a.blobs, Registries: a.Registries,
		Builder:     builder,
		Credentials: taskCredentials{registries: a.Registries, tokens: tokens},
		Cluster:     taskCluster{a: a},
		ServerID:    a.ContainerGroups.ServerID(), WorkDir: workDir, SASKey: key,
		Logger: a.logger.With("component", "tasks"),
	})
	return nil
}

// taskBuilder is the builder of ACR Tasks' runs: Dockerfile builds whose
// RUN steps the container runner executes, with base images from the
// container groups' image cache. Where containers cannot run, builds
// without RUN (FROM scratch, COPY, metadata) still work and a RUN fails
// with the reason.
func (a *App) taskBuilder() (task.Builder, error) {
	var exec task.Executor = unavailableExecutor{a.runnerMissing}
	if a.runner != nil {
		exec = a.runner
	}
	b, err := build.New(build.Config{
		Dir: filepath.Join(a.cfg.DataDir, "build"), Transport: a.registryRT,
		Images: a.images, Executor: exec, Logger: a.logger.With("component", "build"),
	})
	if err != nil {
		return nil, fmt.Errorf("image builder: %w", err)
	}
	return b, nil
}

// unavailableExecutor refuses every RUN with the reason this machine
// cannot run containers.
type unavailableExecutor struct{ reason string }

func (u unavailableExecutor) Execute(context.Context, task.ExecRequest) (int, error) {
	return 0, errdefs.Newf(errdefs.NotImplemented, "ContainerRuntimeUnavailable",
		"This Cerulean server cannot run containers, so a build cannot RUN: %s.", u.reason)
}

// taskCredentials gives a run its caller's rights on this server's
// registries: the null-GUID user and an ACR refresh token minted for the
// caller.
type taskCredentials struct {
	registries *registry.Service
	tokens     *acrtoken.Server
}

func (c taskCredentials) ForCaller(ctx context.Context, caller task.Caller, host string) (string, string, bool, error) {
	reg, err := c.registries.ByLoginServer(ctx, host)
	if errdefs.IsKind(err, errdefs.NotFound) {
		return "", "", false, nil
	}
	if err != nil {
		return "", "", false, err
	}
	tok, err := c.tokens.RefreshTokenFor(ctx, caller.Principal, caller.KeyID, reg)
	if err != nil {
		return "", "", false, err
	}
	return acrtoken.NullGUID, tok, true, nil
}

// taskCluster reads the servers' heartbeats that the container groups
// service records (one servers table for both).
type taskCluster struct{ a *App }

func (c taskCluster) Live(ctx context.Context) (map[string]bool, error) {
	all, err := c.a.store.ContainerGroups().ListServers(ctx)
	if err != nil {
		return nil, err
	}
	lease := c.a.cfg.ServerLease
	if lease <= 0 {
		lease = config.DefaultServerLease
	}
	live := map[string]bool{c.a.ContainerGroups.ServerID(): true}
	now := time.Now()
	for _, s := range all {
		if now.Sub(s.Heartbeat) <= lease {
			live[s.ID] = true
		}
	}
	return live, nil
}

// blobEndpoint is the blob host's base URL for an ARM request: the port
// the client used reaches this server (or its load balancer) again.
func (a *App) blobEndpoint() arm.BlobEndpoint {
	host := BlobHost(a.cfg)
	return func(r *http.Request) string {
		if _, port, err := net.SplitHostPort(r.Host); err == nil && port != "443" {
			return "https://" + net.JoinHostPort(host, port)
		}
		return "https://" + host
	}
}
