package oci_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/rbac"
	"github.com/cerulean/cerulean/internal/server/servertest"
)

// BenchmarkManifestGet measures GET /v2/<name>/manifests/<tag> with a
// bearer token on keep-alive connections through the real stack (target:
// under 0.5 ms).
func BenchmarkManifestGet(b *testing.B) {
	re := newRealEnv(b)
	ctx := b.Context()
	p := re.NewPrincipal(b, "bench", identity.OnApplication)
	re.Assign(b, p.SP.ID, rbac.AcrPushID, re.reg.ID)
	ls := re.reg.LoginServer
	client := &http.Client{Transport: re.tr}

	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+ls+"/oauth2/token?service="+ls+"&scope=repository:bench:pull,push", nil)
	req.SetBasicAuth(p.App.AppID, p.Secret)
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	_ = resp.Body.Close()
	bearer := http.Header{"Authorization": {"Bearer " + tok.AccessToken}}

	put := func(method, path string, body []byte, ct string) {
		req, _ := http.NewRequestWithContext(ctx, method, "https://"+ls+path, bytes.NewReader(body))
		req.Header = bearer.Clone()
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		resp, err := client.Do(req)
		if err != nil || resp.StatusCode >= 300 {
			b.Fatalf("%s %s: %v %v", method, path, err, resp)
		}
		_ = resp.Body.Close()
	}
	cfg := []byte("{}")
	put(http.MethodPost, "/v2/bench/blobs/uploads/?digest="+digest.FromBytes(cfg).String(), cfg, "")
	manifest := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"` +
		digest.FromBytes(cfg).String() + `","size":2},"layers":[]}`)
	put(http.MethodPut, "/v2/bench/manifests/v1", manifest, "application/vnd.oci.image.manifest.v1+json")

	b.Run("h1", func(b *testing.B) {
		servertest.RunParallel(b, client, http.MethodGet, "https://"+ls+"/v2/bench/manifests/v1", bearer, "")
	})
	b.Run("h1-serial", func(b *testing.B) {
		b.ReportAllocs()
		start := time.Now()
		for b.Loop() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+ls+"/v2/bench/manifests/v1", nil)
			req.Header = bearer.Clone()
			resp, err := client.Do(req)
			if err != nil || resp.StatusCode != http.StatusOK {
				b.Fatal(err, resp)
			}
			_, _ = resp.Body.Read(make([]byte, 512))
			_ = resp.Body.Close()
		}
		b.ReportMetric(float64(time.Since(start).Microseconds())/float64(b.N), "µs/req")
	})
}

// BenchmarkBlobGet pulls a 64 MiB blob over TLS through the real stack.
func BenchmarkBlobGet(b *testing.B) {
	re := newRealEnv(b)
	ctx := b.Context()
	p := re.NewPrincipal(b, "bench", identity.OnApplication)
	re.Assign(b, p.SP.ID, rbac.AcrPushID, re.reg.ID)
	ls := re.reg.LoginServer
	client := &http.Client{Transport: re.tr}
	data := bytes.Repeat([]byte("0123456789abcdef"), 4<<20)
	d := digest.FromBytes(data)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "https://"+ls+"/v2/bench/blobs/uploads/?digest="+d.String(), bytes.NewReader(data))
	req.SetBasicAuth(p.App.AppID, p.Secret)
	resp, err := client.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		b.Fatal(err, resp)
	}
	_ = resp.Body.Close()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+ls+"/v2/bench/blobs/"+d.String(), nil)
		req.SetBasicAuth(p.App.AppID, p.Secret)
		resp, err := client.Do(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatal(err, resp)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if n != int64(len(data)) {
			b.Fatal(n)
		}
	}
}
