// Package login serves Cerulean's Microsoft Entra ID endpoints in Entra's
// own wire shapes: the OAuth2 token endpoints (v2 and v1, client
// credentials grant), OpenID Connect discovery, the signing keys (JWKS) and
// MSAL's instance discovery.
//
// Every URL a discovery document names is built from the Host the client
// used, so MSAL's check that the issuer matches the authority passes for
// whatever name the client reaches the server by.
package login

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/server"
	"github.com/cerulean/cerulean/internal/token"
)

// Config configures the login surface.
type Config struct {
	Logger   *slog.Logger
	Identity *identity.Service
	Signer   *token.Signer
	// Hosts lists more host[:port] names clients may use to reach this
	// server. Instance discovery answers for an authorization endpoint on
	// one of them or on the Host of the discovery request itself.
	Hosts []string
}

type handler struct {
	logger   *slog.Logger
	identity *identity.Service
	signer   *token.Signer
	hosts    []string
}

// New returns the login surface. It expects full request paths; the
// composition root routes everything that is not ARM, Graph or a health
// check here.
func New(cfg Config) http.Handler {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := &handler{logger: logger, identity: cfg.Identity, signer: cfg.Signer}
	for _, host := range cfg.Hosts {
		h.hosts = append(h.hosts, strings.ToLower(host))
	}
	tokenErr := errorWriter(tokenEndpoint)
	discoveryErr := errorWriter(discoveryEndpoint)
	adapt := func(fn server.Func, writeErr server.ErrorWriter) http.Handler {
		return server.Adapt(logger, writeErr, fn)
	}

	mux := http.NewServeMux()
	// Patterns carry no method: a wrong method gets Entra's OAuth2 error
	// body (AADSTS900561) rather than ServeMux's plain-text 405.
	mux.Handle("/{tenant}/oauth2/v2.0/token", adapt(h.token(v2), tokenErr))
	mux.Handle("/{tenant}/oauth2/token", adapt(h.token(v1), tokenErr))
	mux.Handle("/{tenant}/v2.0/.well-known/openid-configuration", adapt(h.openIDConfiguration(v2), discoveryErr))
	mux.Handle("/{tenant}/.well-known/openid-configuration", adapt(h.openIDConfiguration(v1), discoveryErr))
	mux.Handle("/{tenant}/discovery/v2.0/keys", adapt(h.keys, discoveryErr))
	mux.Handle("/{tenant}/discovery/keys", adapt(h.keys, discoveryErr))
	mux.Handle("/common/discovery/instance", adapt(h.instanceDiscovery, discoveryErr))
	mux.Handle("/", adapt(notFound, discoveryErr))
	return mux
}

// version is the Entra endpoint generation: v2.0 (scope) or v1 (resource).
type version int

const (
	v1 version = iota + 1
	v2
)

func notFound(_ http.ResponseWriter, r *http.Request) error {
	return errEndpointNotFound.WithMessage("The requested endpoint '%s' does not exist.", truncate(r.URL.Path))
}

// allowMethods returns an AADSTS900561 error unless the request uses one of
// the methods.
func allowMethods(w http.ResponseWriter, r *http.Request, methods ...string) error {
	for _, m := range methods {
		if r.Method == m {
			return nil
		}
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	return errMethodNotAllowed.WithMessage("The endpoint only accepts %s requests. Received a %s request.",
		strings.Join(methods, ", "), truncate(r.Method))
}

// maxEcho bounds how much of a client-supplied value an error message
// repeats.
const maxEcho = 200

func truncate(s string) string {
	if len(s) <= maxEcho {
		return s
	}
	return strings.ToValidUTF8(s[:maxEcho], "") + "…"
}
