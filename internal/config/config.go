// Package config is the server's configuration: defaults, then environment
// variables, then command-line flags, validated once.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config configures `cerulean serve`.
type Config struct {
	DataDir        string // CERULEAN_DATA_DIR, default ~/.cerulean
	Listen         string // CERULEAN_LISTEN, default 127.0.0.1:8443
	RegistryDomain string // CERULEAN_REGISTRY_DOMAIN, default azurecr.localhost
	Location       string // CERULEAN_LOCATION, default eastus
	LogLevel       string // CERULEAN_LOG_LEVEL, default info
	// InstancesDomain is the parent domain of container group FQDNs
	// (<label>.<location>.<domain>); Azure's is azurecontainer.io.
	InstancesDomain string // CERULEAN_INSTANCES_DOMAIN, default azurecontainer.localhost
	// Runtime is the OCI runtime that runs containers: runc or crun, or
	// a path to either.
	Runtime string // CERULEAN_RUNTIME, default runc
	// AzureHostnames makes the server answer as Azure's public endpoints
	// (login.microsoftonline.com, management.azure.com, graph.microsoft.com,
	// <name>.azurecr.io), so that Azure's own clients in the AzureCloud
	// cloud need only DNS and trust changed. See UseAzureHostnames.
	AzureHostnames bool // CERULEAN_AZURE_HOSTNAMES, default false
	// Store is where metadata lives: "" for the embedded SQLite database
	// in the data dir, or a PostgreSQL URL (postgres://… or
	// postgresql://…) that several servers may share.
	Store string // CERULEAN_STORE, default ""
	// Blobs is where blobs are kept: empty for the data dir, or an S3
	// bucket, s3://bucket/prefix?endpoint=…&region=…, shared by servers.
	Blobs string // CERULEAN_BLOBS, default "" (<data dir>/blobs)
	// RegistryPort is the port clients reach registries on, written into
	// their login servers (<name>.<domain>[:port], none for 443) and so
	// into every registry token's audience. Empty means the listen port.
	// Servers behind one load balancer share one value: the balancer's.
	RegistryPort string // CERULEAN_REGISTRY_PORT, default "" (the listen port)
	// Advertise is the host:port other servers sharing the store reach
	// this one at, to hand it the requests about its container groups.
	Advertise string // CERULEAN_ADVERTISE, default "" (the listener's address)
	// ServerLease is how long a server that stops renewing its heartbeat
	// keeps its container groups before a live server takes them over.
	ServerLease time.Duration // CERULEAN_SERVER_LEASE, default 30s (0 too)

	badAzureHostnames bool
	badServerLease    bool
}

// Azure's public names that --azure-hostnames takes over.
const (
	AzureRegistryDomain  = "azurecr.io"
	AzureInstancesDomain = "azurecontainer.io"
	// AzureListen is where Azure's names are served: their URLs carry no
	// port, so clients connect to 443.
	AzureListen = "127.0.0.1:443"
)

// AzureHosts are the host names of Azure's public cloud that the server
// answers as in --azure-hostnames mode, besides <name>.azurecr.io.
var AzureHosts = []string{
	"login.microsoftonline.com",
	"management.azure.com",
	"management.core.windows.net",
	"graph.microsoft.com",
}

// Env names the environment variable of each setting.
var Env = struct {
	DataDir, Listen, RegistryDomain, Location, LogLevel, InstancesDomain, Runtime, AzureHostnames, Store string
	Blobs, RegistryPort, Advertise, ServerLease                                                          string
}{
	DataDir: "CERULEAN_DATA_DIR", Listen: "CERULEAN_LISTEN", RegistryDomain: "CERULEAN_REGISTRY_DOMAIN",
	Location: "CERULEAN_LOCATION", LogLevel: "CERULEAN_LOG_LEVEL", InstancesDomain: "CERULEAN_INSTANCES_DOMAIN",
	Runtime: "CERULEAN_RUNTIME", AzureHostnames: "CERULEAN_AZURE_HOSTNAMES", Store: "CERULEAN_STORE",
	Blobs: "CERULEAN_BLOBS", RegistryPort: "CERULEAN_REGISTRY_PORT", Advertise: "CERULEAN_ADVERTISE",
	ServerLease: "CERULEAN_SERVER_LEASE",
}

// DefaultServerLease is ServerLease's default.
const DefaultServerLease = 30 * time.Second

// DefaultDataDir returns ~/.cerulean.
func DefaultDataDir(home string) string { return filepath.Join(home, ".cerulean") }

// Defaults returns the built-in settings with environment overrides
// applied; getenv is os.Getenv outside tests. Flags are bound on top of
// the result by the command.
func Defaults(getenv func(string) string) Config {
	home, err := os.UserHomeDir()
	if err != nil {
		home = "/"
	}
	c := Config{
		DataDir:        DefaultDataDir(home),
		Listen:         "127.0.0.1:8443",
		RegistryDomain: "azurecr.localhost",
		Location:       "eastus",
		LogLevel:       "info",

		InstancesDomain: "azurecontainer.localhost",
		Runtime:         "runc",
		ServerLease:     DefaultServerLease,
	}
	for _, kv := range []struct {
		name string
		dst  *string
	}{
		{Env.DataDir, &c.DataDir}, {Env.Listen, &c.Listen}, {Env.RegistryDomain, &c.RegistryDomain},
		{Env.Location, &c.Location}, {Env.LogLevel, &c.LogLevel},
		{Env.InstancesDomain, &c.InstancesDomain}, {Env.Runtime, &c.Runtime}, {Env.Store, &c.Store},
		{Env.Blobs, &c.Blobs}, {Env.RegistryPort, &c.RegistryPort}, {Env.Advertise, &c.Advertise},
	} {
		if v := getenv(kv.name); v != "" {
			*kv.dst = v
		}
	}
	if v := getenv(Env.AzureHostnames); v != "" {
		// An unparsable value is kept as "on" so that Validate can say so
		// rather than silently serving the other mode.
		on, err := strconv.ParseBool(v)
		c.AzureHostnames = on || err != nil
		c.badAzureHostnames = err != nil
	}
	if v := getenv(Env.ServerLease); v != "" {
		d, err := time.ParseDuration(v)
		c.ServerLease, c.badServerLease = d, err != nil
	}
	return c
}

// UseAzureHostnames applies the defaults of --azure-hostnames to the
// settings the operator did not set: registries become <name>.azurecr.io,
// container group FQDNs <label>.<region>.azurecontainer.io, and the server
// listens on 127.0.0.1:443. isSet reports whether a setting (named by its
// environment variable) was given by flag or environment. It does nothing
// unless AzureHostnames is on.
func (c *Config) UseAzureHostnames(isSet func(env string) bool) {
	if !c.AzureHostnames {
		return
	}
	if !isSet(Env.Listen) {
		c.Listen = AzureListen
	}
	if !isSet(Env.RegistryDomain) {
		c.RegistryDomain = AzureRegistryDomain
	}
	if !isSet(Env.InstancesDomain) {
		c.InstancesDomain = AzureInstancesDomain
	}
}

// Validate reports every problem with the configuration at once.
func (c Config) Validate() error {
	var errs []error
	if c.DataDir == "" {
		errs = append(errs, errors.New("data dir: must not be empty"))
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("listen %q: %w", c.Listen, err))
	}
	if !validDomain(c.RegistryDomain) {
		errs = append(errs, fmt.Errorf("registry domain %q: must be a DNS name such as azurecr.localhost", c.RegistryDomain))
	}
	if c.Location == "" || strings.ContainsFunc(c.Location, func(r rune) bool { return !('a' <= r && r <= 'z' || '0' <= r && r <= '9') }) {
		errs = append(errs, fmt.Errorf("location %q: must be a lower-case region name such as eastus", c.Location))
	}
	if !validDomain(c.InstancesDomain) {
		errs = append(errs, fmt.Errorf("instances domain %q: must be a DNS name such as azurecontainer.localhost", c.InstancesDomain))
	}
	if c.Runtime == "" {
		errs = append(errs, errors.New("runtime: must name runc, crun or a path to an OCI runtime"))
	}
	if _, err := c.Level(); err != nil {
		errs = append(errs, err)
	}
	if err := validStore(c.Store); err != nil {
		errs = append(errs, err)
	}
	if err := validBlobs(c.Blobs); err != nil {
		errs = append(errs, err)
	}
	if c.RegistryPort != "" {
		if p, err := strconv.Atoi(c.RegistryPort); err != nil || p < 1 || p > 65535 {
			errs = append(errs, fmt.Errorf("registry port %q: want a port number from 1 to 65535", c.RegistryPort))
		}
	}
	if err := validAdvertise(c.Advertise); err != nil {
		errs = append(errs, err)
	}
	// Zero is the default (a Config built without Defaults).
	if c.badServerLease || c.ServerLease < 0 || c.ServerLease > 0 && c.ServerLease < MinServerLease {
		errs = append(errs, fmt.Errorf("server lease: want a duration of at least %s such as 30s", MinServerLease))
	}
	if c.badAzureHostnames {
		errs = append(errs, fmt.Errorf("%s: want true or false", Env.AzureHostnames))
	}
	if c.AzureHostnames && c.RegistryDomain != AzureRegistryDomain {
		// Clients in the AzureCloud cloud expect registries under azurecr.io.
		errs = append(errs, fmt.Errorf("registry domain %q: --azure-hostnames serves registries as <name>.%s; drop the registry domain setting",
			c.RegistryDomain, AzureRegistryDomain))
	}
	return errors.Join(errs...)
}

// Level parses LogLevel.
func (c Config) Level() (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return 0, fmt.Errorf("log level %q: want debug, info, warn or error", c.LogLevel)
	}
	return l, nil
}

// validStore accepts "" (SQLite in the data dir) or a PostgreSQL URL with
// a host. The error never quotes the URL, which may hold a password.
func validStore(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return errors.New("store: not a URL; want postgres://user:password@host:port/database")
	case u.Scheme != "postgres" && u.Scheme != "postgresql":
		return fmt.Errorf("store: scheme %q is not supported; want postgres:// or postgresql://, or no store setting for SQLite in the data dir", u.Scheme)
	case u.Host == "" && u.Query().Get("host") == "":
		return errors.New("store: the URL names no host; want postgres://user:password@host:port/database")
	}
	return nil
}

// MinServerLease is the shortest lease: heartbeats are renewed every
// third of it, and a round trip to the store must fit.
const MinServerLease = 3 * time.Second

// validAdvertise accepts "" (the listener's address) or a host:port that
// another machine can dial: a port, and a host that is not the unspecified
// address.
func validAdvertise(a string) error {
	if a == "" {
		return nil
	}
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return fmt.Errorf("advertise %q: want host:port that other servers reach this one at", a)
	}
	if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
		return fmt.Errorf("advertise %q: port must be 1-65535", a)
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		return fmt.Errorf("advertise %q: name a host or address other servers can dial, not %q", a, host)
	}
	if net.ParseIP(host) == nil && !validDomain(strings.ToLower(host)) && !strings.EqualFold(host, "localhost") {
		return fmt.Errorf("advertise %q: %q is not a host name or IP address", a, host)
	}
	return nil
}

// validBlobs checks the shape of an s3:// blob store URL; the S3 backend
// checks the rest when it opens the bucket.
func validBlobs(b string) error {
	if b == "" {
		return nil
	}
	u, err := url.Parse(b)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return fmt.Errorf("blobs %q: want s3://bucket/prefix?endpoint=…&region=… (or nothing for the data dir)", b)
	}
	if ep := u.Query().Get("endpoint"); ep != "" {
		e, err := url.Parse(ep)
		if err != nil || (e.Scheme != "http" && e.Scheme != "https") || e.Host == "" {
			return fmt.Errorf("blobs %q: endpoint %q: want an http(s) URL", b, ep)
		}
	}
	return nil
}

func validDomain(d string) bool {
	if d == "" || len(d) > 253 || strings.HasPrefix(d, ".") || strings.HasSuffix(d, ".") {
		return false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return false
		}
		for _, r := range label {
			if !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}
