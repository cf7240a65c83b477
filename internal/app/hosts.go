package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cerulean/cerulean/internal/config"
	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/store"
	"github.com/cerulean/cerulean/internal/store/pgstore"
	"github.com/cerulean/cerulean/internal/store/sqlstore"
	"github.com/cerulean/cerulean/internal/tlsca"
)

// HostsEntry is one line of a hosts file: an address and the names that
// resolve to it.
type HostsEntry struct {
	IP    netip.Addr
	Names []string
}

// Hosts is what a hosts file needs so that clients which resolve names
// through it (Azure's own, docker, podman) reach a data dir's server and
// its container groups.
type Hosts struct {
	Entries []HostsEntry
	// Warnings name what the entries cannot get right, such as registries
	// the server last served under another registry domain.
	Warnings []string
}

// ReadHosts reads the data dir's store, read-only (a running server is
// undisturbed), and returns the hosts entries for cfg, the settings serve
// runs with: Azure's names with --azure-hostnames, every registry's login
// server host, both at the listen address, and every container group with
// a DNS name label at the group's own address.
func ReadHosts(ctx context.Context, cfg config.Config) (Hosts, error) {
	if err := cfg.Validate(); err != nil {
		return Hosts{}, err
	}
	ip, err := ListenIP(ctx, cfg.Listen)
	if err != nil {
		return Hosts{}, err
	}
	st, err := openReadOnly(ctx, cfg.DataDir, cfg.Store)
	if err != nil {
		return Hosts{}, err
	}
	defer func() { _ = st.Close() }()

	var h Hosts
	// Azure's names and ACR Tasks' blob host (uploads and logs; tasks.go).
	if cfg.AzureHostnames {
		h.Entries = append(h.Entries, HostsEntry{IP: ip, Names: append(slices.Clone(config.AzureHosts), BlobHost(cfg))})
	} else {
		h.Entries = append(h.Entries, HostsEntry{IP: ip, Names: []string{BlobHost(cfg)}})
	}
	regs, err := storedLoginServers(ctx, st)
	if err != nil {
		return Hosts{}, err
	}
	suffix := "." + strings.ToLower(cfg.RegistryDomain)
	for _, ls := range regs {
		host := hostOnly(ls)
		if !strings.HasSuffix(host, suffix) {
			// The server moves login servers to the configured domain when
			// it starts: this one was served with other settings.
			h.Warnings = append(h.Warnings, fmt.Sprintf("registry login server %s is not under the registry domain %s: "+
				"the server runs with other settings than these (or has not restarted since they changed)", ls, cfg.RegistryDomain))
		}
		h.Entries = append(h.Entries, HostsEntry{IP: ip, Names: []string{host}})
	}
	groups, err := st.ContainerGroups().ListGroups(ctx, "", "")
	if err != nil {
		return Hosts{}, err
	}
	var fqdns []HostsEntry
	domain := strings.ToLower(cfg.InstancesDomain)
	for _, g := range groups {
		if g.DNSNameLabel == "" || !g.IP.IsValid() {
			continue
		}
		// As containergroup.Service names it: <label>.<location>.<domain>.
		fqdn := strings.ToLower(g.DNSNameLabel + "." + g.Location + "." + domain)
		fqdns = append(fqdns, HostsEntry{IP: g.IP, Names: []string{fqdn}})
	}
	slices.SortFunc(fqdns, func(a, b HostsEntry) int { return cmp.Compare(a.Names[0], b.Names[0]) })
	h.Entries = append(h.Entries, fqdns...)
	return h, nil
}

// LoginServers returns the login server (host[:port], as clients name it)
// of every registry in the data dir's store, sorted, reading it as
// ReadHosts does; storeURL is config.Config.Store.
func LoginServers(ctx context.Context, dataDir, storeURL string) ([]string, error) {
	st, err := openReadOnly(ctx, dataDir, storeURL)
	if err != nil {
		return nil, err
	}
	defer func() { _ = st.Close() }()
	return storedLoginServers(ctx, st)
}

// CAFile is where the server keeps the CA certificate of a data dir (the
// tls directory New gives tlsca).
func CAFile(dataDir string) string { return filepath.Join(dataDir, "tls", "ca.pem") }

// ReadCA returns the CA certificate (PEM) clients must trust, read-only: the
// data dir's (CAFile), or with a PostgreSQL store (storeURL, as
// config.Config.Store) the CA every server on it shares, which each server
// copies to its CAFile when it starts. Without a data dir CA the error
// satisfies errors.Is(err, fs.ErrNotExist).
func ReadCA(ctx context.Context, dataDir, storeURL string) ([]byte, error) {
	if storeURL == "" {
		return os.ReadFile(CAFile(dataDir))
	}
	st, err := openReadOnly(ctx, dataDir, storeURL)
	if err != nil {
		return nil, err
	}
	defer func() { _ = st.Close() }()
	ss, ok := st.(interface {
		SharedSecret(ctx context.Context, name string) ([]byte, error)
	})
	if !ok {
		return nil, errors.New("the store keeps no shared secrets")
	}
	data, err := ss.SharedSecret(ctx, secretCA)
	if errdefs.IsKind(err, errdefs.NotFound) {
		return nil, errors.New("no CA in the PostgreSQL store: `cerulean serve --store …` has not run on it since servers share their CA")
	}
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	ca, err := tlsca.ParseCA(data)
	if err != nil {
		return nil, &unusableSecretError{name: secretCA, err: err}
	}
	return ca.CertPEM(), nil
}

// ListenIP is the address clients should dial for a listen address: the
// loopback address when the server listens on every address or on
// localhost, else the listen host itself (a name is resolved).
func ListenIP(ctx context.Context, listen string) (netip.Addr, error) {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("listen %q: %w", listen, err)
	}
	loopback := netip.AddrFrom4([4]byte{127, 0, 0, 1})
	if host == "" || strings.EqualFold(host, "localhost") {
		return loopback, nil
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.IsUnspecified() {
			return loopback, nil
		}
		return ip.Unmap(), nil
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("listen %q: %w", listen, err)
	}
	if len(ips) == 0 {
		return netip.Addr{}, fmt.Errorf("listen %q: %s has no address", listen, host)
	}
	// The server binds the first address the resolver gives; prefer IPv4
	// as net.Listen does.
	for _, ip := range ips {
		if ip.Unmap().Is4() {
			return ip.Unmap(), nil
		}
	}
	return ips[0], nil
}

// openReadOnly opens the store serve uses, read-only: PostgreSQL when
// storeURL names it, else the data dir's SQLite database.
func openReadOnly(ctx context.Context, dataDir, storeURL string) (store.Store, error) {
	if storeURL != "" {
		st, err := pgstore.OpenReadOnly(ctx, storeURL)
		if errdefs.IsKind(err, errdefs.NotFound) {
			return nil, errors.New("no Cerulean data in the PostgreSQL store: `cerulean serve --store …` has not run on it yet")
		}
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		return st, nil
	}
	path := filepath.Join(dataDir, "cerulean.db")
	st, err := sqlstore.OpenReadOnly(ctx, path)
	if errdefs.IsKind(err, errdefs.NotFound) {
		return nil, fmt.Errorf("no Cerulean data in %s: `cerulean serve --data-dir %s` has not run yet", dataDir, dataDir)
	}
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	return st, nil
}

func storedLoginServers(ctx context.Context, st store.Store) ([]string, error) {
	subs, err := st.Resources().ListSubscriptions(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, sub := range subs {
		regs, err := st.Registry().ListRegistries(ctx, sub.ID, "")
		if err != nil {
			return nil, err
		}
		for _, r := range regs {
			out = append(out, r.LoginServer)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
