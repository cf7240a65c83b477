package login_test

import (
	"net/http"
	"testing"

	"github.com/cerulean/cerulean/internal/server/servertest"
)

// BenchmarkTokenIssuance measures client_credentials token requests over
// keep-alive HTTPS connections, in parallel: form parsing, secret check
// against the sqlite store, RS256 signing and the response.
func BenchmarkTokenIssuance(b *testing.B) {
	e := newEnv(b)
	body := e.credsForm("https://management.core.windows.net//.default").Encode()
	url := e.URL + "/" + e.Tenant.ID + "/oauth2/v2.0/token"
	servertest.RunParallel(b, e.H1, http.MethodPost, url, http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, body)
}
