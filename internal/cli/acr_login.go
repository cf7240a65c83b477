package cli

// az acr login (acr/custom.py acr_login): the registry credential (see
// acr_repository_access.go) printed with --expose-token, or written to the
// Docker config the way `docker login` writes it.

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/cerulean/cerulean/internal/client"
)

// Data-plane arguments shared by login and the repository commands
// (_params.py, argument context 'acr').
var (
	acrSuffixArg = &argDef{dest: "tenant_suffix", options: []string{"--suffix"}, kind: argValue,
		help: "The tenant suffix in registry login server. You may specify '--suffix tenant' if your registry login server is in the format 'registry-tenant.azurecr.io'. Applicable if you're accessing the registry from a different subscription or you have permission to access images but not the permission to manage the registry resource."}
	acrUsernameArg = &argDef{dest: "username", options: []string{"--username", "-u"}, kind: argValue,
		help: "The username used to log into a container registry."}
	acrPasswordArg = &argDef{dest: "password", options: []string{"--password", "-p"}, kind: argValue,
		help: "The password used to log into a container registry."}
	// acrIgnoredGroupArg is the hidden, deprecated -g of login and the
	// repository commands: az never uses it to find the registry.
	acrIgnoredGroupArg = &argDef{dest: "_deprecated_resource_group", options: []string{"--resource-group", "-g"}, kind: argValue, hidden: true,
		help: "Name of resource group."}
)

// az acr login (acr/custom.py acr_login).
func acrLoginCommand() *command {
	return &command{
		path:         "acr login",
		short:        "Log in to an Azure Container Registry through the Docker CLI.",
		subscription: true,
		args: []*argDef{
			acrNameArg(), acrIgnoredGroupArg, acrSuffixArg, acrUsernameArg, acrPasswordArg,
			{dest: "expose_token", options: []string{"--expose-token", "-t"}, kind: argFlag,
				help: "Expose access token instead of automatically logging in through Docker CLI."},
		},
		run: runACRLogin,
	}
}

// acrLoginToken is the --expose-token output.
type acrLoginToken struct {
	LoginServer string `json:"loginServer"`
	AccessToken string `json:"accessToken"`
}

func runACRLogin(i *inv) (any, error) {
	username, password := i.args.str("username"), i.args.str("password")
	expose := i.args.flag("expose_token")
	if expose && (username != "" || password != "") {
		return nil, errorf("`--expose-token` cannot be combined with `--username` or `--password`.")
	}
	d, err := i.acrData()
	if err != nil {
		return nil, err
	}
	reg, err := d.registry()
	if err != nil {
		return nil, err
	}
	cred, err := d.credentials(reg, username, password, credRequest{login: true})
	if err != nil {
		return nil, err
	}
	if expose {
		i.app.log.warnf(logACRCustom, "You can perform manual login using the provided access token below, for example: 'docker login loginServer -u %s -p accessToken'", client.EmptyGUID)
		return acrLoginToken{LoginServer: reg.loginServer(), AccessToken: cred.Password}, nil
	}
	// az warns about casing ACR lower-cased in the login server.
	first, _, _ := strings.Cut(reg.loginServer(), ".")
	if reg.name != first && strings.ToLower(reg.name) == first {
		i.app.log.warnf(logACRCustom, "Uppercase characters are detected in the registry name. When using its server url in docker commands, to avoid authentication errors, use all lowercase.")
	}
	return nil, d.dockerLogin(reg, cred)
}

// ---- docker login ---------------------------------------------------------------------------

// dockerLogin stands in for the `docker login --username U --password P
// <login server>` az runs: it checks the pair against the registry the way
// docker does (Basic on the token endpoint, asking for an offline token)
// and writes the Docker config entry docker would write, then prints
// docker's "Login Succeeded". Unlike az it needs no docker binary or
// daemon; credential helpers (credsStore) are not called.
func (d *acrData) dockerLogin(r *acrRegistry, cred client.RegistryCredential) error {
	i, ls := d.i, r.loginServer()
	path, err := i.app.dockerConfigPath()
	if err != nil {
		return err
	}
	ch, err := r.data.Ping(i.ctx)
	if err != nil {
		return err
	}
	entry := dockerAuth{Auth: base64.StdEncoding.EncodeToString([]byte(cred.Username + ":" + cred.Password))}
	switch {
	case ch.StatusCode == http.StatusOK:
		// An open registry: docker stores the pair as given.
	case ch.Scheme == "bearer" && ch.Realm() != "":
		res, err := r.data.BasicLogin(i.ctx, ch.Realm(), ch.Service(), cred.Username, cred.Password)
		if err != nil {
			return d.dockerLoginFailed(ls, err)
		}
		// docker keeps a refresh token as the identity token and drops the
		// password; the null GUID's password is that token already.
		switch {
		case res.RefreshToken != "":
			entry = dockerAuth{Auth: base64.StdEncoding.EncodeToString([]byte(cred.Username + ":")), IdentityToken: res.RefreshToken}
		case cred.Username == client.EmptyGUID:
			entry = dockerAuth{Auth: base64.StdEncoding.EncodeToString([]byte(cred.Username + ":")), IdentityToken: cred.Password}
		}
	default:
		if _, err := r.data.Do(i.ctx, http.MethodGet, "/v2/", nil, cred, nil); err != nil {
			return d.dockerLoginFailed(ls, err)
		}
	}
	warnings, err := writeDockerAuth(path, ls, entry)
	if err != nil {
		return err
	}
	for _, w := range warnings {
		i.app.log.warnf(logACRCustom, "%s", w)
	}
	fmt.Fprintln(i.app.stdout, "Login Succeeded")
	return nil
}

// dockerLoginFailed is az's handling of a failed docker login: docker's
// error is logged as a warning, then "Login failed.".
func (d *acrData) dockerLoginFailed(ls string, err error) error {
	reason := err.Error()
	if re, ok := client.AsRegistryError(err); ok {
		reason = strings.ToLower(http.StatusText(re.StatusCode))
		if re.Message != "" {
			reason += ": " + re.Message
		}
	}
	d.i.app.log.warnf(logACRCustom, "Error response from daemon: Get \"https://%s/v2/\": %s", ls, reason)
	return errorf("Login failed.")
}

// dockerAuth is an entry of the Docker config's "auths".
type dockerAuth struct {
	Auth          string `json:"auth,omitempty"`
	IdentityToken string `json:"identitytoken,omitempty"`
}

// dockerConfigPath is where docker keeps its config: $DOCKER_CONFIG/
// config.json, else ~/.docker/config.json.
func (a *app) dockerConfigPath() (string, error) {
	if dir := a.env("DOCKER_CONFIG"); dir != "" {
		return filepath.Join(dir, "config.json"), nil
	}
	if a.settings.home == "" {
		return "", errorf("Cannot find the Docker config: set DOCKER_CONFIG or HOME.")
	}
	return filepath.Join(a.settings.home, ".docker", "config.json"), nil
}

// writeDockerAuth sets auths[server] in the Docker config at path the way
// docker's config file code does: other keys and entries are kept, the
// file is written through a temporary file and renamed (following a
// symlinked config), mode 0600, tab-indented; a missing directory is
// created 0700. It returns warnings about credential helpers that make
// docker look elsewhere.
func writeDockerAuth(path, server string, entry dockerAuth) ([]string, error) {
	if p, err := filepath.EvalSymlinks(path); err == nil {
		path = p
	}
	doc := map[string]json.RawMessage{}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, errorf("Cannot read the Docker config %s: %v", path, err)
	case len(strings.TrimSpace(string(data))) > 0:
		if err := json.Unmarshal(data, &doc); err != nil || doc == nil {
			return nil, errorf("Cannot update the Docker config %s: it is not a JSON object (%v).", path, err)
		}
	}
	auths := map[string]json.RawMessage{}
	if raw, ok := doc["auths"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &auths); err != nil {
			return nil, errorf("Cannot update the Docker config %s: \"auths\" is not a JSON object.", path)
		}
	}
	var warnings []string
	var store string
	var helpers map[string]string
	_ = json.Unmarshal(doc["credsStore"], &store)
	_ = json.Unmarshal(doc["credHelpers"], &helpers)
	if h := helpers[server]; h != "" {
		store = h
	}
	if store != "" {
		warnings = append(warnings, fmt.Sprintf("The Docker config %s names the credential helper '%s', which docker asks for this registry's credentials instead of the file: remove it there to use this login.", path, store))
	}
	if auths[server], err = json.Marshal(entry); err != nil {
		return nil, err
	}
	if doc["auths"], err = json.Marshal(auths); err != nil {
		return nil, err
	}
	out, err := json.MarshalIndent(doc, "", "\t")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, errorf("Cannot create the Docker config directory: %v", err)
	}
	if err := writeFileAtomic(path, out, 0o600); err != nil {
		return nil, errorf("Cannot write the Docker config %s: %v", path, err)
	}
	return warnings, nil
}
