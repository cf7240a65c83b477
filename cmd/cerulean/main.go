// Command cerulean is the whole of Cerulean in one binary: `cerulean serve`
// runs the server, and `cerulean az …` — or the binary invoked through a
// link named az — is the Azure-CLI-compatible client. `cerulean hosts` and
// `cerulean ca` tell other clients how to reach the server and trust it.
package main

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/cerulean/cerulean/internal/cli"
	"github.com/cerulean/cerulean/internal/runner"
)

func main() {
	// The per-group monitor (started by the server's runner) handles its
	// own signals: dispatch it before anything else is set up.
	if len(os.Args) > 1 && os.Args[1] == "shim" {
		os.Exit(runner.ShimMain(os.Args[2:]))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, filepath.Base(os.Args[0]), os.Args[1:])
	stop()
	os.Exit(code)
}

func run(ctx context.Context, name string, args []string) int {
	if name == "az" {
		return cli.Main(ctx, args, os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	}
	return rootCommand(ctx).execute(args)
}
