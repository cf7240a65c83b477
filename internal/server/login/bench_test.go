package login_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// BenchmarkTokenIssuance measures client_credentials token requests over
// keep-alive HTTPS connections, in parallel: form parsing, secret check
// against the sqlite store, RS256 signing and the response.
func BenchmarkTokenIssuance(b *testing.B) {
	e := newEnv(b)
	body := e.credsForm("https://management.core.windows.net//.default").Encode()
	url := e.url + "/" + e.tenant.ID + "/oauth2/v2.0/token"
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := e.client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
}
