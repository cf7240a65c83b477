// Package pgtest gives tests a PostgreSQL schema of their own on the
// server named by CERULEAN_TEST_POSTGRES. Test support only.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// Schema returns the URL of a fresh schema (its name starting with
// prefix) on the server named by CERULEAN_TEST_POSTGRES, dropped when the
// test ends. Without the variable the test is skipped, or failed when
// CERULEAN_E2E_REQUIRE=1.
func Schema(t testing.TB, prefix string) string {
	t.Helper()
	base := os.Getenv("CERULEAN_TEST_POSTGRES")
	if base == "" {
		if os.Getenv("CERULEAN_E2E_REQUIRE") == "1" {
			t.Fatal("CERULEAN_TEST_POSTGRES is not set")
		}
		t.Skip("CERULEAN_TEST_POSTGRES is not set")
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	schema := prefix + hex.EncodeToString(b)
	if _, err := db.ExecContext(t.Context(), `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := db.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
