// Command registrybench is the Go half of scripts/bench-registry.sh: it
// writes the benchmark image (an OCI layout of incompressible layers),
// measures manifest GET latency with a bearer token on one keep-alive
// connection, serves the round-robin proxy in front of several servers
// (test/roundrobin), and empties the S3 prefix a scale-out run used.
//
//	registrybench mkimage DIR LAYERS LAYER_MIB
//	registrybench manifest-latency URL TOKEN CA_FILE N
//	registrybench proxy LISTEN CERT KEY CA SERVER_NAME BACKEND...
//	registrybench s3-clean S3_URL
package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/cerulean/cerulean/test/roundrobin"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "registrybench:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 4 && args[0] == "mkimage" {
		layers, err1 := strconv.Atoi(args[2])
		mib, err2 := strconv.Atoi(args[3])
		if err1 != nil || err2 != nil || layers < 1 || mib < 1 {
			return fmt.Errorf("usage: mkimage DIR LAYERS LAYER_MIB")
		}
		return mkimage(args[1], layers, mib)
	}
	if len(args) == 5 && args[0] == "manifest-latency" {
		n, err := strconv.Atoi(args[4])
		if err != nil || n < 10 {
			return fmt.Errorf("usage: manifest-latency URL TOKEN CA_FILE N (N ≥ 10)")
		}
		return manifestLatency(args[1], args[2], args[3], n)
	}
	if len(args) >= 7 && args[0] == "proxy" {
		return proxy(args[1], args[2], args[3], args[4], args[5], args[6:])
	}
	if len(args) == 2 && args[0] == "s3-clean" {
		return s3Clean(args[1])
	}
	return fmt.Errorf("usage: registrybench mkimage DIR LAYERS LAYER_MIB | manifest-latency URL TOKEN CA_FILE N | " +
		"proxy LISTEN CERT KEY CA SERVER_NAME BACKEND... | s3-clean S3_URL")
}

// mkimage writes an OCI layout (tag "bench") whose layers are random bytes,
// stored uncompressed, so neither side spends time compressing.
func mkimage(dir string, layers, mib int) error {
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	for range layers {
		b := make([]byte, mib<<20)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		var err error
		if img, err = mutate.AppendLayers(img, static.NewLayer(b, types.OCIUncompressedLayer)); err != nil {
			return err
		}
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	return p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "bench"}))
}

// manifestLatency GETs url n times on one keep-alive connection and prints
// the median, p90 and p99 latencies.
func manifestLatency(url, token, caFile string, n int) error {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: pool},
		MaxIdleConnsPerHost: 1,
		MaxConnsPerHost:     1,
	}}
	get := func() (time.Duration, error) {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			return 0, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json")
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		elapsed := time.Since(start)
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		return elapsed, err
	}
	for range 20 { // warm up the connection and caches
		if _, err := get(); err != nil {
			return err
		}
	}
	lat := make([]time.Duration, 0, n)
	for range n {
		d, err := get()
		if err != nil {
			return err
		}
		lat = append(lat, d)
	}
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	fmt.Printf("manifest GET over %d requests on one keep-alive connection: median %.3f ms, p90 %.3f ms, p99 %.3f ms\n", n, pct(0.5), pct(0.9), pct(0.99))
	return nil
}

// proxy serves roundrobin.Proxy on listen with the certificate in
// certFile/keyFile until killed, sending each request to the next backend
// (host:port), whose certificates (issued by the CA in caFile) are checked
// for serverName.
func proxy(listen, certFile, keyFile, caFile, serverName string, backends []string) error {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return err
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return fmt.Errorf("%s: no certificate", caFile)
	}
	p, err := roundrobin.New(backends, roots)
	if err != nil {
		return err
	}
	p.VerifyAs(serverName)
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	return p.Serve(ln, cert)
}

// s3Clean removes every object under the prefix of an s3:// URL in
// --blobs' form (s3://bucket/prefix?endpoint=…&region=…), with the
// credentials of the standard AWS environment variables.
func s3Clean(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return fmt.Errorf("s3-clean: %q is not s3://bucket/prefix?endpoint=…", raw)
	}
	prefix := strings.Trim(u.Path, "/")
	if prefix == "" {
		return errors.New("s3-clean: refusing to empty a whole bucket")
	}
	ep, err := url.Parse(u.Query().Get("endpoint"))
	if err != nil || ep.Host == "" {
		return fmt.Errorf("s3-clean: %q has no endpoint", raw)
	}
	c, err := minio.New(ep.Host, &minio.Options{
		Creds:  credentials.NewEnvAWS(),
		Secure: ep.Scheme == "https",
		Region: u.Query().Get("region"),
	})
	if err != nil {
		return err
	}
	ctx := context.Background()
	objects := c.ListObjects(ctx, u.Host, minio.ListObjectsOptions{Prefix: prefix + "/", Recursive: true})
	for e := range c.RemoveObjects(ctx, u.Host, objects, minio.RemoveObjectsOptions{}) {
		if e.Err != nil {
			return e.Err
		}
	}
	return nil
}
