package login

import (
	"strings"
)

// oidcScopes are the OpenID Connect scopes MSAL appends to every request,
// client credentials included; they ask for nothing in an app-only flow.
var oidcScopes = []string{"openid", "offline_access", "profile"}

const defaultSuffix = "/.default"

// resourceFromScope returns the resource a client credentials scope names:
// everything before "/.default" in the one resource scope the list may
// hold, so "https://management.core.windows.net//.default" names
// "https://management.core.windows.net/". The OIDC scopes are ignored.
func resourceFromScope(scope string) (string, error) {
	var scopes []string
	for _, s := range strings.Fields(scope) {
		if isOIDCScope(s) || containsFold(scopes, s) {
			continue
		}
		scopes = append(scopes, s)
	}
	if len(scopes) == 0 {
		return "", scopeNotDefault(strings.Join(strings.Fields(scope), " "))
	}
	for _, s := range scopes {
		if !hasSuffixFold(s, defaultSuffix) || len(s) == len(defaultSuffix) {
			return "", scopeNotDefault(s)
		}
	}
	if len(scopes) > 1 {
		return "", errInvalidScope.WithMessage("The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope %s is not valid.",
			truncate(strings.Join(scopes, " ")))
	}
	s := scopes[0]
	return s[:len(s)-len(defaultSuffix)], nil
}

func scopeNotDefault(s string) error {
	return errScopeNotDefault.WithMessage("The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", truncate(s))
}

func isOIDCScope(s string) bool { return containsFold(oidcScopes, s) }

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}
