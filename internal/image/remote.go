package image

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/cerulean/cerulean/internal/containergroup"
)

// stage is the step of a pull an error came from; the same status code
// means different things at the token endpoint and on a manifest.
type stage int

const (
	stagePing     stage = iota // GET /v2/: reachability, TLS, challenge
	stageToken                 // the token endpoint named by the challenge
	stageManifest              // manifests (and an index's children)
	stageBlob                  // config and layer blobs
)

// session is an authenticated connection to one repository.
type session struct {
	repo     name.Repository
	rt       http.RoundTripper
	bearer   bool   // the registry uses a token flow
	user     string // "" when anonymous
	password string // only to scrub it from messages, never printed
}

// httpsOnly sends every request over TLS. go-containerregistry falls back
// to plain HTTP for loopback and *.local(host) registries; Cerulean's
// registries always speak TLS, and a fallback would hide a TLS failure
// behind a confusing second error.
type httpsOnly struct{ next http.RoundTripper }

func (h httpsOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" {
		req = req.Clone(req.Context())
		req.URL.Scheme = "https"
	}
	return h.next.RoundTrip(req)
}

// credentialFor returns cred when it is for reg's host (Docker Hub's
// aliases included), and nil otherwise: a credential is never sent to
// another registry.
func credentialFor(reg name.Registry, cred *containergroup.Credential) *containergroup.Credential {
	if cred == nil {
		return nil
	}
	server := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(cred.Server, "https://"), "http://"), "/")
	r, err := name.NewRegistry(server)
	if err != nil || !strings.EqualFold(r.RegistryStr(), reg.RegistryStr()) {
		return nil
	}
	return cred
}

// connect pings the registry, runs its token flow with cred (anonymous if
// nil or for another host) for pull on repo, and returns a session whose
// transport carries the result. Doing the handshake here rather than
// inside remote lets errors say whether the token endpoint refused the
// credentials or the registry refused the token.
func (c *Cache) connect(ctx context.Context, repo name.Repository, cred *containergroup.Credential) (*session, error) {
	s := &session{repo: repo}
	auth := authn.Anonymous
	if cr := credentialFor(repo.Registry, cred); cr != nil {
		s.user, s.password = cr.Username, cr.Password
		auth = authn.FromConfig(authn.AuthConfig{Username: cr.Username, Password: cr.Password})
	}
	base := httpsOnly{c.transport}
	pr, err := transport.Ping(ctx, repo.Registry, base)
	if err != nil {
		return nil, s.fail(stagePing, err)
	}
	tok := &transport.Token{}
	if strings.EqualFold(pr.Scheme, "bearer") {
		s.bearer = true
		tok, err = transport.Exchange(ctx, repo.Registry, auth, base, []string{repo.Scope(transport.PullScope)}, pr)
		if err != nil {
			return nil, s.fail(stageToken, err)
		}
		if tok.Token == "" {
			tok.Token = tok.AccessToken // ACR answers with access_token only
		}
	}
	s.rt, err = transport.FromToken(repo.Registry, auth, base, pr, tok)
	if err != nil {
		return nil, s.fail(stageToken, err)
	}
	return s, nil
}

// headBlob asks the registry whether the session may pull blob d from its
// repository: the registry's token checks are the authority on who may
// reuse a cached layer, and a registry only answers for blobs that
// repository holds.
func (s *session) headBlob(ctx context.Context, d v1.Hash) error {
	u := url.URL{Scheme: "https", Host: s.repo.RegistryStr(), Path: "/v2/" + s.repo.RepositoryStr() + "/blobs/" + d.String()}
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, u.String(), nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Transport: s.rt}).Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return s.fail(stageBlob, err)
	}
	_ = resp.Body.Close()
	if err := transport.CheckError(resp, http.StatusOK); err != nil {
		return s.fail(stageBlob, err)
	}
	if got := resp.Header.Get("Docker-Content-Digest"); got != "" && got != d.String() {
		return &containergroup.ImageError{
			Check:   containergroup.CheckRegistry,
			Message: fmt.Sprintf("the registry '%s' answered for blob %s with %s", s.repo.RegistryStr(), d, shorten(got, 100)),
		}
	}
	return nil
}

func (s *session) options(ctx context.Context, jobs int) []remote.Option {
	return []remote.Option{remote.WithTransport(s.rt), remote.WithContext(ctx), remote.WithJobs(jobs)}
}

// fail turns err into the ImageError that names the failed check.
func (s *session) fail(st stage, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := errors.AsType[*containergroup.ImageError](err); ok || errors.Is(err, context.Canceled) {
		return err
	}
	host := s.repo.RegistryStr()
	mk := func(check containergroup.ImageCheck, format string, args ...any) error {
		msg := fmt.Sprintf(format, args...)
		if s.password != "" {
			msg = strings.ReplaceAll(msg, s.password, "***")
		}
		return &containergroup.ImageError{Check: check, Message: msg, Cause: scrubbed{err, s.password}}
	}
	if dns, ok := errors.AsType[*net.DNSError](err); ok {
		return mk(containergroup.CheckHostUnknown, "the registry host '%s' does not resolve (%s)", host, dns.Err)
	}
	if reason, ok := tlsFailure(err); ok {
		return mk(containergroup.CheckTLS, "the certificate of registry '%s' is not trusted: %s", host, reason)
	}
	if _, ok := errors.AsType[tls.RecordHeaderError](err); ok {
		return mk(containergroup.CheckUnreachable, "'%s' does not answer with TLS", host)
	}
	if te, ok := errors.AsType[*transport.Error](err); ok {
		return s.failStatus(st, te, mk)
	}
	if reason, ok := unreachable(err); ok {
		return mk(containergroup.CheckUnreachable, "the registry '%s' is unreachable: %s", host, reason)
	}
	return mk(containergroup.CheckRegistry, "the registry '%s' failed: %s", host, shorten(err.Error(), 300))
}

func (s *session) failStatus(st stage, te *transport.Error, mk func(containergroup.ImageCheck, string, ...any) error) error {
	host, repo := s.repo.RegistryStr(), s.repo.RepositoryStr()
	status := fmt.Sprintf("%d %s", te.StatusCode, http.StatusText(te.StatusCode))
	has := func(codes ...transport.ErrorCode) bool {
		for _, d := range te.Errors {
			for _, c := range codes {
				if d.Code == c {
					return true
				}
			}
		}
		return false
	}
	switch {
	case te.StatusCode >= 500:
		return mk(containergroup.CheckRegistry, "the registry '%s' failed (%s)", host, status)
	case st == stagePing:
		return mk(containergroup.CheckUnreachable, "'%s' does not answer as an OCI registry (%s on /v2/)", host, status)
	case st == stageToken && (te.StatusCode == http.StatusUnauthorized || te.StatusCode == http.StatusForbidden):
		if s.user == "" {
			return mk(containergroup.CheckUnauthorized, "the registry '%s' requires credentials to pull '%s' (%s)", host, repo, status)
		}
		return mk(containergroup.CheckUnauthorized, "the registry '%s' refused the credentials of user '%s' (%s)", host, s.user, status)
	case st == stageToken:
		return mk(containergroup.CheckRegistry, "the token service of registry '%s' failed (%s)", host, status)
	case te.StatusCode == http.StatusForbidden || has(transport.DeniedErrorCode):
		return mk(containergroup.CheckDenied, "%s may not pull repository '%s' from registry '%s' (%s)", s.who(), repo, host, status)
	case te.StatusCode == http.StatusUnauthorized && s.user == "":
		return mk(containergroup.CheckUnauthorized, "the registry '%s' requires credentials to pull '%s' (%s)", host, repo, status)
	case te.StatusCode == http.StatusUnauthorized && s.bearer:
		// The token endpoint accepted the credentials but granted no
		// pull on this repository (ACR's empty grant).
		return mk(containergroup.CheckDenied, "%s may not pull repository '%s' from registry '%s' (%s with a token)", s.who(), repo, host, status)
	case te.StatusCode == http.StatusUnauthorized:
		return mk(containergroup.CheckUnauthorized, "the registry '%s' refused the credentials of user '%s' (%s)", host, s.user, status)
	case has(transport.NameUnknownErrorCode):
		return mk(containergroup.CheckNotFound, "the repository '%s' is unknown to registry '%s' (%s)", repo, host, status)
	case te.StatusCode == http.StatusNotFound || has(transport.ManifestUnknownErrorCode, transport.BlobUnknownErrorCode):
		if st == stageBlob {
			return mk(containergroup.CheckNotFound, "a blob of the image is missing from repository '%s' of registry '%s' (%s)", repo, host, status)
		}
		return mk(containergroup.CheckNotFound, "the tag or digest is unknown in repository '%s' of registry '%s' (%s)", repo, host, status)
	default:
		return mk(containergroup.CheckRegistry, "the registry '%s' answered %s", host, status)
	}
}

func (s *session) who() string {
	if s.user == "" {
		return "an anonymous user"
	}
	return "user '" + s.user + "'"
}

// tlsFailure reports a certificate the client does not trust.
func tlsFailure(err error) (string, bool) {
	if e, ok := errors.AsType[*tls.CertificateVerificationError](err); ok {
		return e.Err.Error(), true
	}
	if e, ok := errors.AsType[x509.UnknownAuthorityError](err); ok {
		return e.Error(), true
	}
	if e, ok := errors.AsType[x509.HostnameError](err); ok {
		return e.Error(), true
	}
	if e, ok := errors.AsType[x509.CertificateInvalidError](err); ok {
		return e.Error(), true
	}
	return "", false
}

// unreachable reports connection failures: refused, reset, timed out.
func unreachable(err error) (string, bool) {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused", true
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "no route to host", true
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset", true
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out", true
	}
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		return "timed out", true
	}
	if oe, ok := errors.AsType[*net.OpError](err); ok {
		return oe.Err.Error(), true
	}
	return "", false
}

// scrubbed keeps a cause for logs without ever printing the password.
type scrubbed struct {
	err      error
	password string
}

func (s scrubbed) Error() string {
	msg := s.err.Error()
	if s.password != "" {
		msg = strings.ReplaceAll(msg, s.password, "***")
	}
	return msg
}

func (s scrubbed) Unwrap() error { return s.err }
