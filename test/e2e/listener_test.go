package e2e

import (
	"bufio"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// requestLineText is body text that looks like an HTTP/1.1 request line
// with raw spaces in its query: what the listener's request-line repair
// (server.TLSListener) rewrites when it takes it for one.
const requestLineText = `GET /?a b HTTP/1.1`

// rawConn is a bare HTTP/1.1-over-TLS connection to the server: each
// Write leaves in TLS records of its own, so a test decides exactly where
// the server's reads of a request begin.
type rawConn struct {
	t    *testing.T
	conn *tls.Conn
	r    *bufio.Reader
	host string
}

// dialRaw connects to the server as host (host[:port]: the Host header,
// and without the port the TLS server name), offering only HTTP/1.1.
func dialRaw(t *testing.T, s *server, host string) *rawConn {
	t.Helper()
	pem, err := os.ReadFile(filepath.Join(s.dataDir, "tls", "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	conn, err := tls.Dial("tcp", s.addr, &tls.Config{RootCAs: pool, ServerName: name, NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if p := conn.ConnectionState().NegotiatedProtocol; p != "http/1.1" {
		t.Fatalf("negotiated %q, want http/1.1", p)
	}
	return &rawConn{t: t, conn: conn, r: bufio.NewReader(conn), host: host}
}

// head is a request's line and header block for c's host.
func (c *rawConn) head(method, target, auth string, body int, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nAuthorization: %s\r\nContent-Length: %d\r\n", method, target, c.host, auth, body)
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// write sends each part with a Write (and so in TLS records) of its own.
func (c *rawConn) write(parts ...string) {
	c.t.Helper()
	for _, p := range parts {
		if _, err := io.WriteString(c.conn, p); err != nil {
			c.t.Fatal(err)
		}
	}
}

// response reads the next response and its body.
func (c *rawConn) response() (*http.Response, []byte) {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(time.Minute))
	resp, err := http.ReadResponse(c.r, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	resp.Body.Close()
	return resp, body
}

func sha256Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// TestListenerPassesRegistryBodiesExactly pushes, over HTTP/1.1, a blob
// whose body starts with request-line-like text, and a manifest with such
// text right after a 16 KiB prefix, each part in TLS records of its own
// (as curl sends a body): the registry must store exactly the bytes sent.
func TestListenerPassesRegistryBodiesExactly(t *testing.T) {
	e := newRegistryEnv(t)
	id, ls := e.createRegistry(t, "listenerreg")
	pusher := e.newPrincipal(t, "listener-pusher", "acrpush", id)
	const repo = "listener/exact"
	auth := "Bearer " + e.accessToken(t, ls, pusher, "repository:"+repo+":pull,push")
	c := dialRaw(t, e.server, ls)

	upload := func(parts ...string) string {
		t.Helper()
		data := strings.Join(parts, "")
		c.write(c.head("POST", "/v2/"+repo+"/blobs/uploads/", auth, 0))
		resp, body := c.response()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("start upload: %d %s", resp.StatusCode, body)
		}
		loc, err := url.Parse(resp.Header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		q := loc.Query()
		q.Set("digest", sha256Digest([]byte(data)))
		loc.RawQuery = q.Encode()
		c.write(append([]string{c.head("PUT", loc.RequestURI(), auth, len(data), "Content-Type: application/octet-stream")}, parts...)...)
		resp, body = c.response()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("upload of %q…: %d %s", data[:min(len(data), 40)], resp.StatusCode, body)
		}
		return sha256Digest([]byte(data))
	}
	layer := requestLineText + "\nHost: x\n\n" + strings.Repeat("layer bytes ", 100)
	layerDigest := upload(layer)
	config := `{"architecture":"amd64","os":"linux"}`
	configDigest := upload(config)

	head := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",`+
		`"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":%d},`+
		`"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":%q,"size":%d}],`+
		`"annotations":{"pad":"`, configDigest, len(config), layerDigest, len(layer))
	const probe = `","probe":"`
	// The prefix fills one TLS record exactly; the next record begins with
	// the request-line-like annotation value.
	prefix := head + strings.Repeat("x", 16384-len(head)-len(probe)) + probe
	rest := requestLineText + "\"\n}}"
	manifest := prefix + rest
	if !json.Valid([]byte(manifest)) {
		t.Fatalf("manifest is not JSON: %s", manifest)
	}
	c.write(c.head("PUT", "/v2/"+repo+"/manifests/v1", auth, len(manifest), "Content-Type: application/vnd.oci.image.manifest.v1+json"), prefix, rest)
	resp, body := c.response()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("manifest push: %d %s", resp.StatusCode, body)
	}
	want := sha256Digest([]byte(manifest))
	if got := resp.Header.Get("Docker-Content-Digest"); got != want {
		t.Fatalf("Docker-Content-Digest %s, want the sha256 of the bytes sent, %s", got, want)
	}

	c.write(c.head("GET", "/v2/"+repo+"/manifests/v1", auth, 0, "Accept: application/vnd.oci.image.manifest.v1+json"))
	resp, body = c.response()
	if resp.StatusCode != http.StatusOK || string(body) != manifest {
		t.Fatalf("manifest read back: %d, %d bytes, equal to the bytes sent: %v", resp.StatusCode, len(body), string(body) == manifest)
	}
	c.write(c.head("GET", "/v2/"+repo+"/blobs/"+layerDigest, auth, 0))
	if resp, body = c.response(); resp.StatusCode != http.StatusOK || string(body) != layer {
		t.Fatalf("layer read back: %d, %q…", resp.StatusCode, body[:min(len(body), 40)])
	}
}

// TestListenerRepairKeepsManagementBodiesExact sends ARM requests over
// HTTP/1.1 on the server host, where the request-line repair is on: a
// resource group whose tag value looks like a request line (in a TLS
// record of its own) keeps it byte for byte, and a role-assignment list
// pipelined right behind it, with its $filter unencoded as the Azure SDK
// for Go sends it, is still repaired.
func TestListenerRepairKeepsManagementBodiesExact(t *testing.T) {
	s := startServer(t, t.TempDir(), freeAddr(t))
	s.mustAz(t, "login", "-o", "none")
	sub := s.mustAz(t, "account", "show", "--query", "id", "-o", "tsv")
	auth := "Bearer " + s.mustAz(t, "account", "get-access-token", "--query", "accessToken", "-o", "tsv")
	owner := s.mustAz(t, "role", "assignment", "list", "--all", "--query", "[0].principalId", "-o", "tsv")
	_, port, _ := net.SplitHostPort(s.addr)
	c := dialRaw(t, s, net.JoinHostPort("localhost", port))

	groupPath := "/subscriptions/" + sub + "/resourcegroups/listener?api-version=2021-04-01"
	first := `{"location":"eastus","tags":{"probe":"`
	second := requestLineText + "\"\n}}"
	filter := "/subscriptions/" + sub + "/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&$filter=principalId eq '" + owner + "'"
	// The body's second part and the next request leave in one write.
	c.write(c.head("PUT", groupPath, auth, len(first)+len(second), "Content-Type: application/json"), first,
		second+c.head("GET", filter, auth, 0))
	resp, body := c.response()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		t.Fatalf("group create: %d %s", resp.StatusCode, body)
	}
	var group struct {
		Tags map[string]string `json:"tags"`
	}
	if err := json.Unmarshal(body, &group); err != nil || group.Tags["probe"] != requestLineText {
		t.Fatalf("tag stored as %q (%v), sent %q", group.Tags["probe"], err, requestLineText)
	}
	resp, body = c.response()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), owner) {
		t.Fatalf("role assignments with an unencoded $filter: %d %s", resp.StatusCode, body)
	}

	if got := s.mustAz(t, "group", "show", "-n", "listener", "--query", "tags.probe", "-o", "tsv"); got != requestLineText {
		t.Fatalf("group show: tag %q, want %q", got, requestLineText)
	}
}
