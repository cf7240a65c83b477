// Package client is a typed HTTPS client for Cerulean's endpoints: the Entra
// ID token service, Azure Resource Manager and the Microsoft Graph slice. It
// speaks Azure's wire shapes (package api/...) and decodes every non-2xx
// response body back into an *errdefs.Error whose Cause is a *ResponseError
// carrying the wire code, so that callers can print it the way az does.
package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Resource identifiers (token audiences) of the services the client calls,
// spelled the way the Azure CLI asks for them.
const (
	// ResourceARM is the Azure Resource Manager resource (az's
	// active_directory_resource_id).
	ResourceARM = "https://management.core.windows.net/"
	// ResourceGraph is the Microsoft Graph resource.
	ResourceGraph = "https://graph.microsoft.com"
)

// API versions sent with every ARM request.
const (
	APIVersionResourceGroups  = "2021-04-01"
	APIVersionResources       = "2021-04-01"
	APIVersionRoleAssignments = "2022-04-01"
	APIVersionRoleDefinitions = "2022-04-01"
	APIVersionSubscriptions   = "2022-12-01"
)

// Config configures a Client.
type Config struct {
	// Endpoint is the server's base URL; it must be https.
	Endpoint string
	// CAPool is the set of CAs the client trusts. Nil means the system pool.
	// It is ignored when HTTPClient is set.
	CAPool *x509.CertPool
	// HTTPClient replaces the client built from CAPool.
	HTTPClient *http.Client
	// UserAgent is sent with every request.
	UserAgent string
	// Logger receives one Debug record per request and response line, with
	// tokens and secrets redacted. Nil disables logging.
	Logger *slog.Logger
	// PollInterval is the delay between polls of a long-running operation
	// when the server sends no Retry-After. Zero means one second.
	PollInterval time.Duration
}

// Client calls Cerulean's endpoints. It is safe for concurrent use.
type Client struct {
	base         *url.URL
	hc           *http.Client
	userAgent    string
	log          *slog.Logger
	pollInterval time.Duration
}

// New returns a client for cfg.Endpoint.
func New(cfg Config) (*Client, error) {
	if cfg.Endpoint == "" {
		return nil, errors.New("client: no endpoint")
	}
	u, err := url.Parse(strings.TrimRight(cfg.Endpoint, "/"))
	if err != nil {
		return nil, fmt.Errorf("client: endpoint %q: %w", cfg.Endpoint, err)
	}
	if u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("client: endpoint %q must be an https URL", cfg.Endpoint)
	}
	u.RawQuery, u.Fragment = "", ""
	hc := cfg.HTTPClient
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.Proxy = nil
		tr.TLSClientConfig = &tls.Config{RootCAs: cfg.CAPool, MinVersion: tls.VersionTLS12}
		hc = &http.Client{Transport: tr}
	}
	ua := cfg.UserAgent
	if ua == "" {
		ua = "cerulean-client"
	}
	poll := cfg.PollInterval
	if poll <= 0 {
		poll = time.Second
	}
	return &Client{base: u, hc: hc, userAgent: ua, log: cfg.Logger, pollInterval: poll}, nil
}

// Endpoint returns the base URL the client talks to.
func (c *Client) Endpoint() string { return c.base.String() }

// urlFor joins path (already escaped) to the base URL and adds the query.
func (c *Client) urlFor(path string, query string) string {
	s := c.base.String() + path
	if query != "" {
		s += "?" + query
	}
	return s
}

// escapePath percent-encodes each segment of a slash-separated path,
// keeping the slashes.
func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// queryEscape percent-encodes a query value the way Python's
// urllib.parse.quote(value, safe=”) does (space is %20, not +).
func queryEscape(v string) string {
	return strings.ReplaceAll(url.QueryEscape(v), "+", "%20")
}

// query builds a query string with literal keys (such as $filter) and
// escaped values, in the given order; empty values are skipped.
func query(kv ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(kv[i])
		b.WriteByte('=')
		b.WriteString(queryEscape(kv[i+1]))
	}
	return b.String()
}

// sameOrigin reports whether u points at the client's server; tokens are
// never sent anywhere else (for instance to a nextLink on another host).
func (c *Client) sameOrigin(u string) bool {
	p, err := url.Parse(u)
	return err == nil && strings.EqualFold(p.Scheme, c.base.Scheme) && strings.EqualFold(p.Host, c.base.Host)
}

// resolve turns a link from a response into an absolute URL on the server.
func (c *Client) resolve(link string) (string, error) {
	u, err := c.base.Parse(link)
	if err != nil {
		return "", fmt.Errorf("client: bad link %q: %w", link, err)
	}
	s := u.String()
	if !c.sameOrigin(s) {
		return "", fmt.Errorf("client: refusing to follow link to another host: %s", s)
	}
	return s, nil
}

// TransportError is a request that got no HTTP response: the connection or
// the TLS handshake failed.
type TransportError struct {
	Method string
	URL    string
	Err    error
}

func (e *TransportError) Error() string { return e.Method + " " + e.URL + ": " + e.Err.Error() }

// Unwrap returns the underlying network or TLS error.
func (e *TransportError) Unwrap() error { return e.Err }

// response is a fully read HTTP response.
type response struct {
	status int
	header http.Header
	body   []byte
}

// call describes one request.
type call struct {
	// surface names the error envelope do decodes.
	surface Surface
	method  string
	url     string
	header  http.Header
	body    []byte
	// ok lists the success statuses; empty means any 2xx.
	ok []int
}

// do sends a request (asking for JSON unless it says otherwise) and
// decodes any status r does not accept into an error.
func (c *Client) do(ctx context.Context, r call) (*response, error) {
	if r.header.Get("Accept") == "" {
		if r.header == nil {
			r.header = http.Header{}
		}
		r.header.Set("Accept", "application/json")
	}
	out, err := c.send(ctx, r)
	if err != nil {
		return nil, err
	}
	if !statusOK(out.status, r.ok) {
		return out, DecodeError(r.surface, r.method, r.url, out.status, out.header, out.body)
	}
	return out, nil
}

// send performs a request and reads the response (at most 64 MiB). Any
// status is returned as is; only a missing response is an error.
func (c *Client) send(ctx context.Context, r call) (*response, error) {
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, r.url, body)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	for k, vs := range r.header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("User-Agent", c.userAgent)
	c.logRequest(ctx, req, r.body)
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, &TransportError{Method: r.method, URL: redactURL(r.url), Err: err}
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("client: %s %s: reading response: %w", r.method, redactURL(r.url), err)
	}
	out := &response{status: resp.StatusCode, header: resp.Header, body: data}
	c.logResponse(ctx, out, time.Since(start))
	return out, nil
}

func statusOK(status int, ok []int) bool {
	if len(ok) == 0 {
		return status >= 200 && status < 300
	}
	for _, s := range ok {
		if s == status {
			return true
		}
	}
	return false
}

// authed sends a request with a bearer token for resource.
func (c *Client) authed(ctx context.Context, ts TokenSource, resource string, r call, in any) (*response, error) {
	if !c.sameOrigin(r.url) {
		return nil, fmt.Errorf("client: refusing to send a token to another host: %s", redactURL(r.url))
	}
	tok, err := ts.Token(ctx, resource)
	if err != nil {
		return nil, err
	}
	if r.header == nil {
		r.header = http.Header{}
	}
	r.header.Set("Authorization", "Bearer "+tok.AccessToken)
	if err := r.setJSON(in); err != nil {
		return nil, err
	}
	return c.do(ctx, r)
}

// setJSON makes in, unless it is nil, the request's JSON body; r.header
// must not be nil.
func (r *call) setJSON(in any) error {
	if in == nil {
		return nil
	}
	data, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("client: encoding request body: %w", err)
	}
	r.body = data
	r.header.Set("Content-Type", "application/json")
	return nil
}

// decodeJSON decodes a response body into out (if out is not nil).
func decodeJSON(resp *response, out any) error {
	if out == nil || len(bytes.TrimSpace(resp.body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(resp.body, out); err != nil {
		return fmt.Errorf("client: decoding response (status %d): %w", resp.status, err)
	}
	return nil
}

// ---- debug logging --------------------------------------------------------

var (
	secretJSON = regexp.MustCompile(`"(secretText|access_token|accessToken|refresh_token|identitytoken|client_secret|clientSecret|password|passwordValue|secureValue|value)"(\s*:\s*)"(?:[^"\\]|\\.)*"`)
	secretForm = regexp.MustCompile(`((?:^|&)(?:client_secret|client_assertion|password|refresh_token|access_token)=)[^&]*`)
	secretQS   = regexp.MustCompile(`((?:\?|&)(?:sig|code|client_secret)=)[^&]*`)
)

// Redact removes secrets from a request or response body: JSON string
// values of secret-bearing keys and form fields such as client_secret.
func Redact(body string) string {
	body = secretJSON.ReplaceAllString(body, `"$1"$2"REDACTED"`)
	return secretForm.ReplaceAllString(body, `${1}REDACTED`)
}

func redactURL(u string) string { return secretQS.ReplaceAllString(u, `${1}REDACTED`) }

func (c *Client) debug(ctx context.Context, format string, args ...any) {
	if c.log == nil || !c.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	c.log.DebugContext(ctx, "az request", "detail", fmt.Sprintf(format, args...))
}

func (c *Client) logRequest(ctx context.Context, req *http.Request, body []byte) {
	if c.log == nil || !c.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	c.debug(ctx, "Request URL: '%s'", redactURL(req.URL.String()))
	c.debug(ctx, "Request method: '%s'", req.Method)
	c.debug(ctx, "Request headers:")
	for _, k := range sortedKeys(req.Header) {
		v := req.Header.Get(k)
		if strings.EqualFold(k, "Authorization") {
			v = "*****"
		}
		c.debug(ctx, "    '%s': '%s'", k, v)
	}
	if len(body) == 0 {
		c.debug(ctx, "Request body:")
		c.debug(ctx, "This request has no body")
		return
	}
	c.debug(ctx, "Request body:")
	c.debug(ctx, "%s", Redact(string(body)))
}

func (c *Client) logResponse(ctx context.Context, resp *response, took time.Duration) {
	if c.log == nil || !c.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	c.debug(ctx, "Response status: %d", resp.status)
	c.debug(ctx, "Response headers:")
	for _, k := range sortedKeys(resp.header) {
		c.debug(ctx, "    '%s': '%s'", k, resp.header.Get(k))
	}
	c.debug(ctx, "Response content:")
	c.debug(ctx, "%s", Redact(strings.TrimSpace(string(resp.body))))
	c.debug(ctx, "Request took %.3f seconds", took.Seconds())
}

func sortedKeys(h http.Header) []string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
