package cli

// The registry credentials every data-plane command starts with
// (acr/_docker_utils.py _get_credentials): resolve the registry through
// ARM (or, when the caller cannot see it there, guess its login server as
// az does), check the login server answers, then — in az's order — a user
// name and password, an AAD token (the ARM token exchanged at
// /oauth2/exchange for an ACR refresh token, then /oauth2/token for an
// access token of the command's scope), the admin user, a prompt.

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cerulean/cerulean/api/arm"
	"github.com/cerulean/cerulean/internal/client"
	"github.com/cerulean/cerulean/internal/tlsca"
)

// Logger names of the acr data-plane modules (shown with --debug).
const (
	logACRDocker     = "cli.azure.cli.command_modules.acr._docker_utils"
	logACRRepository = "cli.azure.cli.command_modules.acr.repository"
	logACRImport     = "cli.azure.cli.command_modules.acr.import"
)

// az's messages (_docker_utils.py).
const (
	aadTokenBaseError  = "Unable to get AAD authorization tokens with message"
	adminUserBaseError = "Unable to get admin user credentials with message"
)

// ---- the registry and its data-plane client -------------------------------------------

// acrData is what a data-plane command shares: the ARM session, the CA
// pool the registry's certificate is checked with, and per login server
// the ACR refresh token (exchanged once per command, as az does).
type acrData struct {
	i       *inv
	s       *session
	pool    *x509.CertPool
	refresh map[string]string
}

func (i *inv) acrData() (*acrData, error) {
	// az checks the pair before anything else.
	if i.args.str("password") != "" && i.args.str("username") == "" {
		return nil, errorf("Please also specify username if password is specified.")
	}
	if i.args.has("_deprecated_resource_group") {
		i.app.log.warnf(logKnack, "Argument '--resource-group' has been deprecated and will be removed in a future release.")
	}
	s, err := i.armSession()
	if err != nil {
		return nil, err
	}
	return i.acrDataFor(s)
}

// acrDataFor is acrData for an open session, without the argument checks.
func (i *inv) acrDataFor(s *session) (*acrData, error) {
	pool, err := i.app.caPool()
	if err != nil {
		return nil, err
	}
	return &acrData{i: i, s: s, pool: pool, refresh: map[string]string{}}, nil
}

// caPool is the Cerulean CA the CLI trusts (newClient's rule).
func (a *app) caPool() (*x509.CertPool, error) {
	if a.settings.caFile == "" {
		return nil, errorf("Cannot find the Cerulean CA certificate: set CERULEAN_CA_FILE, CERULEAN_DATA_DIR or HOME.")
	}
	p, err := tlsca.LoadCAPool(a.settings.caFile)
	if err != nil {
		return nil, &cliError{msg: fmt.Sprintf("Cannot load the Cerulean CA certificate: %v", err),
			recommendations: []string{"Start the server with 'cerulean serve' or set CERULEAN_CA_FILE to its CA certificate (tls/ca.pem in its data dir)."}}
	}
	return p, nil
}

// registryLogger routes the data-plane client's request log to --debug.
func (a *app) registryLogger() *slog.Logger {
	if a.log.level < levelDebug {
		return nil
	}
	return slog.New(slogHandler{l: a.log, name: logACRDocker})
}

// acrRegistry is a registry resolved through ARM, with its data-plane
// client. arm is nil when ARM did not show the registry and az's login
// server rule stood in (notFound says why).
type acrRegistry struct {
	name     string // as the user spelled it
	group    string
	server   string
	arm      *arm.Registry
	notFound string
	data     *client.Registry
}

func (r *acrRegistry) loginServer() string { return r.server }

// registry resolves the command's --name (get_registry_by_name).
func (d *acrData) registry() (*acrRegistry, error) {
	name, err := d.i.registryName()
	if err != nil {
		return nil, err
	}
	return d.registryNamed(name)
}

// registryNamed finds a registry through ARM. When the caller cannot see
// it there (an AcrPull principal has no read access to the resource), az
// builds the login server from the cloud's registry suffix instead
// (registrySuffix).
func (d *acrData) registryNamed(name string) (*acrRegistry, error) {
	group, err := d.i.registryGroup(d.s, name)
	// registryGroup's "not found" is az's ResourceNotFound text, the one
	// error az falls back on.
	var ce *cliError
	if errors.As(err, &ce) && strings.HasPrefix(ce.msg, "The resource with name '") {
		d.i.app.log.debugf(logACRDocker, "Could not get registry from service. Exception: %s", ce.msg)
		server := strings.ToLower(name)
		if suffix := d.i.args.str("tenant_suffix"); suffix != "" {
			server += "-" + strings.ToLower(suffix)
		}
		r, err := d.open(name, "", server+d.i.app.registrySuffix(d.i.ctx), nil)
		if err != nil {
			return nil, err
		}
		r.notFound = ce.msg
		return r, nil
	}
	if err != nil {
		return nil, err
	}
	r, err := d.s.arm().GetRegistry(d.i.ctx, d.s.subscriptionID(), group, name)
	if err != nil {
		return nil, err
	}
	return d.open(name, group, r.Properties.LoginServer, &r)
}

// registrySuffix is the login server suffix of Cerulean's registries
// (az's cloud.suffixes.acr_login_server_endpoint): "." and registryDomain,
// with CERULEAN_ENDPOINT's port.
func (a *app) registrySuffix(ctx context.Context) string {
	suffix := "." + a.registryDomain(ctx)
	if u, err := url.Parse(a.settings.endpoint); err == nil && u.Port() != "" && u.Port() != "443" {
		suffix += ":" + u.Port()
	}
	return suffix
}

// defaultRegistryDomain is the server's default --registry-domain.
const defaultRegistryDomain = "azurecr.localhost"

// registryDomain is the parent domain of the server's registry login
// servers: CERULEAN_REGISTRY_DOMAIN when set, otherwise what the server's
// cloud metadata says (suffixes.acrLoginServer: azurecr.io when it
// answers as Azure, as az knows it from its cloud), otherwise the server's
// default. The server is asked once per run.
func (a *app) registryDomain(ctx context.Context) string {
	if d := a.env("CERULEAN_REGISTRY_DOMAIN"); d != "" {
		return strings.ToLower(d)
	}
	if a.cloudRegistryDomain != "" {
		return a.cloudRegistryDomain
	}
	domain := defaultRegistryDomain
	c, err := a.newClient()
	if err == nil {
		var md arm.CloudMetadata
		md, err = c.CloudMetadata(ctx)
		if s := strings.TrimPrefix(md.Suffixes["acrLoginServer"], "."); err == nil && s != "" {
			domain = strings.ToLower(s)
		}
	}
	if err != nil {
		a.log.debugf(logACRDocker, "Cannot read the server's cloud metadata, assuming registry domain %s: %v", domain, err)
	}
	a.cloudRegistryDomain = domain
	return domain
}

// open builds the data-plane client of a login server.
func (d *acrData) open(name, group, loginServer string, r *arm.Registry) (*acrRegistry, error) {
	if loginServer == "" {
		return nil, errorf("The registry '%s' has no login server.", name)
	}
	data, err := client.NewRegistry(client.RegistryConfig{
		Endpoint: d.i.app.settings.endpoint, CAPool: d.pool, LoginServer: loginServer,
		UserAgent: "AZURECLI/" + Version + " (Cerulean)", Logger: d.i.app.registryLogger(),
	})
	if err != nil {
		return nil, err
	}
	return &acrRegistry{name: name, group: group, server: loginServer, arm: r, data: data}, nil
}

// ---- credentials (_get_credentials) ---------------------------------------------------------

// credRequest says what a command needs: login wants the refresh token
// (or the user's pair as given); other commands an access token for
// repository:<repository>:<permission>, or registry:catalog:* without a
// repository.
type credRequest struct {
	login      bool
	repository string
	permission string
}

func (c credRequest) scope() string {
	if c.repository != "" {
		return "repository:" + c.repository + ":" + c.permission
	}
	// "catalog only has * as permission, even for a read operation"
	return "registry:catalog:*"
}

// credentials is _get_credentials: the pair the command sends.
func (d *acrData) credentials(r *acrRegistry, username, password string, req credRequest) (client.RegistryCredential, error) {
	i, ls := d.i, r.loginServer()
	if suffix := i.args.str("tenant_suffix"); suffix != "" && r.arm != nil {
		i.app.log.warnf(logACRDocker, "Obtained registry login server '%s' from service. The specified suffix '%s' is ignored.", ls, suffix)
	}
	challenge, err := r.data.Ping(i.ctx)
	hint := connectRecommendation
	if err == nil && r.arm == nil && challenge.StatusCode == http.StatusNotFound {
		// ARM does not show the registry and the server, reached, says no
		// registry has the guessed login server (404 NAME_UNKNOWN). In
		// Azure that name would not resolve, and az says it cannot
		// connect: so does this az, with a hint that fits (az's points at
		// az acr check-health, which Cerulean does not have).
		err = fmt.Errorf("registry login server '%s' answered 404: no registry has it", ls)
		hint = fmt.Sprintf("The Cerulean server has no registry named '%s'. To list the registries you can see, run 'az acr list'.", r.name)
	}
	if err != nil {
		i.app.log.debugf(logACRDocker, "Could not connect to registry login server. Exception: %v", err)
		if r.notFound != "" {
			i.app.log.warnf(logACRDocker, "%s\nUsing '%s' as the default registry login server.", r.notFound, ls)
		}
		return client.RegistryCredential{}, &cliError{
			msg:             fmt.Sprintf("Could not connect to the registry login server '%s'. Please verify that the registry exists and the URL 'https://%s/v2/' is reachable from your environment.", ls, ls),
			recommendations: []string{hint}}
	}
	if challenge.StatusCode == http.StatusForbidden {
		return client.RegistryCredential{}, errorf("Looks like you don't have access to registry '%s'. To see configured firewall rules, run 'az acr show --query networkRuleSet --name %s'. To see if public network access is enabled, run 'az acr show --query publicNetworkAccess'.Please refer to https://aka.ms/acr/errors#connectivity_forbidden_error for more information.", ls, r.name)
	}
	// 1. A user name (and a password, asked for when missing).
	if username != "" {
		if password == "" {
			if password, err = d.promptPassword("Please specify both username and password in non-interactive mode."); err != nil {
				return client.RegistryCredential{}, err
			}
		}
		return d.withUsernamePassword(r, challenge, username, password, req)
	}
	// 2. AAD: every SKU Cerulean has is a managed one.
	i.app.log.infof(logACRDocker, "Attempting to retrieve AAD refresh token...")
	token, err := d.aadToken(r, challenge, req)
	if err == nil {
		return client.RegistryCredential{Username: client.EmptyGUID, Password: token}, nil
	}
	var ce *cliError
	if !errors.As(err, &ce) {
		return client.RegistryCredential{}, err
	}
	i.app.log.warnf(logACRDocker, "%s: %s", aadTokenBaseError, ce.msg)
	// 3. The admin user.
	switch {
	case r.arm == nil:
		i.app.log.warnf(logACRDocker, "%s: %s", adminUserBaseError, r.notFound)
	case r.arm.Properties.AdminUserEnabled:
		i.app.log.infof(logACRDocker, "Attempting with admin credentials...")
		c, err := d.s.arm().ListRegistryCredentials(i.ctx, d.s.subscriptionID(), r.group, r.arm.Name)
		if err == nil && len(c.Passwords) > 0 {
			return client.RegistryCredential{Username: c.Username, Password: c.Passwords[0].Value}, nil
		}
		if err == nil {
			err = errors.New("no password")
		}
		msg, _, _ := describeError(err)
		i.app.log.warnf(logACRDocker, "%s: %s", adminUserBaseError, msg)
	default:
		i.app.log.warnf(logACRDocker, "%s: %s", adminUserBaseError, "Admin user is disabled.")
	}
	// 4. Ask.
	const noTTY = "Unable to authenticate using AAD or admin login credentials. Please specify both username and password in non-interactive mode."
	if !i.app.stdinIsTTY() {
		return client.RegistryCredential{}, errorf("%s", noTTY)
	}
	if username, err = i.app.promptLine("Username: "); err != nil {
		return client.RegistryCredential{}, err
	}
	if password, err = d.promptPassword(noTTY); err != nil {
		return client.RegistryCredential{}, err
	}
	return d.withUsernamePassword(r, challenge, username, password, req)
}

// promptPassword is knack's prompt_pass; without a terminal it fails with
// noTTY. (The answer is echoed: the CLI has no terminal control.)
func (d *acrData) promptPassword(noTTY string) (string, error) {
	if !d.i.app.stdinIsTTY() {
		return "", errorf("%s", noTTY)
	}
	return d.i.app.promptLine("Password: ")
}

// withUsernamePassword is _get_token_with_username_and_password: login
// keeps the pair; a Basic challenge means the pair is used as is;
// otherwise it is traded for an access token (grant_type=password).
func (d *acrData) withUsernamePassword(r *acrRegistry, ch client.Challenge, username, password string, req credRequest) (client.RegistryCredential, error) {
	pair := client.RegistryCredential{Username: username, Password: password}
	if req.login {
		return pair, nil
	}
	if ch.StatusCode != http.StatusUnauthorized || ch.Header == "" {
		return pair, d.errorClass("CONNECTIVITY_CHALLENGE_ERROR", fmt.Sprintf("Registry '%s' did not issue a challenge.", r.loginServer()))
	}
	if ch.Scheme == "basic" {
		return pair, nil
	}
	if ch.Scheme != "bearer" || ch.Realm() == "" || ch.Service() == "" {
		return pair, d.errorClass("CONNECTIVITY_WWW_AUTHENTICATE_ERROR", fmt.Sprintf("Registry '%s' did not ask properly for a basic or a bearer authentication.", r.loginServer()))
	}
	token, err := r.data.PasswordGrant(d.i.ctx, ch.Realm(), ch.Service(), req.scope(), username, password)
	if err != nil {
		return pair, d.tokenError("CONNECTIVITY_ACCESS_TOKEN_ERROR", r, err)
	}
	return client.RegistryCredential{Username: client.EmptyGUID, Password: token}, nil
}

// aadToken is _get_aad_token: the ACR refresh token for login, otherwise
// an access token for the request's scope.
func (d *acrData) aadToken(r *acrRegistry, ch client.Challenge, req credRequest) (string, error) {
	ls := r.loginServer()
	if ch.StatusCode != http.StatusUnauthorized || ch.Header == "" {
		return "", d.errorClass("CONNECTIVITY_CHALLENGE_ERROR", fmt.Sprintf("Registry '%s' did not issue a challenge.", ls))
	}
	if ch.Scheme != "bearer" || ch.Realm() == "" || ch.Service() == "" {
		return "", d.errorClass("CONNECTIVITY_AAD_LOGIN_ERROR", fmt.Sprintf("Registry '%s' does not support AAD login.", ls))
	}
	refresh, ok := d.refresh[ls]
	if !ok {
		armToken, err := d.s.tokens.Token(d.i.ctx, client.ResourceARM)
		if err != nil {
			return "", err
		}
		refresh, err = r.data.Exchange(d.i.ctx, ch.Realm(), client.ExchangeRequest{
			Service: ch.Service(), Tenant: d.s.tenant(), AccessToken: armToken.AccessToken})
		if err != nil {
			return "", d.tokenError("CONNECTIVITY_REFRESH_TOKEN_ERROR", r, err)
		}
		d.refresh[ls] = refresh
	}
	if req.login {
		return refresh, nil
	}
	// az asks for the access token with service = the login server.
	token, err := r.data.RefreshTokenGrant(d.i.ctx, ch.Realm(), ls, req.scope(), refresh)
	if err != nil {
		return "", d.tokenError("CONNECTIVITY_ACCESS_TOKEN_ERROR", r, err)
	}
	return token, nil
}

// tokenError is az's "Access to registry … was denied. Response code: N."
// for a token endpoint's refusal; other failures pass through.
func (d *acrData) tokenError(title string, r *acrRegistry, err error) error {
	re, ok := client.AsRegistryError(err)
	if !ok {
		return err
	}
	return d.errorClass(title, fmt.Sprintf("Access to registry '%s' was denied. Response code: %d. Please try running 'az login' again to refresh permissions.", r.loginServer(), re.StatusCode))
}

// errorClass is _errors.ErrorClass.get_error_message: a timestamped
// "An error occurred: TITLE\nmessage".
func (d *acrData) errorClass(title, msg string) *cliError {
	return errorf("%s An error occurred: %s\n%s", pyDatetime(d.i.app.now()), title, msg)
}

// pyDatetime is str(datetime.utcnow()): microseconds only when non-zero.
func pyDatetime(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond()/1000 == 0 {
		return t.Format("2006-01-02 15:04:05")
	}
	return t.Format("2006-01-02 15:04:05.000000")
}
