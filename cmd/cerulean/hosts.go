package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"

	"github.com/cerulean/cerulean/internal/app"
	"github.com/cerulean/cerulean/internal/config"
)

const hostsLong = `Print the hosts-file lines that let clients which resolve names through
/etc/hosts (Azure's own az and SDKs, docker, podman) reach the server: each
registry's login server at the listen address (127.0.0.1 when the server
listens on every address or on localhost), each container group's FQDN
(<label>.<location>.<instances domain>) at the group's own loopback
address, and with --azure-hostnames Azure's names (login.microsoftonline.com,
management.azure.com, management.core.windows.net, graph.microsoft.com).

Give it the settings serve runs with (the same flags and CERULEAN_*
variables). It reads the data dir's database without writing it, so it may
run while the server does; run it again after creating or deleting
registries or container groups.

--apply writes the lines into the hosts file (root needed for /etc/hosts)
between two marker comments that name the data dir, replacing that block or
appending it; other lines stay as they are, and running it twice changes
nothing. --remove takes the block out.

With --azure-hostnames, this machine resolves Azure's public names to the
server: the real Azure is unreachable by name from here until the block is
removed.`

const hostsExample = `  cerulean hosts                                 # print the block
  sudo cerulean hosts --apply                    # write it into /etc/hosts
  sudo cerulean hosts --azure-hostnames --apply  # for serve --azure-hostnames
  sudo cerulean hosts --remove`

func hostsCommand(ctx context.Context) *cobra.Command {
	cfg := config.Defaults(os.Getenv)
	var (
		apply, remove bool
		hostsFile     = "/etc/hosts"
	)
	cmd := &cobra.Command{
		Use:     "hosts [--apply | --remove] [--hosts-file FILE]",
		Short:   "Print (or --apply to /etc/hosts) the hosts lines for the server's names",
		Long:    hostsLong,
		Example: hostsExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if apply && remove {
				return usageError{errors.New("--apply and --remove exclude each other")}
			}
			if err := settle(cmd, &cfg); err != nil {
				return err
			}
			dataDir, err := filepath.Abs(cfg.DataDir)
			if err != nil {
				return err
			}
			cfg.DataDir = dataDir
			var entries []app.HostsEntry
			if !remove {
				h, err := app.ReadHosts(ctx, cfg)
				if err != nil {
					return err
				}
				for _, w := range h.Warnings {
					fmt.Fprintln(cmd.ErrOrStderr(), "cerulean hosts: warning:", w)
				}
				entries = h.Entries
			}
			block, err := newHostsBlock(dataDir, entries)
			if err != nil {
				return err
			}
			if !apply && !remove {
				if len(block.lines) == 0 {
					fmt.Fprintln(cmd.ErrOrStderr(), "cerulean hosts: no names to map yet (no registries, no container groups with a DNS name label)")
				}
				_, err := io.WriteString(cmd.OutOrStdout(), block.render("\n"))
				return err
			}
			return applyHosts(hostsFile, block, cmd.ErrOrStderr())
		},
	}
	addressFlags(cmd, &cfg)
	f := cmd.Flags()
	f.Lookup("azure-hostnames").Usage = "as serve --azure-hostnames: map Azure's names too, with <name>." + config.AzureRegistryDomain +
		" registries and 127.0.0.1:443 (env " + config.Env.AzureHostnames + ")"
	f.BoolVar(&apply, "apply", false, "write the block into the hosts file instead of printing it")
	f.BoolVar(&remove, "remove", false, "remove the data dir's block from the hosts file")
	f.StringVar(&hostsFile, "hosts-file", hostsFile, "the hosts file --apply and --remove edit")
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	return cmd
}

// applyHosts puts block into the hosts file at path and says on w what
// changed.
func applyHosts(path string, block hostsBlock, w io.Writer) error {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	updated, was, err := rewriteHosts(old, block)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if string(updated) == string(old) {
		fmt.Fprintf(w, "%s: unchanged\n", path)
		return nil
	}
	if err := writeHosts(path, updated); err != nil {
		return err
	}
	fmt.Fprintf(w, "%s: updated\n", path)
	for _, l := range was {
		if !slices.Contains(block.lines, l) {
			fmt.Fprintln(w, "-", l)
		}
	}
	for _, l := range block.lines {
		if !slices.Contains(was, l) {
			fmt.Fprintln(w, "+", l)
		}
	}
	return nil
}
