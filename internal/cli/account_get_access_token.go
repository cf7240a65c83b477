package cli

import (
	"time"

	"github.com/cerulean/cerulean/internal/client"
)

// cloudResourceTypes maps --resource-type to the resource (profile/custom.py
// cloud_resource_type_mappings, with AzureCloud's endpoints).
var cloudResourceTypes = map[string]string{
	"arm":       client.ResourceARM,
	"ms-graph":  client.ResourceGraph,
	"aad-graph": "https://graph.windows.net/",
	"batch":     "https://batch.core.windows.net/",
	"data-lake": "https://datalake.azure.net/",
	"media":     "https://rest.media.azure.net",
	"oss-rdbms": "https://ossrdbms-aad.database.windows.net",
}

// az account get-access-token (profile/custom.py get_access_token).
func accountGetAccessTokenCommand() *command {
	return &command{
		path:  "account get-access-token",
		short: "Get a token for utilities to access Azure.",
		args: []*argDef{
			{dest: "resource", options: []string{"--resource"}, kind: argValue, help: "Azure resource endpoints in AAD v1.0."},
			{dest: "scopes", options: []string{"--scope"}, kind: argList, help: "Space-separated AAD scopes in AAD v2.0. Default to Azure Resource Manager."},
			{dest: "resource_type", options: []string{"--resource-type"}, kind: argValue,
				choices: []string{"oss-rdbms", "arm", "aad-graph", "ms-graph", "batch", "media", "data-lake"}, help: "Type of well-known resource."},
			{dest: "tenant", options: []string{"--tenant", "-t"}, kind: argValue, help: "Tenant ID for which the token is acquired."},
			argAccountSubscription(),
		},
		run: runGetAccessToken,
	}
}

func runGetAccessToken(i *inv) (any, error) {
	a := i.args
	resource := a.str("resource")
	if resource == "" && a.has("resource_type") {
		resource = cloudResourceTypes[a.str("resource_type")]
	}
	sub, tenant := a.str("subscription"), a.str("tenant")
	if sub != "" && tenant != "" {
		return nil, errorf("Please specify only one of subscription and tenant, not both")
	}
	s, err := i.session(sub)
	if err != nil {
		return nil, err
	}
	scope := client.ScopeForResource(client.ResourceARM)
	switch {
	case len(a.list("scopes")) > 0:
		scope = a.list("scopes")[0]
	case resource != "":
		scope = client.ScopeForResource(resource)
	}
	tokenTenant := s.account.TenantID
	if tenant != "" {
		tokenTenant = tenant
	}
	secret, err := (&store{dir: i.app.settings.configDir}).loadSPSecret(s.account.User.Name, s.account.TenantID)
	if err != nil {
		return nil, err
	}
	var tok client.Token
	if tokenTenant == s.account.TenantID && len(a.list("scopes")) == 0 {
		tok, err = s.tokens.Token(i.ctx, client.ResourceForScope(scope))
	} else {
		tok, err = s.client.ClientCredentialsTokenForScope(i.ctx, tokenTenant, s.account.User.Name, secret, scope)
	}
	if err != nil {
		return nil, err
	}
	// As az 2.45 prints it: the POSIX expires_on of later versions is not
	// there.
	type result struct {
		AccessToken  string `json:"accessToken"`
		ExpiresOn    string `json:"expiresOn"`
		Subscription string `json:"subscription,omitempty"`
		Tenant       string `json:"tenant"`
		TokenType    string `json:"tokenType"`
	}
	r := result{
		AccessToken: tok.AccessToken,
		ExpiresOn:   tok.ExpiresOn.In(time.Local).Format("2006-01-02 15:04:05.000000"),
		Tenant:      tokenTenant,
		TokenType:   "Bearer",
	}
	if tenant == "" {
		r.Subscription = s.account.ID
	}
	return r, nil
}
