package acrtoken

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/rbac"
	"github.com/cerulean/cerulean/internal/registry"
	"github.com/cerulean/cerulean/internal/server"
	"github.com/cerulean/cerulean/internal/token"
)

// Registries is what the token service needs of the registry service
// (*registry.Service satisfies it).
type Registries interface {
	// ByLoginServer finds the registry a request's Host names (any case,
	// optional :port).
	ByLoginServer(ctx context.Context, host string) (registry.Registry, error)
	// CheckAdmin reports whether username/password are the registry's
	// admin user (admin enabled, constant-time compare).
	CheckAdmin(ctx context.Context, r registry.Registry, username, password string) bool
}

// Config configures the token service.
type Config struct {
	Logger *slog.Logger
	// Identity authenticates service principals (appId:secret), verifies
	// Entra tokens of ARM or ACR audience, and looks principals up again
	// whenever an ACR token is turned into access.
	Identity *identity.Service
	// RBAC answers which registry actions a principal holds now.
	RBAC       *rbac.Service
	Registries Registries
	// Signer signs ACR tokens (RS256) and verifies them.
	Signer *token.Signer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Server is ACR's token service for every registry host.
//
// It mints two kinds of RS256 JWT with the server's signing key (claims in
// claims.go): refresh tokens (3 hours), only from /oauth2/exchange, for an
// Entra principal; and access tokens (75 minutes), from /oauth2/token,
// carrying the granted scopes. Whenever a credential or a refresh token
// is turned into access — a token request, or Basic credentials on a
// data-plane request — the principal is looked up again (it exists, is
// enabled, still holds the secret it signed in with) and RBAC is asked
// now (grant.go), so revocations apply to the next request. Only bearer
// access tokens are trusted as they stand, until they expire.
//
// Failures are OCI error bodies (errors.go): 401 UNAUTHORIZED for any
// credential problem, 400 UNSUPPORTED for malformed requests.
type Server struct {
	logger     *slog.Logger
	identity   *identity.Service
	rbac       *rbac.Service
	registries Registries
	signer     *token.Signer
	now        func() time.Time
	verified   verifiedTokens

	token    http.Handler
	exchange http.Handler
	notFound http.Handler
}

// Token lifetimes. ACR's documented sample access token lives 75 minutes;
// "the token used by az acr login is valid for 3 hours" (the refresh
// token).
const (
	AccessTokenLifetime  = 75 * time.Minute
	RefreshTokenLifetime = 3 * time.Hour
)

// New returns the token service.
func New(cfg Config) *Server {
	s := &Server{
		logger: cfg.Logger, identity: cfg.Identity, rbac: cfg.RBAC, registries: cfg.Registries,
		signer: cfg.Signer, now: cfg.Now,
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.token = server.Adapt(s.logger, s.writeError, s.serveToken)
	s.exchange = server.Adapt(s.logger, s.writeError, s.serveExchange)
	s.notFound = server.Adapt(s.logger, s.writeError, func(http.ResponseWriter, *http.Request) error {
		return errNotFound
	})
	return s
}

// ServeHTTP serves /oauth2/token (GET with Basic credentials or none;
// POST with a form: grant_type=refresh_token, grant_type=password, and
// the anonymous form) and /oauth2/exchange (POST only; any other method
// is 404, as ACR answers) for the registry named by the request's Host.
// Query parameters other than the documented ones (api-version, account,
// client_id, …) are ignored.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/oauth2/token":
		s.token.ServeHTTP(w, r)
	case "/oauth2/exchange":
		if r.Method != http.MethodPost {
			s.notFound.ServeHTTP(w, r)
			return
		}
		s.exchange.ServeHTTP(w, r)
	default:
		s.notFound.ServeHTTP(w, r)
	}
}

// lookupRegistry resolves the request's Host to a registry.
func (s *Server) lookupRegistry(r *http.Request) (registry.Registry, error) {
	reg, err := s.registries.ByLoginServer(r.Context(), r.Host)
	if err != nil {
		if errdefs.IsKind(err, errdefs.NotFound) {
			return registry.Registry{}, errRegistryUnknown.WithMessage("registry '%s' not found", truncate(r.Host))
		}
		return registry.Registry{}, err
	}
	return reg, nil
}
