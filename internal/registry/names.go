package registry

import (
	_ "crypto/sha256" // registers the digest algorithms go-digest computes
	_ "crypto/sha512"
	"regexp"
	"strings"

	"github.com/opencontainers/go-digest"
)

// Name limits.
const (
	minRegistryName = 5
	maxRegistryName = 50
	// maxRepositoryName is the OCI distribution spec's advice (clients
	// limit host plus name to 255 characters), which ACR follows.
	maxRepositoryName = 255
)

var (
	// repositoryPattern is the OCI distribution spec's <name> grammar.
	repositoryPattern = regexp.MustCompile(`^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$`)
	// tagPattern is the OCI distribution spec's <reference> tag grammar.
	tagPattern = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)
)

// ValidRegistryName reports whether name is a registry name ACR accepts:
// 5–50 ASCII letters and digits.
func ValidRegistryName(name string) bool {
	if len(name) < minRegistryName || len(name) > maxRegistryName {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

func invalidRegistryName(name string) error {
	return ErrInvalidName.WithMessage("Registry name '%s' is invalid. Registry names may contain only alpha numeric characters and must be between %d and %d characters.",
		name, minRegistryName, maxRegistryName).WithTarget("name")
}

// ValidateRepository checks an OCI repository name: the spec's grammar
// (lower-case components separated by '/'), at most 255 characters.
func ValidateRepository(repo string) error {
	if len(repo) == 0 || len(repo) > maxRepositoryName || !repositoryPattern.MatchString(repo) {
		return ErrNameInvalid.WithMessage("invalid repository name %q", truncate(repo)).WithTarget(truncate(repo))
	}
	return nil
}

// ValidateTag checks a tag against the OCI grammar.
func ValidateTag(tag string) error {
	if !tagPattern.MatchString(tag) {
		return ErrTagInvalid.WithMessage("invalid tag %q", truncate(tag)).WithTarget(truncate(tag))
	}
	return nil
}

// ParseDigest parses a digest the registry can store: sha256 or sha512.
func ParseDigest(s string) (digest.Digest, error) {
	d, err := digest.Parse(s)
	if err != nil {
		return "", ErrDigestInvalid.WithMessage("invalid digest %q", truncate(s)).WithTarget(truncate(s))
	}
	if a := d.Algorithm(); a != digest.SHA256 && a != digest.SHA512 {
		return "", ErrDigestInvalid.WithMessage("unsupported digest algorithm %q", string(a)).WithTarget(truncate(s))
	}
	return d, nil
}

// IsDigestReference reports whether a manifest reference names a digest
// rather than a tag (tags cannot contain ':').
func IsDigestReference(ref string) bool { return strings.Contains(ref, ":") }

// truncate shortens untrusted input echoed in messages.
func truncate(s string) string {
	const max = 300
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

// loginServer is "<lower-cased name>.<domain>[:port]".
func loginServer(name, domain, port string) string {
	host := strings.ToLower(name) + "." + strings.ToLower(domain)
	if port != "" && port != "443" {
		host += ":" + port
	}
	return host
}

// registryNameFromHost returns the registry label of a login server host
// (any case, optional port) under domain, or "" when host is not one.
func registryNameFromHost(host, domain string) string {
	host = strings.ToLower(host)
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i+1:], "]") {
		host = host[:i]
	}
	host = strings.TrimSuffix(host, ".") // a fully qualified name
	label, ok := strings.CutSuffix(host, "."+strings.ToLower(domain))
	if !ok || !ValidRegistryName(label) {
		return ""
	}
	return label
}
