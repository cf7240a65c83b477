// Package tlsca maintains Cerulean's local certificate authority and the TLS
// serving certificate it signs.
//
// On first use LoadOrCreate generates a CA (ECDSA P-256, valid ten years) and
// a serving certificate for the configured DNS names and IP addresses, and
// stores all four PEM files in one directory:
//
//	ca.pem          CA certificate; distribute this to clients
//	ca-key.pem      CA private key (PKCS#8, mode 0600)
//	server.pem      serving certificate
//	server-key.pem  serving private key (PKCS#8, mode 0600)
//
// Later calls reuse both. The serving certificate is re-issued, under the same
// CA, when it is missing, unreadable, no longer chains to the CA, expires
// within 30 days, or does not cover every requested name; clients that trust
// ca.pem are therefore unaffected. The CA itself is never replaced
// automatically: a corrupt, mismatched or expired CA is an error that names the
// offending file, and the operator decides what to do.
//
// Servers that share one CA keep it elsewhere (GenerateCA, ParseCA: the
// certificate and key as PEM) and give it to LoadOrIssue, which writes only
// ca.pem and each server's own serving certificate to the directory.
package tlsca

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/cerulean/cerulean/internal/atomicfile"
)

// File names inside Config.Dir.
const (
	caFileName        = "ca.pem"
	caKeyFileName     = "ca-key.pem"
	serverFileName    = "server.pem"
	serverKeyFileName = "server-key.pem"
)

const (
	caCommonName   = "Cerulean Local CA"
	caYears        = 10
	serverValidity = 397 * 24 * time.Hour
	// renewWithin is how close to expiry the serving certificate may get
	// before LoadOrCreate re-issues it.
	renewWithin = 30 * 24 * time.Hour
	// backdate tolerates small clock differences between the server and
	// its clients; it is subtracted from NotBefore.
	backdate = 5 * time.Minute
)

// Config says which names the serving certificate must cover.
type Config struct {
	// Dir holds ca.pem, ca-key.pem, server.pem and server-key.pem. It is
	// created with mode 0700 if missing.
	Dir string
	// DNSNames are the host names to cover, e.g. "localhost",
	// "azurecr.localhost", "*.azurecr.localhost". Matching is
	// case-insensitive and a trailing dot is ignored.
	DNSNames []string
	// IPs are the addresses to cover, e.g. 127.0.0.1 and ::1.
	IPs []net.IP
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Bundle is the loaded CA and serving certificate.
type Bundle struct {
	// CAPEM is the CA certificate in PEM form: what clients trust.
	CAPEM []byte
	// CAFile is the path of ca.pem.
	CAFile string
	// Cert is the serving certificate chain (leaf, then CA) with its
	// private key; Cert.Leaf is populated.
	Cert tls.Certificate
}

// LoadOrCreate loads the CA and serving certificate from cfg.Dir, creating or
// re-issuing them as described in the package documentation.
func LoadOrCreate(cfg Config) (*Bundle, error) {
	names, ips, t, err := prepare(cfg)
	if err != nil {
		return nil, err
	}
	ca, caKey, err := loadOrCreateCA(cfg.Dir, t)
	if err != nil {
		return nil, err
	}
	return serve(cfg.Dir, ca, caKey, names, ips, t)
}

// LoadOrIssue is LoadOrCreate with a CA kept elsewhere (servers sharing one
// database keep one there): it writes ca's certificate to cfg.Dir/ca.pem
// (clients and the CLI read it there) and loads the serving certificate in
// cfg.Dir, or issues one under ca, by LoadOrCreate's rules; a certificate
// another CA signed is replaced. The CA's key is not written. An expired CA
// is an error.
func LoadOrIssue(cfg Config, ca *CA) (*Bundle, error) {
	names, ips, t, err := prepare(cfg)
	if err != nil {
		return nil, err
	}
	if t.After(ca.cert.NotAfter) {
		return nil, fmt.Errorf("tlsca: CA expired at %s (clients must trust a new CA once it is replaced)", ca.cert.NotAfter.UTC().Format(time.RFC3339))
	}
	certPath := filepath.Join(cfg.Dir, caFileName)
	certPEM := ca.CertPEM()
	if have, err := os.ReadFile(certPath); err != nil || !bytes.Equal(have, certPEM) {
		if err := atomicfile.WriteFile(certPath, certPEM, 0o644); err != nil {
			return nil, err
		}
	}
	return serve(cfg.Dir, ca.cert, ca.key, names, ips, t)
}

// prepare validates cfg, creates its directory and returns the names and
// addresses to cover and the time.
func prepare(cfg Config) ([]string, []net.IP, time.Time, error) {
	if cfg.Dir == "" {
		return nil, nil, time.Time{}, errors.New("tlsca: Config.Dir is empty")
	}
	now := time.Now
	if cfg.Now != nil {
		now = cfg.Now
	}
	names, err := normalizeDNSNames(cfg.DNSNames)
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	ips, err := normalizeIPs(cfg.IPs)
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	if len(names) == 0 && len(ips) == 0 {
		return nil, nil, time.Time{}, errors.New("tlsca: Config has no DNSNames or IPs for the serving certificate")
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, nil, time.Time{}, fmt.Errorf("tlsca: create %s: %w", cfg.Dir, err)
	}
	return names, ips, now(), nil
}

// serve loads or issues the serving certificate under ca and returns the
// bundle.
func serve(dir string, ca *x509.Certificate, caKey *ecdsa.PrivateKey, names []string, ips []net.IP, t time.Time) (*Bundle, error) {
	leaf, leafKey, err := loadOrIssueServer(dir, ca, caKey, names, ips, t)
	if err != nil {
		return nil, err
	}
	return &Bundle{
		CAPEM:  encodePEM("CERTIFICATE", ca.Raw),
		CAFile: filepath.Join(dir, caFileName),
		Cert: tls.Certificate{
			Certificate: [][]byte{leaf.Raw, ca.Raw},
			PrivateKey:  leafKey,
			Leaf:        leaf,
		},
	}, nil
}

// CA is a certificate authority kept outside a LoadOrCreate directory.
type CA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// GenerateCA makes a new CA as LoadOrCreate does on first use, without
// writing it anywhere, in the form ParseCA reads: the certificate's PEM
// block followed by the private key's (PKCS#8).
func GenerateCA(now time.Time) ([]byte, error) {
	cert, key, err := generateCA(now)
	if err != nil {
		return nil, err
	}
	return caPEM(cert.Raw, key)
}

// ReadCAFiles reads the CA of a LoadOrCreate directory (ca.pem and
// ca-key.pem) in GenerateCA's form, unchecked. Neither file is an error
// satisfying errors.Is(err, fs.ErrNotExist); one without the other is
// another error, naming both.
func ReadCAFiles(dir string) ([]byte, error) {
	certPath := filepath.Join(dir, caFileName)
	keyPath := filepath.Join(dir, caKeyFileName)
	certPEM, certErr := os.ReadFile(certPath)
	keyPEM, keyErr := os.ReadFile(keyPath)
	switch {
	case errors.Is(certErr, fs.ErrNotExist) && errors.Is(keyErr, fs.ErrNotExist):
		return nil, fmt.Errorf("tlsca: %w", certErr)
	case errors.Is(certErr, fs.ErrNotExist) || errors.Is(keyErr, fs.ErrNotExist):
		return nil, fmt.Errorf("tlsca: %s and %s: one is missing", certPath, keyPath)
	case certErr != nil:
		return nil, fmt.Errorf("tlsca: %w", certErr)
	case keyErr != nil:
		return nil, fmt.Errorf("tlsca: %w", keyErr)
	}
	return append(append(bytes.TrimRight(certPEM, "\n"), '\n'), keyPEM...), nil
}

// ParseCA reads a CA in GenerateCA's form with the checks LoadOrCreate
// applies to its files: a CA certificate, then the ECDSA P-256 private key
// that matches it, and nothing else. Expiry is LoadOrIssue's check.
func ParseCA(data []byte) (*CA, error) {
	certBlock, rest := pem.Decode(data)
	if certBlock == nil || certBlock.Type != "CERTIFICATE" {
		return nil, errors.New("tlsca: CA: want a CERTIFICATE PEM block first")
	}
	keyBlock, rest := pem.Decode(rest)
	if keyBlock == nil || keyBlock.Type != "PRIVATE KEY" {
		return nil, errors.New("tlsca: CA: want a PRIVATE KEY PEM block after the certificate")
	}
	if len(strings.TrimSpace(string(rest))) != 0 {
		return nil, errors.New("tlsca: CA: unexpected data after the PEM blocks")
	}
	cert, err := x509.ParseCertificate(certBlock.Bytes)
	if err != nil {
		return nil, fmt.Errorf("tlsca: CA certificate: %w", err)
	}
	if !isCA(cert) {
		return nil, errors.New("tlsca: CA: not a CA certificate")
	}
	key, err := parseKeyPEM(pem.EncodeToMemory(keyBlock))
	if err != nil {
		return nil, fmt.Errorf("tlsca: CA key: %w", err)
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, errors.New("tlsca: CA: the private key does not match the certificate")
	}
	return &CA{cert: cert, key: key}, nil
}

// CertPEM is the CA certificate, PEM-encoded: what clients trust.
func (c *CA) CertPEM() []byte { return encodePEM("CERTIFICATE", c.cert.Raw) }

func isCA(c *x509.Certificate) bool {
	return c.BasicConstraintsValid && c.IsCA && c.KeyUsage&x509.KeyUsageCertSign != 0
}

func caPEM(certDER []byte, key *ecdsa.PrivateKey) ([]byte, error) {
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("tlsca: marshal CA key: %w", err)
	}
	return append(encodePEM("CERTIFICATE", certDER), encodePEM("PRIVATE KEY", keyDER)...), nil
}

// CertPool returns a new pool holding the CA, for clients.
func (b *Bundle) CertPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(b.CAPEM)
	return pool
}

// LoadCAPool reads a PEM file of one or more CA certificates into a pool. It
// fails if the file holds no certificate or a block that is not a valid
// certificate.
func LoadCAPool(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tlsca: %w", err)
	}
	pool := x509.NewCertPool()
	n := 0
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			if len(strings.TrimSpace(string(rest))) != 0 {
				return nil, fmt.Errorf("tlsca: %s: trailing data that is not PEM", path)
			}
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("tlsca: %s: unexpected PEM block %q", path, block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("tlsca: %s: %w", path, err)
		}
		pool.AddCert(c)
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("tlsca: %s: no PEM certificate found", path)
	}
	return pool, nil
}

// loadOrCreateCA returns the CA in dir, creating it if neither file exists.
func loadOrCreateCA(dir string, now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	certPath := filepath.Join(dir, caFileName)
	keyPath := filepath.Join(dir, caKeyFileName)
	certPEM, certErr := os.ReadFile(certPath)
	keyPEM, keyErr := os.ReadFile(keyPath)
	certMissing := errors.Is(certErr, fs.ErrNotExist)
	keyMissing := errors.Is(keyErr, fs.ErrNotExist)
	switch {
	case certMissing && keyMissing:
		return createCA(certPath, keyPath, now)
	case certMissing:
		return nil, nil, fmt.Errorf("tlsca: %s is missing but %s exists; refusing to replace the CA (remove both to create a new one)", certPath, keyPath)
	case keyMissing:
		return nil, nil, fmt.Errorf("tlsca: %s is missing but %s exists; refusing to replace the CA (remove both to create a new one)", keyPath, certPath)
	case certErr != nil:
		return nil, nil, fmt.Errorf("tlsca: %w", certErr)
	case keyErr != nil:
		return nil, nil, fmt.Errorf("tlsca: %w", keyErr)
	}

	ca, err := parseCertPEM(certPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("tlsca: %s: %w", certPath, err)
	}
	if !isCA(ca) {
		return nil, nil, fmt.Errorf("tlsca: %s: not a CA certificate", certPath)
	}
	if now.After(ca.NotAfter) {
		return nil, nil, fmt.Errorf("tlsca: %s: CA expired at %s (remove %s and %s to create a new one; clients must then trust the new CA)",
			certPath, ca.NotAfter.UTC().Format(time.RFC3339), certPath, keyPath)
	}
	key, err := parseKeyPEM(keyPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("tlsca: %s: %w", keyPath, err)
	}
	if !key.PublicKey.Equal(ca.PublicKey) {
		return nil, nil, fmt.Errorf("tlsca: %s: private key does not match %s", keyPath, certPath)
	}
	return ca, key, nil
}

func createCA(certPath, keyPath string, now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	ca, key, err := generateCA(now)
	if err != nil {
		return nil, nil, err
	}
	if err := writeKeyAndCert(keyPath, certPath, key, ca.Raw); err != nil {
		return nil, nil, err
	}
	return ca, key, nil
}

func generateCA(now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("tlsca: generate CA key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: caCommonName},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.AddDate(caYears, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, fmt.Errorf("tlsca: create CA certificate: %w", err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("tlsca: parse new CA certificate: %w", err)
	}
	return ca, key, nil
}

// loadOrIssueServer returns the serving certificate in dir if it is still
// good for names and ips at time now, and otherwise issues a new one.
func loadOrIssueServer(dir string, ca *x509.Certificate, caKey *ecdsa.PrivateKey, names []string, ips []net.IP, now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	certPath := filepath.Join(dir, serverFileName)
	keyPath := filepath.Join(dir, serverKeyFileName)
	if leaf, key, ok := loadServer(certPath, keyPath, ca, names, ips, now); ok {
		return leaf, key, nil
	}
	return issueServer(certPath, keyPath, ca, caKey, names, ips, now)
}

// loadServer reports whether the stored serving certificate can be reused.
// Any problem (missing, corrupt, mismatched, foreign, expiring, too few
// names) just means "issue a new one".
func loadServer(certPath, keyPath string, ca *x509.Certificate, names []string, ips []net.IP, now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, bool) {
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, nil, false
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, nil, false
	}
	leaf, err := parseCertPEM(certPEM)
	if err != nil {
		return nil, nil, false
	}
	key, err := parseKeyPEM(keyPEM)
	if err != nil || !key.PublicKey.Equal(leaf.PublicKey) {
		return nil, nil, false
	}
	// Check the chain by hand rather than with leaf.Verify: Verify would also
	// reject the leaf whenever the CA is not valid at now (for example after
	// the clock was set back), and we would re-issue on every call.
	if !bytes.Equal(leaf.RawIssuer, ca.RawSubject) || leaf.CheckSignatureFrom(ca) != nil {
		return nil, nil, false
	}
	if !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageServerAuth) {
		return nil, nil, false
	}
	if now.Before(leaf.NotBefore) || !now.Add(renewWithin).Before(leaf.NotAfter) {
		return nil, nil, false
	}
	if !covers(leaf, names, ips) {
		return nil, nil, false
	}
	return leaf, key, true
}

func issueServer(certPath, keyPath string, ca *x509.Certificate, caKey *ecdsa.PrivateKey, names []string, ips []net.IP, now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("tlsca: generate server key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, nil, err
	}
	notAfter := now.Add(serverValidity)
	if notAfter.After(ca.NotAfter) {
		notAfter = ca.NotAfter // a leaf must not outlive its issuer
	}
	var cn string // legacy field; clients match on the SANs
	if len(names) > 0 {
		cn = names[0]
	} else {
		cn = ips[0].String()
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             now.Add(-backdate),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              names,
		IPAddresses:           ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		return nil, nil, fmt.Errorf("tlsca: create server certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("tlsca: parse new server certificate: %w", err)
	}
	if err := writeKeyAndCert(keyPath, certPath, key, der); err != nil {
		return nil, nil, err
	}
	return leaf, key, nil
}

// writeKeyAndCert stores a key (0600) and then its certificate (0644). The
// key goes first so that a crash in between leaves an old certificate with a
// new key, which the loader detects as a mismatch.
func writeKeyAndCert(keyPath, certPath string, key *ecdsa.PrivateKey, certDER []byte) error {
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("tlsca: marshal key for %s: %w", keyPath, err)
	}
	if err := atomicfile.WriteFile(keyPath, encodePEM("PRIVATE KEY", keyDER), 0o600); err != nil {
		return err
	}
	return atomicfile.WriteFile(certPath, encodePEM("CERTIFICATE", certDER), 0o644)
}

// covers reports whether leaf's SANs include every name and IP requested.
// Names must match exactly (after normalization): a wildcard in the
// certificate does not count as covering a requested name.
func covers(leaf *x509.Certificate, names []string, ips []net.IP) bool {
	for _, n := range names {
		if !slices.ContainsFunc(leaf.DNSNames, func(have string) bool {
			return strings.EqualFold(strings.TrimSuffix(have, "."), n)
		}) {
			return false
		}
	}
	for _, ip := range ips {
		if !slices.ContainsFunc(leaf.IPAddresses, ip.Equal) {
			return false
		}
	}
	return true
}

// normalizeDNSNames lower-cases, strips a trailing dot, validates and
// de-duplicates names, keeping their order.
func normalizeDNSNames(in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	for _, raw := range in {
		n := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(raw), "."))
		if err := checkDNSName(n); err != nil {
			return nil, fmt.Errorf("tlsca: DNS name %q: %w", raw, err)
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out, nil
}

func checkDNSName(n string) error {
	if n == "" {
		return errors.New("empty")
	}
	if net.ParseIP(n) != nil {
		return errors.New("is an IP address; put it in Config.IPs")
	}
	for i, label := range strings.Split(n, ".") {
		if label == "" {
			return errors.New("empty label")
		}
		if label == "*" && i == 0 && strings.Contains(n, ".") {
			continue
		}
		for _, r := range label {
			ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_'
			if !ok {
				return fmt.Errorf("invalid character %q (a wildcard must be the whole leftmost label)", r)
			}
		}
	}
	return nil
}

// normalizeIPs rejects nil or malformed IPs and drops duplicates, storing
// IPv4 addresses in their 4-byte form.
func normalizeIPs(in []net.IP) ([]net.IP, error) {
	out := make([]net.IP, 0, len(in))
	for _, ip := range in {
		if len(ip) != net.IPv4len && len(ip) != net.IPv6len {
			return nil, fmt.Errorf("tlsca: invalid IP address %v", ip)
		}
		if v4 := ip.To4(); v4 != nil {
			ip = v4
		}
		if !slices.ContainsFunc(out, ip.Equal) {
			out = append(out, slices.Clone(ip))
		}
	}
	return out, nil
}

// parseCertPEM parses exactly one CERTIFICATE block.
func parseCertPEM(data []byte) (*x509.Certificate, error) {
	der, err := singlePEM(data, "CERTIFICATE")
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// parseKeyPEM parses exactly one PKCS#8 "PRIVATE KEY" block holding an ECDSA
// P-256 key.
func parseKeyPEM(data []byte) (*ecdsa.PrivateKey, error) {
	der, err := singlePEM(data, "PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, err
	}
	key, ok := k.(*ecdsa.PrivateKey)
	if !ok || key.Curve != elliptic.P256() {
		return nil, errors.New("not an ECDSA P-256 private key")
	}
	return key, nil
}

func singlePEM(data []byte, typ string) ([]byte, error) {
	block, rest := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM data")
	}
	if block.Type != typ {
		return nil, fmt.Errorf("PEM block is %q, want %q", block.Type, typ)
	}
	if len(strings.TrimSpace(string(rest))) != 0 {
		return nil, errors.New("unexpected data after the PEM block")
	}
	return block.Bytes, nil
}

func encodePEM(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func randomSerial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("tlsca: serial number: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil // never zero
}
