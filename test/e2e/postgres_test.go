package e2e

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// postgresDatabase creates a fresh database on the server named by
// CERULEAN_TEST_POSTGRES (its role needs CREATEDB) and returns its URL; the
// database is dropped when the test ends. Without the variable the test
// is skipped, or fails when CERULEAN_E2E_REQUIRE=1.
func postgresDatabase(t *testing.T) string {
	t.Helper()
	base := os.Getenv("CERULEAN_TEST_POSTGRES")
	if base == "" {
		requireOrSkip(t, "CERULEAN_TEST_POSTGRES is not set")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	b := make([]byte, 6)
	rand.Read(b)
	db := "cerulean_e2e_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(t.Context(), `CREATE DATABASE `+db); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		// Registered before the servers' cleanups, so it runs after
		// them; FORCE ends any connection left behind.
		if _, err := admin.ExecContext(context.Background(), `DROP DATABASE `+db+` WITH (FORCE)`); err != nil {
			t.Errorf("drop database: %v", err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + db
	return u.String()
}

// TestPostgresStore runs the server on PostgreSQL (--store): a resource
// group, a registry, a principal from az ad sp create-for-rbac with
// acrpush, a push with go-containerregistry; then a restart, after which
// everything is still there, read from PostgreSQL (the data dir holds no
// SQLite database), and `cerulean hosts --store` lists the registry.
func TestPostgresStore(t *testing.T) {
	storeURL := postgresDatabase(t)
	dataDir := t.TempDir()
	addr := freeAddr(t)
	s := startServer(t, dataDir, addr, "--store", storeURL)
	e := &registryEnv{server: s, transport: loopbackTransport(t, s)}
	e.mustAz(t, "login", "-o", "none")
	e.mustAz(t, "group", "create", "-n", "registries", "-l", "eastus", "-o", "none")
	regID, loginServer := e.createRegistry(t, "pgreg")
	pusher := e.newPrincipal(t, "pg-pusher", "acrpush", regID)

	img, err := random.Image(128<<10, 2)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(loginServer + "/samples/hello:v1")
	if err != nil {
		t.Fatal(err)
	}
	opts := []remote.Option{remote.WithAuth(pusher.basic()), remote.WithTransport(e.transport), remote.WithContext(t.Context())}
	if err := remote.Write(ref, img, opts...); err != nil {
		t.Fatalf("push: %v", err)
	}
	want, _ := img.Digest()
	if _, err := os.Stat(filepath.Join(dataDir, "cerulean.db")); !os.IsNotExist(err) {
		t.Fatalf("the server made a SQLite database beside --store: %v", err)
	}
	s.stop(t)

	s2 := startServer(t, dataDir, addr, "--store", storeURL)
	s2.env = s.env // same az profile and token cache
	e2 := &registryEnv{server: s2, transport: loopbackTransport(t, s2)}
	if got := e2.mustAz(t, "acr", "repository", "list", "-n", "pgreg", "--query", "[0]", "-o", "tsv"); got != "samples/hello" {
		t.Fatalf("repositories after restart: %q", got)
	}
	if got := e2.mustAz(t, "ad", "sp", "list", "--display-name", "pg-pusher", "--query", "[0].appId", "-o", "tsv"); got != pusher.appID {
		t.Fatalf("service principal after restart: %q, want %q", got, pusher.appID)
	}
	opts = []remote.Option{remote.WithAuth(pusher.basic()), remote.WithTransport(e2.transport), remote.WithContext(t.Context())}
	got, err := remote.Image(ref, opts...)
	if err != nil {
		t.Fatalf("pull after restart: %v", err)
	}
	if d, _ := got.Digest(); d != want {
		t.Fatalf("pulled %s after restart, pushed %s", d, want)
	}
	layers, err := got.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			t.Fatalf("layer after restart: %v", err)
		}
		rc.Close()
	}
	// The password reaches the child through its environment, not argv.
	e2.env = append(e2.env, "CERULEAN_STORE="+storeURL)
	out, _ := e2.mustCerulean(t, "hosts", "--data-dir", dataDir, "--listen", addr)
	if !strings.Contains(out, "pgreg.azurecr.localhost") {
		t.Fatalf("cerulean hosts with the PostgreSQL store:\n%s", out)
	}
}
