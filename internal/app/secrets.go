package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/sealbox"
	"github.com/cerulean/cerulean/internal/tlsca"
	"github.com/cerulean/cerulean/internal/token"
)

// sharedSecrets is where servers sharing one database keep the secrets
// they must all hold the same of, each under a name: *pgstore.Store
// satisfies it. A store without it (SQLite) belongs to one server, which
// keeps them in files in its data dir.
type sharedSecrets interface {
	// SharedSecret is the value stored under name; NotFound when none is.
	SharedSecret(ctx context.Context, name string) ([]byte, error)
	// ClaimSharedSecret stores value unless one is stored already, and
	// returns the stored one (stored: it is value), atomically.
	ClaimSharedSecret(ctx context.Context, name string, value []byte) (winner []byte, stored bool, err error)
	// PutSharedSecret stores value, replacing any.
	PutSharedSecret(ctx context.Context, name string, value []byte) error
}

// The shared secrets' names. The keys' are their file names under keys/.
const (
	secretCA               = "tls-ca" // certificate and key, tlsca.GenerateCA's form
	secretTokenKey         = "token-signing-key"
	secretRegistrySealing  = "registry-sealing-key"
	secretInstancesSealing = "instances-sealing-key"
	secretBootstrap        = "bootstrap-credentials" // bootstrap.Marshal's form
)

// keys are the secrets New loads.
type keys struct {
	tls     *tlsca.Bundle
	signer  *token.Signer
	sealers map[string]*sealbox.Box // by name: secretRegistrySealing, secretInstancesSealing
}

// loadKeys loads the CA and this server's serving certificate, the token
// signing key and the sealing keys: from the data dir, made there on the
// first start, or with a shared store from that store, where the first
// server to start stores them (see loadShared). The serving certificate is
// always this server's own, for its names, signed by the CA and kept in
// the data dir beside ca.pem.
func (a *App) loadKeys(ctx context.Context, host string) (keys, error) {
	tlsCfg := tlsca.Config{Dir: filepath.Join(a.cfg.DataDir, "tls"), DNSNames: certNames(host, a.cfg), IPs: certIPs(host)}
	keyPath := func(name string) string { return filepath.Join(a.cfg.DataDir, "keys", name) }
	tokenPath := keyPath("token-signing-key.pem")
	k := keys{sealers: map[string]*sealbox.Box{}}
	ss, shared := a.store.(sharedSecrets)
	if !shared {
		var err error
		if k.tls, err = tlsca.LoadOrCreate(tlsCfg); err != nil {
			return keys{}, fmt.Errorf("tls: %w", err)
		}
		if k.signer, err = token.LoadOrCreate(tokenPath); err != nil {
			return keys{}, fmt.Errorf("token signing key: %w", err)
		}
		for name, what := range map[string]string{secretRegistrySealing: "sealing key", secretInstancesSealing: "instances sealing key"} {
			if k.sealers[name], err = sealbox.LoadOrCreate(keyPath(name)); err != nil {
				return keys{}, fmt.Errorf("%s: %w", what, err)
			}
		}
		return k, nil
	}

	ca, err := loadShared(ctx, a.logger, ss, sharedSpec{
		name: secretCA, path: filepath.Join(tlsCfg.Dir, "ca.pem"),
		local:    func() ([]byte, error) { return tlsca.ReadCAFiles(tlsCfg.Dir) },
		generate: func() ([]byte, error) { return tlsca.GenerateCA(time.Now()) },
		// After the first start ca.pem is the shared CA's and ca-key.pem
		// (if any) this server's old one: no use comparing them.
		noCompare: true,
	}, tlsca.ParseCA)
	if err != nil {
		return keys{}, err
	}
	caFile := filepath.Join(tlsCfg.Dir, "ca.pem")
	if old, err := os.ReadFile(caFile); err == nil && !bytes.Equal(old, ca.CertPEM()) {
		a.logger.WarnContext(ctx, "the data dir's CA certificate is replaced by the shared CA: clients that trusted this server's own CA must trust the shared one",
			"path", caFile)
	}
	if k.tls, err = tlsca.LoadOrIssue(tlsCfg, ca); err != nil {
		return keys{}, fmt.Errorf("tls: %w", err)
	}
	if k.signer, err = loadShared(ctx, a.logger, ss, sharedSpec{
		name: secretTokenKey, path: tokenPath,
		local:    func() ([]byte, error) { return os.ReadFile(tokenPath) },
		generate: token.GenerateKey,
	}, token.FromPEM); err != nil {
		return keys{}, err
	}
	for _, name := range []string{secretRegistrySealing, secretInstancesSealing} {
		path := keyPath(name)
		if k.sealers[name], err = loadShared(ctx, a.logger, ss, sharedSpec{
			name: name, path: path,
			local:    func() ([]byte, error) { return os.ReadFile(path) },
			generate: sealbox.GenerateKey,
		}, sealbox.New); err != nil {
			return keys{}, err
		}
	}
	return k, nil
}

// sharedSpec says where a shared secret comes from when the store has
// none yet.
type sharedSpec struct {
	name string
	// path names the data dir's copy, in messages.
	path string
	// local reads the data dir's copy: what a server of a deployment that
	// ran before secrets were shared made. An error satisfying
	// errors.Is(err, fs.ErrNotExist) means there is none.
	local func() ([]byte, error)
	// generate makes a new one.
	generate func() ([]byte, error)
	// noCompare skips the warning for a data dir copy that differs from
	// the shared value.
	noCompare bool
}

// loadShared returns the shared secret spec.name, checked by parse. When
// the store has none yet, this server stores the data dir's copy (so that
// after an upgrade the tokens it signed and the passwords it sealed stay
// valid) or else a new one; of servers starting at once, every one ends
// with the first one stored. A stored value that parse refuses is an
// error, never replaced: whatever was signed or sealed with it would be
// lost.
func loadShared[T any](ctx context.Context, logger *slog.Logger, ss sharedSecrets, spec sharedSpec, parse func([]byte) (T, error)) (T, error) {
	var zero T
	stored, err := ss.SharedSecret(ctx, spec.name)
	switch {
	case err == nil:
		warnIfLocalDiffers(ctx, logger, spec, stored)
	case !errdefs.IsKind(err, errdefs.NotFound):
		return zero, fmt.Errorf("shared secret %q: %w", spec.name, err)
	default:
		mine, err := spec.local()
		imported := err == nil
		switch {
		case imported:
			if _, err := parse(mine); err != nil {
				return zero, fmt.Errorf("shared secret %q: the data dir's copy %s, to be imported, is unusable: %w", spec.name, spec.path, err)
			}
		case errors.Is(err, fs.ErrNotExist):
			if mine, err = spec.generate(); err != nil {
				return zero, fmt.Errorf("shared secret %q: %w", spec.name, err)
			}
		default:
			return zero, fmt.Errorf("shared secret %q: the data dir's copy %s: %w", spec.name, spec.path, err)
		}
		var won bool
		if stored, won, err = ss.ClaimSharedSecret(ctx, spec.name, mine); err != nil {
			return zero, fmt.Errorf("shared secret %q: %w", spec.name, err)
		}
		switch {
		case won && imported:
			logger.InfoContext(ctx, "shared secret imported from the data dir", "secret", spec.name, "path", spec.path)
		case won:
			logger.InfoContext(ctx, "shared secret generated", "secret", spec.name)
		default:
			logger.InfoContext(ctx, "shared secret stored by another server meanwhile", "secret", spec.name)
			warnIfLocalDiffers(ctx, logger, spec, stored)
		}
	}
	v, err := parse(stored)
	if err != nil {
		return zero, &unusableSecretError{name: spec.name, err: err}
	}
	return v, nil
}

// warnIfLocalDiffers warns about a data dir copy of a shared secret that
// the server no longer uses (another server's copy was stored first):
// what this server signed or sealed with it is no longer accepted.
func warnIfLocalDiffers(ctx context.Context, logger *slog.Logger, spec sharedSpec, stored []byte) {
	if spec.noCompare {
		return
	}
	if mine, err := spec.local(); err == nil && !bytes.Equal(mine, stored) {
		logger.WarnContext(ctx, "the data dir's copy of a shared secret differs from the shared one and is not used: "+
			"what this server signed or sealed with it before secrets were shared is no longer accepted",
			"secret", spec.name, "path", spec.path)
	}
}

// unusableSecretError is a shared secret that is stored but cannot be
// used: a startup error.
type unusableSecretError struct {
	name string
	err  error
}

func (e *unusableSecretError) Error() string {
	return fmt.Sprintf("shared secret %q stored in the database is unusable (it is never replaced automatically: "+
		"what was signed or sealed with it would be lost; restore it from a backup, or delete its shared_secrets row to start over): %v", e.name, e.err)
}

func (e *unusableSecretError) Unwrap() error { return e.err }

// sealingKey is the sealing key New loaded under name.
func (a *App) sealingKey(name string) (*sealbox.Box, error) {
	if b := a.sealers[name]; b != nil {
		return b, nil
	}
	return nil, fmt.Errorf("no sealing key %q", name)
}
