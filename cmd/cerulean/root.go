package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/cerulean/cerulean/internal/app"
	"github.com/cerulean/cerulean/internal/cli"
	"github.com/cerulean/cerulean/internal/config"
)

type root struct {
	ctx context.Context
	cmd *cobra.Command
}

func rootCommand(ctx context.Context) *root {
	r := &root{ctx: ctx}
	r.cmd = &cobra.Command{
		Use:           "cerulean",
		Short:         "A self-hosted Azure container platform: Entra ID, ARM, ACR and ACI in one binary",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	r.cmd.AddCommand(serveCommand(ctx), hostsCommand(ctx), caCommand(), azCommand(ctx))
	return r
}

func (r *root) execute(args []string) int {
	r.cmd.SetArgs(args)
	if err := r.cmd.ExecuteContext(r.ctx); err != nil {
		var code exitCode
		if errors.As(err, &code) {
			return int(code)
		}
		fmt.Fprintln(os.Stderr, "cerulean:", err)
		var usage usageError
		if errors.As(err, &usage) {
			return 2
		}
		return 1
	}
	return 0
}

type usageError struct{ error }

// settingFlags names the serve flag of each setting that
// --azure-hostnames gives another default, keyed by environment variable.
var settingFlags = map[string]string{
	config.Env.Listen:          "listen",
	config.Env.RegistryDomain:  "registry-domain",
	config.Env.InstancesDomain: "instances-domain",
}

func serveCommand(ctx context.Context) *cobra.Command {
	cfg := config.Defaults(os.Getenv)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the Cerulean server (HTTPS: Entra ID, Graph, ARM)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := settle(cmd, &cfg); err != nil {
				return err
			}
			level, _ := cfg.Level()
			logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
			a, err := app.New(ctx, cfg, logger)
			if err != nil {
				return err
			}
			return a.Run(ctx)
		},
	}
	addressFlags(cmd, &cfg)
	f := cmd.Flags()
	f.StringVar(&cfg.Runtime, "runtime", cfg.Runtime, "OCI runtime for container groups: runc, crun or a path (env "+config.Env.Runtime+")")
	f.StringVar(&cfg.Location, "location", cfg.Location, "default region name (env "+config.Env.Location+")")
	f.StringVar(&cfg.Blobs, "blobs", cfg.Blobs, "blob store: s3://bucket/prefix?endpoint=…&region=… (credentials from AWS_* variables); default the data dir (env "+config.Env.Blobs+")")
	f.StringVar(&cfg.RegistryPort, "registry-port", cfg.RegistryPort, "port of registry login servers when clients reach them on another port than --listen's, "+
		"as behind a load balancer; every server behind it sets the same (env "+config.Env.RegistryPort+")")
	f.StringVar(&cfg.LogLevel, "log-level", cfg.LogLevel, "debug, info, warn or error (env "+config.Env.LogLevel+")")
	f.StringVar(&cfg.Advertise, "advertise", cfg.Advertise, "host:port other servers sharing --store reach this one at; default the listen address (env "+config.Env.Advertise+")")
	f.DurationVar(&cfg.ServerLease, "server-lease", cfg.ServerLease, "how long a server's container groups wait for it before another server takes them over (env "+config.Env.ServerLease+")")
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	return cmd
}

// addressFlags binds the settings that decide where the server is and
// what it is called; serve and hosts share them, so that both agree.
func addressFlags(cmd *cobra.Command, cfg *config.Config) {
	dataDirFlag(cmd, cfg)
	f := cmd.Flags()
	f.StringVar(&cfg.Listen, "listen", cfg.Listen, "HTTPS listen address (env "+config.Env.Listen+")")
	f.StringVar(&cfg.RegistryDomain, "registry-domain", cfg.RegistryDomain, "parent domain of registry login servers (env "+config.Env.RegistryDomain+")")
	f.StringVar(&cfg.InstancesDomain, "instances-domain", cfg.InstancesDomain, "parent domain of container group FQDNs (env "+config.Env.InstancesDomain+")")
	f.BoolVar(&cfg.AzureHostnames, "azure-hostnames", cfg.AzureHostnames, "answer as Azure's public endpoints (login.microsoftonline.com, management.azure.com, "+
		"graph.microsoft.com, <name>.azurecr.io) on 127.0.0.1:443; shadows real Azure for clients that resolve those names here (env "+config.Env.AzureHostnames+")")
}

func dataDirFlag(cmd *cobra.Command, cfg *config.Config) {
	cmd.Flags().StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "directory for the database, keys, certificates and bootstrap credentials (env "+config.Env.DataDir+")")
	// The default is not shown: the environment's URL may hold a password.
	cmd.Flags().StringVar(&cfg.Store, "store", cfg.Store, "metadata store: postgres://user:password@host:port/database (several servers may share it), "+
		"or unset for SQLite in the data dir (env "+config.Env.Store+")")
	cmd.Flags().Lookup("store").DefValue = ""
}

// settle applies --azure-hostnames' defaults to what the operator left
// unset and validates the result.
func settle(cmd *cobra.Command, cfg *config.Config) error {
	cfg.UseAzureHostnames(func(env string) bool {
		flag, ok := settingFlags[env]
		return os.Getenv(env) != "" || ok && cmd.Flags().Changed(flag)
	})
	if err := cfg.Validate(); err != nil {
		return usageError{err}
	}
	return nil
}

func azCommand(ctx context.Context) *cobra.Command {
	return &cobra.Command{
		Use:                "az [args...]",
		Short:              "The Azure CLI (az) for Cerulean; also available as a link named az",
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if code := cli.Main(ctx, args, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr(), os.Getenv); code != 0 {
				return exitCode(code)
			}
			return nil
		},
	}
}

// exitCode carries the CLI's exit code out through cobra.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }
