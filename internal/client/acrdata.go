package client

// The registry data plane of one login server (reference/acr-entra.md §1,
// §4): a client (Registry) for authenticated calls on /v2/… and /acr/v1/…
// with the distribution error envelope decoded back to errdefs. The token
// endpoints are in acrdata_token.go, image copies in acrdata_copy.go.
//
// Login servers are <name>.<registry domain>[:port] and need no DNS: the
// transport (RegistryTransport, acrdata_transport.go) dials
// CERULEAN_ENDPOINT's address for them while TLS still verifies the
// certificate against the login server's name, and it dials nothing else.

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/cerulean/cerulean/api/oci"
	"github.com/cerulean/cerulean/internal/errdefs"
)

// EmptyGUID is the user name that means "the password is an ACR token"
// (az's EMPTY_GUID, docker's identity-token login).
const EmptyGUID = "00000000-0000-0000-0000-000000000000"

// RegistryConfig configures a Registry client.
type RegistryConfig struct {
	// Endpoint is the Cerulean server (CERULEAN_ENDPOINT): the only
	// address dialled.
	Endpoint string
	// CAPool verifies the login server's certificate; nil means the system
	// pool.
	CAPool *x509.CertPool
	// LoginServer is properties.loginServer of the registry: host[:port].
	LoginServer string
	// Transport replaces RegistryTransport (tests).
	Transport http.RoundTripper
	// UserAgent and Logger are as in Config.
	UserAgent string
	Logger    *slog.Logger
}

// Registry calls the data plane of one registry login server. It is safe
// for concurrent use.
type Registry struct {
	c           *Client
	loginServer string
	transport   http.RoundTripper
}

// NewRegistry returns a client for cfg.LoginServer.
func NewRegistry(cfg RegistryConfig) (*Registry, error) {
	tr := cfg.Transport
	if tr == nil {
		t, err := RegistryTransport(cfg.Endpoint, cfg.CAPool, cfg.LoginServer)
		if err != nil {
			return nil, err
		}
		tr = t
	}
	// Redirects are not followed: a registry answer is never a reason to
	// carry credentials somewhere else.
	hc := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	c, err := New(Config{Endpoint: "https://" + cfg.LoginServer, HTTPClient: hc, UserAgent: cfg.UserAgent, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	return &Registry{c: c, loginServer: cfg.LoginServer, transport: tr}, nil
}

// LoginServer is the registry's host[:port].
func (r *Registry) LoginServer() string { return r.loginServer }

// Transport is the round tripper the client dials with, for other
// registry clients (image copies) that must follow the same dialing rule.
func (r *Registry) Transport() http.RoundTripper { return r.transport }

// RegistryCredential is what az passes to every data-plane call: with the
// user EmptyGUID the password is an ACR token sent as Bearer, otherwise the
// pair is sent as Basic (admin user, service principal, scoped token).
type RegistryCredential struct {
	Username string
	Password string
}

// Authorization is the header value for the credential.
func (c RegistryCredential) Authorization() string {
	if c.Username == EmptyGUID {
		return "Bearer " + c.Password
	}
	return basicAuth(c.Username, c.Password)
}

func basicAuth(user, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}

// RegistryResponse is a fully read data-plane response.
type RegistryResponse struct {
	StatusCode int
	Header     http.Header
	Body       []byte
}

// RegistryError is a data-plane error response: the distribution envelope
// {"errors":[{code,message,detail}]} and the headers az reports. It is the
// Cause of the *errdefs.Error the Registry methods return.
type RegistryError struct {
	StatusCode int
	Method     string
	URL        string
	// Code and Message are errors[0]; both are empty for another body.
	Code    string
	Message string
	Errors  []oci.Error
	// CorrelationID is x-ms-correlation-request-id.
	CorrelationID string
	// Challenge is WWW-Authenticate.
	Challenge string
	Body      []byte
}

func (e *RegistryError) Error() string {
	code := e.Code
	if code == "" {
		code = http.StatusText(e.StatusCode)
	}
	return fmt.Sprintf("%s %s: %d %s: %s", e.Method, redactURL(e.URL), e.StatusCode, code, e.Message)
}

// AsRegistryError returns the *RegistryError in err's chain, if any.
func AsRegistryError(err error) (*RegistryError, bool) {
	var re *RegistryError
	ok := errors.As(err, &re)
	return re, ok
}

// decodeRegistryError turns a non-2xx response into an *errdefs.Error
// whose Reason is the OCI (or ACR) error code.
func decodeRegistryError(method, rawURL string, resp *RegistryResponse) *errdefs.Error {
	re := &RegistryError{StatusCode: resp.StatusCode, Method: method, URL: rawURL, Body: resp.Body,
		CorrelationID: resp.Header.Get("x-ms-correlation-request-id"), Challenge: resp.Header.Get("WWW-Authenticate")}
	var env oci.ErrorResponse
	if json.Unmarshal(resp.Body, &env) == nil && len(env.Errors) > 0 {
		re.Errors, re.Code, re.Message = env.Errors, env.Errors[0].Code, env.Errors[0].Message
	}
	msg := re.Message
	if msg == "" {
		msg = fmt.Sprintf("Operation returned an invalid status '%s'", http.StatusText(resp.StatusCode))
	}
	return &errdefs.Error{Kind: KindForStatus(resp.StatusCode, re.Code), Reason: re.Code, Message: msg, Cause: re}
}

// send performs a request on the login server and reads the response (at
// most 64 MiB). Any status is returned as is; only a missing response is
// an error.
func (r *Registry) send(ctx context.Context, rc call) (*RegistryResponse, error) {
	if !r.c.sameOrigin(rc.url) {
		return nil, fmt.Errorf("client: refusing to send a registry request to another host: %s", redactURL(rc.url))
	}
	resp, err := r.c.send(ctx, rc)
	if err != nil {
		return nil, err
	}
	return &RegistryResponse{StatusCode: resp.status, Header: resp.header, Body: resp.body}, nil
}

// url builds https://<login server><path>?<query>; path is used as given
// (repository names keep their slashes, as az sends them).
func (r *Registry) url(path string, q url.Values) string {
	u := "https://" + r.loginServer + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// ---- data-plane calls ---------------------------------------------------------------

// Do sends an authenticated data-plane request: method on path (with the
// query) and, for PATCH/PUT, in as JSON. Any response is returned; a
// non-2xx one is also returned as an *errdefs.Error with a *RegistryError
// cause.
func (r *Registry) Do(ctx context.Context, method, path string, q url.Values, cred RegistryCredential, in any) (*RegistryResponse, error) {
	rc := call{method: method, url: r.url(path, q), header: http.Header{"Authorization": {cred.Authorization()}}}
	if err := rc.setJSON(in); err != nil {
		return nil, err
	}
	resp, err := r.send(ctx, rc)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp, decodeRegistryError(method, rc.url, resp)
	}
	return resp, nil
}

// NextParams is az's pagination rule: the query of the Link header's
// `<path?query>` becomes the parameters of the next request to the same
// path. ok is false when there is no next page.
func NextParams(link string) (url.Values, bool) {
	start, end := strings.IndexByte(link, '<'), strings.IndexByte(link, '>')
	if start < 0 || end <= start {
		return nil, false
	}
	_, rawQuery, found := strings.Cut(link[start+1:end], "?")
	if !found {
		return nil, false
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, false
	}
	return q, true
}
