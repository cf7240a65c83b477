package image

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/cerulean/cerulean/internal/containergroup"
)

const secret = "s3cr3t-Pa55word~with.chars"

func newCache(t testing.TB, rt http.RoundTripper) *Cache {
	t.Helper()
	c, err := New(Config{Dir: t.TempDir(), Transport: rt})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func cred(server, user, pass string) *containergroup.Credential {
	return &containergroup.Credential{Server: server, Username: user, Password: pass}
}

func TestResolve(t *testing.T) {
	base := plainLayer(layerTar(t, file("hello", "world")))
	amd := testImage(t, "linux/amd64", base)
	arm := testImage(t, "linux/arm64", base)

	open := newTestRegistry(t)
	amdDigest := open.push(t, "app:v1", amd, nil)
	open.push(t, "arm:v1", arm, nil)
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
	)
	open.pushIndex(t, "multi:v1", idx)
	armOnly := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}})
	open.pushIndex(t, "armonly:v1", armOnly)

	basic := newTestRegistry(t)
	basic.push(t, "app:v1", amd, nil)
	basic.setFront(basicFront("user", secret))

	token := newTestRegistry(t)
	token.push(t, "app:v1", amd, nil)
	token.setFront(tokenFront(token.host, map[string]string{"puller": secret, "nopull": secret, "forbidden": secret}))

	failing := newTestRegistry(t)
	failing.push(t, "app:v1", amd, nil)
	failing.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.Contains(r.URL.Path, "/manifests/") {
			w.WriteHeader(http.StatusServiceUnavailable)
			return false
		}
		return true
	})

	notRegistry := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(notRegistry.Close)

	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()

	// All test servers share httptest's certificate, so one transport
	// trusts them all.
	rt := open.transport()
	untrusted := &http.Transport{TLSClientConfig: &tls.Config{}}
	// A resolver that knows no host at all, so that the test needs no DNS.
	noDNS := open.srv.Client().Transport.(*http.Transport).Clone()
	noDNS.DialContext = (&net.Dialer{Resolver: &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return nil, &net.DNSError{Err: "no such host", Name: "x", IsNotFound: true}
	}}}).DialContext

	cases := []struct {
		name   string
		rt     http.RoundTripper
		ref    string
		cred   *containergroup.Credential
		check  containergroup.ImageCheck // "" for success
		digest v1.Hash
		msg    string // a part of the message
	}{
		{name: "anonymous, open registry", ref: open.host + "/app:v1", digest: amdDigest},
		{name: "index: the linux/amd64 child", ref: open.host + "/multi:v1", digest: amdDigest},
		{name: "by digest", ref: open.host + "/app@" + amdDigest.String(), digest: amdDigest},
		{name: "index without linux/amd64", ref: open.host + "/armonly:v1", check: containergroup.CheckPlatform, msg: "linux/arm64"},
		{name: "image for arm64", ref: open.host + "/arm:v1", check: containergroup.CheckPlatform, msg: "linux/arm64"},
		{name: "unknown tag", ref: open.host + "/app:v2", check: containergroup.CheckNotFound},
		{name: "unknown repository", ref: open.host + "/nope:v1", check: containergroup.CheckNotFound},
		{name: "unknown digest", ref: open.host + "/app@sha256:" + strings.Repeat("0", 64), check: containergroup.CheckNotFound},
		{name: "scheme in the reference", ref: "https://" + open.host + "/app:v1", check: containergroup.CheckReference},
		{name: "upper case repository", ref: open.host + "/App:v1", check: containergroup.CheckReference},
		{name: "host unknown", rt: noDNS, ref: "nosuchregistry.example:8443/app:v1", check: containergroup.CheckHostUnknown, msg: "does not resolve"},
		{name: "connection refused", ref: closedAddr + "/app:v1", check: containergroup.CheckUnreachable, msg: "refused"},
		{name: "untrusted certificate", rt: untrusted, ref: open.host + "/app:v1", check: containergroup.CheckTLS, msg: "not trusted"},
		{name: "not a registry", ref: notRegistry.Listener.Addr().String() + "/app:v1", check: containergroup.CheckUnreachable, msg: "does not answer as an OCI registry"},
		{name: "registry failing", ref: failing.host + "/app:v1", check: containergroup.CheckRegistry, msg: "503"},

		{name: "basic: right credentials", ref: basic.host + "/app:v1", cred: cred(basic.host, "user", secret), digest: amdDigest},
		{name: "basic: wrong password", ref: basic.host + "/app:v1", cred: cred(basic.host, "user", "wrong"), check: containergroup.CheckUnauthorized, msg: "refused the credentials of user 'user'"},
		{name: "basic: no credentials", ref: basic.host + "/app:v1", check: containergroup.CheckUnauthorized, msg: "requires credentials"},

		{name: "token: puller", ref: token.host + "/app:v1", cred: cred(token.host, "puller", secret), digest: amdDigest},
		{name: "token: wrong password", ref: token.host + "/app:v1", cred: cred(token.host, "puller", secret+"x"), check: containergroup.CheckUnauthorized, msg: "refused the credentials of user 'puller'"},
		{name: "token: unknown user", ref: token.host + "/app:v1", cred: cred(token.host, "nobody", secret), check: containergroup.CheckUnauthorized},
		{name: "token: no pull (empty grant)", ref: token.host + "/app:v1", cred: cred(token.host, "nopull", secret), check: containergroup.CheckDenied, msg: "user 'nopull' may not pull repository 'app'"},
		{name: "token: 403 denied", ref: token.host + "/app:v1", cred: cred(token.host, "forbidden", secret), check: containergroup.CheckDenied},
		{name: "token: anonymous", ref: token.host + "/app:v1", check: containergroup.CheckUnauthorized, msg: "requires credentials"},
		{name: "token: credentials for another registry are not sent", ref: token.host + "/app:v1", cred: cred("other.example", "puller", secret), check: containergroup.CheckUnauthorized, msg: "requires credentials"},
		{name: "token: server written with scheme", ref: token.host + "/app:v1", cred: cred("https://"+token.host+"/", "puller", secret), digest: amdDigest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr := tc.rt
			if tr == nil {
				tr = rt
			}
			c := newCache(t, tr)
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			got, err := c.Resolve(ctx, tc.ref, tc.cred)
			if tc.check == "" {
				if err != nil {
					t.Fatalf("Resolve: %v", err)
				}
				if got.Digest != tc.digest.String() || got.Ref != tc.ref || !strings.HasSuffix(got.DigestRef, "@"+tc.digest.String()) || !strings.HasPrefix(got.DigestRef, strings.SplitN(tc.ref, ":", 2)[0]) {
					t.Errorf("Resolve = %+v, want digest %s", got, tc.digest)
				}
				return
			}
			ie, ok := errors.AsType[*containergroup.ImageError](err)
			if !ok {
				t.Fatalf("Resolve error %v (%T), want an ImageError %s", err, err, tc.check)
			}
			if ie.Check != tc.check || !strings.Contains(ie.Message, tc.msg) {
				t.Errorf("got %s %q (cause %v), want %s containing %q", ie.Check, ie.Message, ie.Cause, tc.check, tc.msg)
			}
			for _, s := range []string{ie.Error(), fmt.Sprint(ie.Cause), fmt.Sprintf("%+v", err)} {
				if strings.Contains(s, secret) {
					t.Errorf("the password leaks: %s", s)
				}
			}
			t.Logf("%s: %s", ie.Check, ie.Message)
		})
	}
}
