// Package bootstrap defines the credentials file the server writes on its
// first start and the CLI reads for a plain `az login`: the tenant, the
// subscription and the Owner service principal, kept 0600 in the data dir.
package bootstrap

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cerulean/cerulean/internal/atomicfile"
)

// FileName is the file's name inside the data dir.
const FileName = "bootstrap-credentials.json"

// Credentials are the bootstrap identity's coordinates and secret.
type Credentials struct {
	TenantID         string `json:"tenantId"`
	TenantDomain     string `json:"tenantDefaultDomain"`
	SubscriptionID   string `json:"subscriptionId"`
	SubscriptionName string `json:"subscriptionName"`
	AppID            string `json:"appId"`
	ObjectID         string `json:"objectId"`
	DisplayName      string `json:"displayName"`
	Password         string `json:"password"`
}

// Path returns the file's path in a data dir.
func Path(dataDir string) string { return filepath.Join(dataDir, FileName) }

// Load reads the file.
func Load(path string) (Credentials, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Credentials{}, err
	}
	c, err := Parse(data)
	if err != nil {
		return Credentials{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Parse decodes credentials in the file's form (servers sharing one
// database keep one copy there), refusing any without a tenant, a
// subscription, an app id or a password.
func Parse(data []byte) (Credentials, error) {
	var c Credentials
	if err := json.Unmarshal(data, &c); err != nil {
		return Credentials{}, err
	}
	if c.TenantID == "" || c.AppID == "" || c.Password == "" || c.SubscriptionID == "" {
		return Credentials{}, errors.New("incomplete bootstrap credentials")
	}
	return c, nil
}

// Marshal encodes credentials in the file's form.
func Marshal(c Credentials) []byte {
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		panic("bootstrap: " + err.Error()) // strings only: cannot fail
	}
	return append(data, '\n')
}

// Save writes the file with mode 0600, atomically.
func Save(path string, c Credentials) error {
	return atomicfile.WriteFile(path, Marshal(c), 0o600)
}
