// Package cli is Cerulean's Azure-CLI-compatible command line: the az
// command tree (login, account, group, ad sp, role ...) with az's grammar,
// output formats, messages and exit codes, talking to a Cerulean server
// through internal/client. Main is the entry point; everything it needs from
// the process comes in as arguments, so tests run it in-process.
package cli

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/cerulean/cerulean/internal/cli/output"
	"github.com/cerulean/cerulean/internal/client"
	"github.com/cerulean/cerulean/internal/tlsca"
)

// Version is reported in the User-Agent.
const Version = "2.67.0"

// Main runs the az command line args (without the program name) and returns
// the process exit code: 0 success, 1 error, 2 usage error, 3 a missing
// resource. env looks up environment variables (os.Getenv in production).
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env func(string) string) int {
	return newApp(stdin, stdout, stderr, env).run(ctx, args)
}

// app is one run of the CLI.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	env            func(string) string
	settings       settings
	log            *logger
	// cloudRegistryDomain caches registryDomain's answer from the server.
	cloudRegistryDomain string

	// Test hooks.
	now          func() time.Time
	uuid         func() string
	sleep        func(context.Context, time.Duration) error
	httpClient   *http.Client
	pollInterval time.Duration
	stdinIsTTY   func() bool
	stdoutIsTTY  func() bool
}

func newApp(stdin io.Reader, stdout, stderr io.Writer, env func(string) string) *app {
	if env == nil {
		env = func(string) string { return "" }
	}
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	a := &app{
		stdin: stdin, stdout: stdout, stderr: stderr, env: env,
		settings: loadSettings(env),
		now:      time.Now,
		uuid:     newUUID,
		sleep:    sleepCtx,
	}
	a.stdinIsTTY = func() bool { return isTerminal(a.stdin) }
	a.stdoutIsTTY = func() bool { return isTerminal(a.stdout) }
	a.log = &logger{w: stderr, level: levelWarning}
	return a
}

func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// settings are the environment the CLI runs in.
type settings struct {
	home      string
	endpoint  string
	dataDir   string
	caFile    string
	configDir string
	// defaultOutput is AZURE_CORE_OUTPUT (az's core.output setting).
	defaultOutput  string
	onlyShowErrors bool
}

func loadSettings(env func(string) string) settings {
	s := settings{home: env("HOME")}
	s.endpoint = env("CERULEAN_ENDPOINT")
	if s.endpoint == "" {
		s.endpoint = "https://localhost:8443"
	}
	s.dataDir = env("CERULEAN_DATA_DIR")
	if s.dataDir == "" && s.home != "" {
		s.dataDir = s.home + "/.cerulean"
	}
	s.caFile = env("CERULEAN_CA_FILE")
	if s.caFile == "" && s.dataDir != "" {
		s.caFile = s.dataDir + "/tls/ca.pem"
	}
	s.configDir = env("AZURE_CONFIG_DIR")
	if s.configDir == "" && s.home != "" {
		s.configDir = s.home + "/.cerulean/az"
	}
	s.defaultOutput = strings.ToLower(env("AZURE_CORE_OUTPUT"))
	if s.defaultOutput == "" {
		s.defaultOutput = "json"
	}
	switch strings.ToLower(env("AZURE_CORE_ONLY_SHOW_ERRORS")) {
	case "1", "true", "yes", "on":
		s.onlyShowErrors = true
	}
	return s
}

func (a *app) store() (*store, error) {
	if a.settings.configDir == "" {
		return nil, errorf("Cannot find the configuration directory: set AZURE_CONFIG_DIR or HOME.")
	}
	return &store{dir: a.settings.configDir}, nil
}

// newClient builds the HTTPS client, trusting only the Cerulean CA.
func (a *app) newClient() (*client.Client, error) {
	hc := a.httpClient
	var pool *x509.CertPool
	if hc == nil {
		if a.settings.caFile == "" {
			return nil, errorf("Cannot find the Cerulean CA certificate: set CERULEAN_CA_FILE, CERULEAN_DATA_DIR or HOME.")
		}
		p, err := tlsca.LoadCAPool(a.settings.caFile)
		if err != nil {
			return nil, &cliError{msg: fmt.Sprintf("Cannot load the Cerulean CA certificate: %v", err),
				recommendations: []string{"Start the server with 'cerulean serve' or set CERULEAN_CA_FILE to its CA certificate (tls/ca.pem in its data dir)."}}
		}
		pool = p
	}
	var log *slog.Logger
	if a.log.level >= levelDebug {
		log = slog.New(slogHandler{l: a.log, name: logPolicies})
	}
	return client.New(client.Config{
		Endpoint:     a.settings.endpoint,
		CAPool:       pool,
		HTTPClient:   hc,
		UserAgent:    "AZURECLI/" + Version + " (Cerulean)",
		Logger:       log,
		PollInterval: a.pollInterval,
	})
}

// run is Main.
func (a *app) run(ctx context.Context, rawArgs []string) int {
	args, err := expandFilePrefixedArgs(rawArgs, a.settings.home)
	if err != nil {
		return a.fail(err)
	}
	if code, ok := a.configureLogging(args); !ok {
		return code
	}
	a.log.debugf(logKnack, "Command arguments: %s", pyList(redactArgs(rawArgs)))

	tree := buildTree(commandTable())
	rest := make([]string, 0, len(args))
	for _, t := range args {
		if t != "--debug" && t != "--verbose" {
			rest = append(rest, t)
		}
	}
	if len(rest) == 0 {
		a.printWelcome(tree.root)
		return 0
	}
	if strings.EqualFold(args[0], "help") {
		args[0] = "--help"
	}
	if args[0] == "--version" {
		a.printVersion()
		return 0
	}

	node, i := tree.root, 0
	for i < len(args) && !strings.HasPrefix(args[i], "-") {
		child := findChild(node, args[i])
		if child == nil {
			break
		}
		node, i = child, i+1
	}
	prog := "az " + strings.TrimSpace(strings.TrimPrefix(node.CommandPath(), node.Root().Name()))
	prog = strings.TrimSpace(prog)
	cmd := tree.leaves[node]
	if cmd == nil {
		return a.groupUsage(tree, node, prog, args[i:])
	}
	return a.runCommand(ctx, cmd, prog, args[i:])
}

// configureLogging applies --debug, --verbose and --only-show-errors, which
// knack reads from the raw arguments before parsing.
func (a *app) configureLogging(args []string) (int, bool) {
	has := func(f string) bool {
		for _, x := range args {
			if x == f {
				return true
			}
		}
		return false
	}
	switch {
	case has("--only-show-errors"):
		if has("--debug") || has("--verbose") {
			return a.fail(errorf("--only-show-errors can't be used together with --debug or --verbose")), false
		}
		a.log.level = levelError
	case has("--debug"):
		a.log.level = levelDebug
	case has("--verbose"):
		a.log.level = levelInfo
	case a.settings.onlyShowErrors:
		a.log.level = levelError
	}
	return 0, true
}

// groupUsage handles a command line that stops at a group: help, the
// error for an Azure CLI command Cerulean lacks, or az's "misspelled"
// error for an unknown word.
func (a *app) groupUsage(tree *cmdTree, node *cobra.Command, prog string, rest []string) int {
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		group := strings.TrimSpace(strings.TrimPrefix(prog, "az"))
		if azureOnlyCommand(strings.TrimSpace(group + " " + rest[0])) {
			return a.fail(azureOnlyError(group, rest[0]))
		}
		var names []string
		for _, c := range node.Commands() {
			names = append(names, c.Name())
		}
		names = append(names, azureOnlyNames(group)...)
		e := &usageError{msg: fmt.Sprintf("'%s' is misspelled or not recognized by the system.", rest[0])}
		if m := closeMatch(rest[0], names); m != "" {
			e.recommendations = append(e.recommendations, fmt.Sprintf("Did you mean '%s' ?", m))
		}
		return a.fail(e)
	}
	var extras []string
	for _, t := range rest {
		switch t {
		case "-h", "--help", "--debug", "--verbose", "--only-show-errors":
		default:
			extras = append(extras, t)
		}
	}
	if len(extras) > 0 && !containsAny(rest, "-h", "--help") {
		return a.fail(&usageError{msg: "unrecognized arguments: " + strings.Join(extras, " ")})
	}
	a.printGroupHelp(tree, node, prog)
	return 0
}

func containsAny(list []string, xs ...string) bool {
	for _, l := range list {
		for _, x := range xs {
			if l == x {
				return true
			}
		}
	}
	return false
}

// runCommand parses and runs a leaf command and prints its result.
func (a *app) runCommand(ctx context.Context, cmd *command, prog string, tokens []string) int {
	defs := cmd.allArgs()
	parsed, err := parseArgs(prog, defs, tokens)
	if err != nil {
		if errors.As(err, new(helpRequested)) {
			a.printCommandHelp(cmd, prog)
			return 0
		}
		return a.fail(err)
	}
	format := output.Format(a.settings.defaultOutput)
	if parsed.has("_output") {
		format = output.Format(parsed.str("_output"))
	} else if _, err := output.ParseFormat(string(format)); err != nil {
		format = output.JSON
	}
	if !a.stdoutIsTTY() {
		format = format.Plain()
	}
	var query *output.Query
	if parsed.has("_query") {
		q, err := output.CompileQuery(parsed.str("_query"))
		if err != nil {
			return a.fail(&usageError{msg: err.Error(), recommendations: []string{queryReference}})
		}
		query = q
	}
	inv := &inv{ctx: ctx, app: a, cmd: cmd, args: parsed}
	if cmd.confirmation && !parsed.flag("yes") {
		if err := a.confirm("Are you sure you want to perform this operation?"); err != nil {
			return a.fail(err)
		}
	}
	result, err := cmd.run(inv)
	if err != nil {
		if cmd.show && notFound(err) {
			msg, recs, _ := describeError(err)
			a.printError(msg, recs)
			return 3
		}
		return a.fail(err)
	}
	if result == nil {
		return 0
	}
	var opts []output.Option
	if cmd.table != nil {
		opts = append(opts, output.WithTable(cmd.table))
	}
	if err := output.Write(a.stdout, result, format, query, opts...); err != nil {
		return a.fail(&cliError{msg: err.Error()})
	}
	return 0
}

// confirm asks the user like knack's prompt_y_n; without a terminal it
// warns and cancels (core's _user_confirmed).
func (a *app) confirm(msg string) error {
	if !a.stdinIsTTY() {
		a.log.warnf(logCommands, "Unable to prompt for confirmation as no tty available. Use --yes.")
		return errCancelled
	}
	ok, err := a.promptYN(msg, "")
	if err != nil {
		return err
	}
	if !ok {
		return errCancelled
	}
	return nil
}

// fail prints err the way az does and returns the exit code.
func (a *app) fail(err error) int {
	msg, recs, code := describeError(err)
	a.printError(msg, recs)
	return code
}

func (a *app) printError(msg string, recs []string) {
	a.log.errorf(logError, "%s", msg)
	for _, r := range recs {
		a.log.printRecommendation(r)
	}
}

// redactArgs hides the values of secret-bearing options in debug output.
func redactArgs(args []string) []string {
	out := append([]string(nil), args...)
	for i, a := range out {
		switch {
		case a == "-p" || a == "--password" || a == "--client-secret" || a == "--registry-password" ||
			a == "--secure-environment-variables" || a == "--secrets" || a == "--secret-build-arg" || a == "--set-secret":
			// The values of the last two run to the next option.
			for j := i + 1; j < len(out) && (j == i+1 || !strings.HasPrefix(out[j], "-")); j++ {
				out[j] = "***"
				if a != "--secure-environment-variables" && a != "--secrets" {
					break
				}
			}
		case strings.HasPrefix(a, "--password=") || strings.HasPrefix(a, "--client-secret=") ||
			strings.HasPrefix(a, "--registry-password=") || strings.HasPrefix(a, "--secure-environment-variables=") ||
			strings.HasPrefix(a, "--secrets=") || strings.HasPrefix(a, "--secret-build-arg=") || strings.HasPrefix(a, "--set-secret="):
			k, _, _ := strings.Cut(a, "=")
			out[i] = k + "=***"
		case strings.HasPrefix(a, "-p") && len(a) > 2 && !strings.HasPrefix(a, "--"):
			out[i] = "-p***"
		}
	}
	return out
}

// printVersion is `az --version`.
func (a *app) printVersion() {
	fmt.Fprintf(a.stdout, "%-25s%15s\n\n%-25s%15s\n%-25s%15s\n\n", "azure-cli", Version, "core", Version, "telemetry", "1.1.0")
	fmt.Fprintln(a.stdout, "Cerulean: an Azure-CLI-compatible command line for a self-hosted Cerulean server.")
	fmt.Fprintln(a.stdout)
}

// pyList formats a list of strings as Python's repr of a list.
func pyList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = pyRepr(x)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// expandFilePrefixedArgs replaces "@path" (or "--opt=@path") by the file's
// content, as az does before parsing; "@-" reads stdin is not supported.
func expandFilePrefixedArgs(args []string, home string) ([]string, error) {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a
		key, val, hasEq := strings.Cut(a, "=")
		target := a
		if hasEq && strings.HasPrefix(a, "-") {
			target = val
		} else {
			key = ""
		}
		if !strings.HasPrefix(target, "@") || len(target) < 2 || target == "@-" {
			continue
		}
		data, err := os.ReadFile(expandHome(target[1:], home))
		if err != nil {
			continue // not a file: keep the argument as is
		}
		content := strings.TrimRight(string(data), "\n")
		if hasEq && key != "" {
			out[i] = key + "=" + content
		} else {
			out[i] = content
		}
	}
	return out, nil
}

func expandHome(p, home string) string {
	if strings.HasPrefix(p, "~/") && home != "" {
		return home + p[1:]
	}
	return p
}
