package app

import (
	"bytes"
	"context"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/cerulean/cerulean/api/oauth2"
	"github.com/cerulean/cerulean/internal/bootstrap"
	"github.com/cerulean/cerulean/internal/config"
	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/registry"
	"github.com/cerulean/cerulean/internal/resource"
	"github.com/cerulean/cerulean/internal/resourceid"
	"github.com/cerulean/cerulean/internal/sealbox"
	"github.com/cerulean/cerulean/internal/store/pgstore/pgtest"
	"github.com/cerulean/cerulean/internal/tlsca"
	"github.com/cerulean/cerulean/internal/token"
)

func pgConfig(dir, storeURL string) config.Config {
	return config.Config{DataDir: dir, Listen: "127.0.0.1:0", RegistryDomain: "azurecr.localhost", Location: "eastus",
		LogLevel: "info", InstancesDomain: "azurecontainer.localhost", Runtime: "runc", Store: storeURL}
}

// newPGApp starts an app on storeURL with its own data dir, logging into
// logs when it is not nil.
func newPGApp(t *testing.T, dir, storeURL string, logs *bytes.Buffer) *App {
	t.Helper()
	logger := slog.New(slog.DiscardHandler)
	if logs != nil {
		logger = slog.New(slog.NewTextHandler(logs, nil))
	}
	a, err := New(t.Context(), pgConfig(dir, storeURL), logger)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// accessToken asks a's login surface for a client-credentials token.
func accessToken(t *testing.T, a *App, creds bootstrap.Credentials, scope string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {creds.AppID}, "client_secret": {creds.Password}, "scope": {scope}}
	req := httptest.NewRequest(http.MethodPost, "https://localhost/"+creds.TenantID+"/oauth2/v2.0/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	a.Handler().ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		t.Fatalf("token: %d %s", w.Code, w.Body)
	}
	var tr oauth2.TokenResponse
	if err := json.Unmarshal(w.Body.Bytes(), &tr); err != nil {
		t.Fatal(err)
	}
	return tr.AccessToken
}

// listSubscriptions is ARM's GET /subscriptions on a with a bearer token.
func listSubscriptions(a *App, tok string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "https://localhost/subscriptions?api-version=2022-12-01", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	w := httptest.NewRecorder()
	a.Handler().ServeHTTP(w, req)
	return w
}

func loadCreds(t *testing.T, dir string) (bootstrap.Credentials, []byte) {
	t.Helper()
	creds, err := bootstrap.Load(bootstrap.Path(dir))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(bootstrap.Path(dir))
	if err != nil {
		t.Fatal(err)
	}
	return creds, data
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// sharedRows reads the shared_secrets table.
func sharedRows(t *testing.T, storeURL string) map[string][]byte {
	t.Helper()
	db, err := sql.Open("pgx", storeURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(t.Context(), `SELECT name, value FROM shared_secrets`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var name string
		var v []byte
		if err := rows.Scan(&name, &v); err != nil {
			t.Fatal(err)
		}
		out[name] = v
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func setShared(t *testing.T, storeURL, name string, v []byte) {
	t.Helper()
	db, err := sql.Open("pgx", storeURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v == nil {
		_, err = db.ExecContext(t.Context(), `DELETE FROM shared_secrets WHERE name = $1`, name)
	} else {
		_, err = db.ExecContext(t.Context(), `UPDATE shared_secrets SET value = $2 WHERE name = $1`, name, v)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// TestSharedSecretsTwoServers: two servers on one PostgreSQL store, each
// with its own data dir, hold one set of secrets: a token one issues is
// accepted by the other, one's serving certificate verifies against the
// other's ca.pem, their bootstrap files are equal and work on both, and
// what one seals the other opens.
func TestSharedSecretsTwoServers(t *testing.T) {
	ctx := t.Context()
	storeURL := pgtest.Schema(t, "app_")
	dirA, dirB := t.TempDir(), t.TempDir()
	a := newPGApp(t, dirA, storeURL, nil)
	b := newPGApp(t, dirB, storeURL, nil)

	credsA, fileA := loadCreds(t, dirA)
	credsB, fileB := loadCreds(t, dirB)
	if !bytes.Equal(fileA, fileB) || credsA != credsB {
		t.Fatalf("bootstrap files differ:\n%s\n%s", fileA, fileB)
	}
	if fi, err := os.Stat(bootstrap.Path(dirB)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("B's bootstrap file: %v, %v", fi, err)
	}
	for name, srv := range map[string]*App{"A": a, "B": b} {
		if _, err := srv.Identity.Authenticate(ctx, credsB.TenantID, credsB.AppID, credsB.Password); err != nil {
			t.Errorf("the bootstrap credentials on %s: %v", name, err)
		}
	}

	// A token from A's login surface works on B's ARM, and the other way.
	for _, tt := range []struct {
		name         string
		issue, check *App
	}{{"A to B", a, b}, {"B to A", b, a}} {
		tok := accessToken(t, tt.issue, credsA, "https://management.azure.com/.default")
		if w := listSubscriptions(tt.check, tok); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), credsA.SubscriptionID) {
			t.Errorf("%s: GET /subscriptions: %d %s", tt.name, w.Code, w.Body)
		}
	}

	// One CA: B's serving certificate verifies against A's ca.pem.
	caA, caB := readFile(t, a.CAFile()), readFile(t, b.CAFile())
	if !bytes.Equal(caA, caB) {
		t.Fatal("the servers' ca.pem differ")
	}
	roots, err := tlsca.LoadCAPool(a.CAFile())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"localhost", "myreg.azurecr.localhost"} {
		if _, err := b.tls.Cert.Leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: name}); err != nil {
			t.Errorf("B's serving certificate for %s against A's ca.pem: %v", name, err)
		}
	}
	if bytes.Equal(a.tls.Cert.Leaf.Raw, b.tls.Cert.Leaf.Raw) {
		t.Error("the servers share a serving certificate: each should issue its own")
	}
	if _, err := os.Stat(filepath.Join(dirB, "tls", "ca-key.pem")); err == nil {
		t.Error("the shared CA's key was written to the data dir")
	}
	if got, err := ReadCA(ctx, t.TempDir(), storeURL); err != nil || !bytes.Equal(got, caA) {
		t.Errorf("ReadCA with the store: %v; want A's ca.pem", err)
	}

	// A registry admin password sealed on A reads the same on B.
	if _, _, err := a.Resources.PutGroup(ctx, credsA.SubscriptionID, "rg", resource.GroupInput{Location: "eastus"}); err != nil {
		t.Fatal(err)
	}
	group := resourceid.ForResourceGroup(credsA.SubscriptionID, "rg")
	if _, _, err := a.Registries.Create(ctx, registry.CreateInput{Group: group, Name: "sharedreg", Location: "eastus", SKU: "Basic",
		AdminUserEnabled: true, CreatedBy: credsA.ObjectID}); err != nil {
		t.Fatal(err)
	}
	onA, err := a.Registries.Credentials(ctx, group, "sharedreg")
	if err != nil {
		t.Fatal(err)
	}
	onB, err := b.Registries.Credentials(ctx, group, "sharedreg")
	if err != nil {
		t.Fatalf("admin credentials on B: %v", err)
	}
	if !reflect.DeepEqual(onA, onB) || len(onA.Passwords) == 0 {
		t.Fatalf("admin credentials: A %+v, B %+v", onA, onB)
	}
	// And the instances' sealing key: what A seals B opens.
	sa, _ := a.sealingKey(secretInstancesSealing)
	sb, _ := b.sealingKey(secretInstancesSealing)
	sealed, err := sa.Seal([]byte("spec"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := sb.Open(sealed); err != nil || string(got) != "spec" {
		t.Fatalf("B opening A's sealed spec: %q, %v", got, err)
	}
	// Nothing of the keys is in the data dirs.
	for _, dir := range []string{dirA, dirB} {
		if _, err := os.Stat(filepath.Join(dir, "keys")); err == nil {
			t.Errorf("%s has a keys directory", dir)
		}
	}
}

// TestSharedSecretsConcurrentStart: servers starting at once on an empty
// store end with one set of secrets.
func TestSharedSecretsConcurrentStart(t *testing.T) {
	storeURL := pgtest.Schema(t, "app_")
	const n = 3
	apps := make([]*App, n)
	dirs := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		dirs[i] = t.TempDir()
		wg.Go(func() {
			apps[i], errs[i] = New(t.Context(), pgConfig(dirs[i], storeURL), slog.New(slog.DiscardHandler))
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("New %d: %v", i, err)
		}
		t.Cleanup(func() { apps[i].Close() })
	}
	rows := sharedRows(t, storeURL)
	if len(rows) != 6 { // with ACR Tasks' SAS key
		t.Fatalf("shared secrets %v, want 6", reflect.ValueOf(rows).MapKeys())
	}
	creds, file0 := loadCreds(t, dirs[0])
	ca0 := readFile(t, apps[0].CAFile())
	tok := accessToken(t, apps[0], creds, "https://management.azure.com/.default")
	for i := 1; i < n; i++ {
		if _, file := loadCreds(t, dirs[i]); !bytes.Equal(file, file0) {
			t.Errorf("server %d's bootstrap file differs from server 0's", i)
		}
		if !bytes.Equal(readFile(t, apps[i].CAFile()), ca0) {
			t.Errorf("server %d's ca.pem differs from server 0's", i)
		}
		if w := listSubscriptions(apps[i], tok); w.Code != http.StatusOK {
			t.Errorf("server 0's token on server %d: %d %s", i, w.Code, w.Body)
		}
	}
}

// TestSharedSecretsImport: a deployment that ran before secrets were shared
// has them in each server's data dir. The first server to start stores its
// own, so what it signed and sealed stays valid and its bootstrap
// principal stays the one; a later server with other files uses the
// stored ones and says so.
func TestSharedSecretsImport(t *testing.T) {
	ctx := t.Context()
	storeURL := pgtest.Schema(t, "app_")
	dirA := t.TempDir()
	first := newPGApp(t, dirA, storeURL, nil)
	credsBefore, _ := loadCreds(t, dirA)
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	// What a server made in its data dir before this change: keys, a CA
	// with its key (the bootstrap file is there already), and nothing in
	// the store.
	files := oldServerFiles(t, dirA)
	for name := range sharedRows(t, storeURL) {
		setShared(t, storeURL, name, nil)
	}
	boxBefore, err := sealbox.LoadOrCreate(filepath.Join(dirA, "keys", "registry-sealing-key"))
	if err != nil {
		t.Fatal(err)
	}
	sealedBefore, err := boxBefore.Seal([]byte("admin password"))
	if err != nil {
		t.Fatal(err)
	}

	var logs bytes.Buffer
	a := newPGApp(t, dirA, storeURL, &logs)
	rows := sharedRows(t, storeURL)
	for name, want := range map[string][]byte{
		secretTokenKey: files.token, secretRegistrySealing: files.registry, secretInstancesSealing: files.instances,
		secretCA: files.ca, secretBootstrap: readFile(t, bootstrap.Path(dirA)),
	} {
		if !bytes.Equal(rows[name], want) {
			t.Errorf("stored %s is not the data dir's", name)
		}
		if !strings.Contains(logs.String(), `msg="shared secret imported from the data dir" secret=`+name) {
			t.Errorf("no import logged for %s:\n%s", name, logs.String())
		}
	}
	if credsAfter, _ := loadCreds(t, dirA); credsAfter != credsBefore {
		t.Errorf("bootstrap credentials changed on import:\n%+v\n%+v", credsBefore, credsAfter)
	}
	box, _ := a.sealingKey(secretRegistrySealing)
	if got, err := box.Open(sealedBefore); err != nil || string(got) != "admin password" {
		t.Errorf("a value sealed before the import: %q, %v", got, err)
	}
	if !bytes.Equal(a.tls.CAPEM, readFile(t, filepath.Join(dirA, "tls", "ca.pem"))) {
		t.Error("A serves under another CA than its own")
	}

	// B ran before the change too, with keys of its own: A's win.
	dirB := t.TempDir()
	filesB := oldServerFiles(t, dirB)
	logs.Reset()
	b := newPGApp(t, dirB, storeURL, &logs)
	if got := sharedRows(t, storeURL); !reflect.DeepEqual(got, rows) {
		t.Error("B's start changed the shared secrets")
	}
	if !bytes.Equal(readFile(t, b.CAFile()), readFile(t, a.CAFile())) || bytes.Equal(readFile(t, b.CAFile()), filesB.caCert) {
		t.Error("B's ca.pem is not the shared CA")
	}
	for _, msg := range []string{
		`msg="the data dir's copy of a shared secret differs from the shared one and is not used: what this server signed or sealed with it before secrets were shared is no longer accepted" secret=token-signing-key`,
		`msg="the data dir's CA certificate is replaced by the shared CA`,
	} {
		if !strings.Contains(logs.String(), msg) {
			t.Errorf("B did not log %q:\n%s", msg, logs.String())
		}
	}
	if _, err := b.Identity.Authenticate(ctx, credsBefore.TenantID, credsBefore.AppID, credsBefore.Password); err != nil {
		t.Errorf("A's bootstrap credentials on B: %v", err)
	}
}

type oldFiles struct{ token, registry, instances, ca, caCert []byte }

// oldServerFiles makes, in dir, the key and CA files a server made before
// secrets were shared.
func oldServerFiles(t *testing.T, dir string) oldFiles {
	t.Helper()
	if err := os.RemoveAll(filepath.Join(dir, "tls")); err != nil {
		t.Fatal(err)
	}
	if _, err := tlsca.LoadOrCreate(tlsca.Config{Dir: filepath.Join(dir, "tls"), DNSNames: []string{"localhost"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := token.LoadOrCreate(filepath.Join(dir, "keys", "token-signing-key.pem")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"registry-sealing-key", "instances-sealing-key"} {
		if _, err := sealbox.LoadOrCreate(filepath.Join(dir, "keys", name)); err != nil {
			t.Fatal(err)
		}
	}
	ca, err := tlsca.ReadCAFiles(filepath.Join(dir, "tls"))
	if err != nil {
		t.Fatal(err)
	}
	return oldFiles{
		token:     readFile(t, filepath.Join(dir, "keys", "token-signing-key.pem")),
		registry:  readFile(t, filepath.Join(dir, "keys", "registry-sealing-key")),
		instances: readFile(t, filepath.Join(dir, "keys", "instances-sealing-key")),
		ca:        ca,
		caCert:    readFile(t, filepath.Join(dir, "tls", "ca.pem")),
	}
}

// TestSharedSecretsCorrupt: a stored secret that cannot be used fails the
// start with an error naming it, and stays as it is.
func TestSharedSecretsCorrupt(t *testing.T) {
	storeURL := pgtest.Schema(t, "app_")
	a := newPGApp(t, t.TempDir(), storeURL, nil)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	good := sharedRows(t, storeURL)
	half := good[secretRegistrySealing][:16]
	for _, tt := range []struct {
		name  string
		value []byte
	}{
		{secretCA, []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")},
		{secretCA, good[secretCA][:bytes.Index(good[secretCA], []byte("-----BEGIN PRIVATE KEY"))]},
		{secretTokenKey, []byte("not a key")},
		{secretRegistrySealing, half},
		{secretInstancesSealing, []byte{}},
		{secretBootstrap, []byte(`{"tenantId":"x"}`)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			setShared(t, storeURL, tt.name, tt.value)
			defer setShared(t, storeURL, tt.name, good[tt.name])
			_, err := New(t.Context(), pgConfig(t.TempDir(), storeURL), slog.New(slog.DiscardHandler))
			var unusable *unusableSecretError
			if !errors.As(err, &unusable) || !strings.Contains(err.Error(), `shared secret "`+tt.name+`" stored in the database is unusable`) {
				t.Fatalf("New: %v; want the secret named as unusable", err)
			}
			if got := sharedRows(t, storeURL)[tt.name]; !bytes.Equal(got, tt.value) {
				t.Fatal("the unusable secret was replaced")
			}
		})
	}
	// Restored, the store serves again.
	newPGApp(t, t.TempDir(), storeURL, nil)
}

// TestReadCAWithoutStore: without a store setting ReadCA reads the data
// dir; with an empty store it says serve has not run there.
func TestReadCAWithoutStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := ReadCA(ctx, dir, ""); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("empty data dir: %v", err)
	}
	storeURL := pgtest.Schema(t, "app_")
	if _, err := ReadCA(ctx, dir, storeURL); err == nil || !strings.Contains(err.Error(), "has not run") {
		t.Fatalf("empty store: %v", err)
	}
}

// TestSharedBootstrapReissue: when the shared bootstrap secret stops
// working, the next server to start issues a new one into the shared
// record, and each server's file follows the record when it starts.
func TestSharedBootstrapReissue(t *testing.T) {
	ctx := t.Context()
	storeURL := pgtest.Schema(t, "app_")
	dirA, dirB := t.TempDir(), t.TempDir()
	a := newPGApp(t, dirA, storeURL, nil)
	newPGApp(t, dirB, storeURL, nil).Close()
	old, _ := loadCreds(t, dirA)
	auth, err := a.Identity.Authenticate(ctx, old.TenantID, old.AppID, old.Password)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Identity.RemovePassword(ctx, identity.OnServicePrincipal, old.TenantID, old.ObjectID, auth.KeyID); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}

	a = newPGApp(t, dirA, storeURL, nil)
	fresh, fileA := loadCreds(t, dirA)
	if fresh.Password == old.Password || fresh.ObjectID != old.ObjectID {
		t.Fatalf("after the secret's removal: %+v, want a new secret on the same principal", fresh)
	}
	if got := sharedRows(t, storeURL)[secretBootstrap]; !bytes.Equal(got, fileA) {
		t.Fatal("the shared record is not the re-issued credentials")
	}
	newPGApp(t, dirB, storeURL, nil)
	if _, fileB := loadCreds(t, dirB); !bytes.Equal(fileB, fileA) {
		t.Fatal("B's file did not follow the shared record")
	}
	if _, err := a.Identity.Authenticate(ctx, fresh.TenantID, fresh.AppID, fresh.Password); err != nil {
		t.Fatal(err)
	}
}
