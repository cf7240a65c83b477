package cli

// This file keeps the CLI's state under AZURE_CONFIG_DIR in the files az
// uses: azureProfile.json (the accounts, UTF-8 with a byte order mark as az
// writes it) and service_principal_entries.json (the client secrets, 0600),
// plus a token cache of our own. Every write is atomic (temp file, fsync,
// rename) and the directory is 0700.

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

const (
	profileFileName    = "azureProfile.json"
	spEntriesFileName  = "service_principal_entries.json"
	tokenCacheFileName = "cerulean_token_cache.json"

	cloudName            = "AzureCloud"
	userTypeSP           = "servicePrincipal"
	tenantLevelAccount   = "N/A(tenant level account)"
	loginRequiredMessage = "Please run 'az login' to setup account."
)

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// accountUser is an account's "user" entry.
type accountUser struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// managedByTenant is an item of an account's managedByTenants.
type managedByTenant struct {
	TenantID string `json:"tenantId"`
}

// account is one entry of azureProfile.json's "subscriptions", with az's key
// order (Profile._normalize_properties). It has no tenantDisplayName or
// tenantDefaultDomain: az records those only for an interactive login, which
// lists the tenants; a service principal's accounts carry the tenant id alone
// (find_using_specific_tenant), and Cerulean's accounts are all service
// principals.
type account struct {
	ID               string             `json:"id"`
	Name             string             `json:"name"`
	State            string             `json:"state"`
	User             accountUser        `json:"user"`
	IsDefault        bool               `json:"isDefault"`
	TenantID         string             `json:"tenantId"`
	EnvironmentName  string             `json:"environmentName"`
	HomeTenantID     *string            `json:"homeTenantId,omitempty"`
	ManagedByTenants *[]managedByTenant `json:"managedByTenants,omitempty"`
}

// accountListItem is an account as `az login` and `az account list` print
// it: environmentName is popped and re-added as cloudName at the end.
type accountListItem struct {
	ID               string             `json:"id"`
	Name             string             `json:"name"`
	State            string             `json:"state"`
	User             accountUser        `json:"user"`
	IsDefault        bool               `json:"isDefault"`
	TenantID         string             `json:"tenantId"`
	HomeTenantID     *string            `json:"homeTenantId,omitempty"`
	ManagedByTenants *[]managedByTenant `json:"managedByTenants,omitempty"`
	CloudName        string             `json:"cloudName"`
}

func (a *account) listItem() accountListItem {
	return accountListItem{
		ID: a.ID, Name: a.Name, State: a.State, User: a.User, IsDefault: a.IsDefault, TenantID: a.TenantID,
		HomeTenantID:     a.HomeTenantID,
		ManagedByTenants: a.ManagedByTenants, CloudName: a.EnvironmentName,
	}
}

// profileDoc is azureProfile.json.
type profileDoc struct {
	InstallationID string     `json:"installationId,omitempty"`
	Subscriptions  []*account `json:"subscriptions"`
}

// spEntry is an item of service_principal_entries.json.
type spEntry struct {
	ClientID     string `json:"client_id"`
	Tenant       string `json:"tenant"`
	ClientSecret string `json:"client_secret,omitempty"`
}

// cachedToken is an item of the token cache.
type cachedToken struct {
	Tenant      string `json:"tenant"`
	ClientID    string `json:"clientId"`
	Resource    string `json:"resource"`
	AccessToken string `json:"accessToken"`
	ExpiresOn   int64  `json:"expiresOn"`
}

type tokenCacheDoc struct {
	Tokens []cachedToken `json:"tokens"`
}

// store reads and writes the files in the config dir.
type store struct {
	dir string
}

func (s *store) path(name string) string { return filepath.Join(s.dir, name) }

func (s *store) readJSON(name string, v any) (bool, error) {
	data, err := os.ReadFile(s.path(name))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	data = bytes.TrimPrefix(data, utf8BOM)
	if len(bytes.TrimSpace(data)) == 0 {
		return false, nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, fmt.Errorf("Failed to load %s: %w", s.path(name), err)
	}
	return true, nil
}

func (s *store) writeJSON(name string, v any, bom bool) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if bom {
		data = append(append([]byte{}, utf8BOM...), data...)
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return err
	}
	return writeFileAtomic(s.path(name), data, 0o600)
}

func (s *store) loadProfile() (*profileDoc, error) {
	p := &profileDoc{}
	if _, err := s.readJSON(profileFileName, p); err != nil {
		return nil, err
	}
	return p, nil
}

func (s *store) saveProfile(p *profileDoc) error {
	if p.InstallationID == "" {
		p.InstallationID = newUUID()
	}
	if p.Subscriptions == nil {
		p.Subscriptions = []*account{}
	}
	return s.writeJSON(profileFileName, p, true)
}

func (s *store) loadSPEntries() ([]spEntry, error) {
	var e []spEntry
	if _, err := s.readJSON(spEntriesFileName, &e); err != nil {
		return nil, err
	}
	return e, nil
}

func (s *store) saveSPEntries(e []spEntry) error {
	if e == nil {
		e = []spEntry{}
	}
	return s.writeJSON(spEntriesFileName, e, false)
}

// saveSPEntry replaces the entry for (client, tenant), as az's
// ServicePrincipalStore.save_entry does.
func (s *store) saveSPEntry(e spEntry) error {
	entries, err := s.loadSPEntries()
	if err != nil {
		return err
	}
	kept := entries[:0]
	for _, x := range entries {
		if !(x.ClientID == e.ClientID && x.Tenant == e.Tenant) {
			kept = append(kept, x)
		}
	}
	return s.saveSPEntries(append(kept, e))
}

// removeSPEntries drops every entry of a client id.
func (s *store) removeSPEntries(clientID string) error {
	entries, err := s.loadSPEntries()
	if err != nil {
		return err
	}
	kept := entries[:0]
	for _, x := range entries {
		if x.ClientID != clientID {
			kept = append(kept, x)
		}
	}
	if len(kept) == len(entries) {
		return nil
	}
	return s.saveSPEntries(kept)
}

// loadSPSecret finds the secret of a service principal, preferring the
// entry for tenant (az's ServicePrincipalStore.load_entry).
func (s *store) loadSPSecret(clientID, tenant string) (string, error) {
	entries, err := s.loadSPEntries()
	if err != nil {
		return "", err
	}
	var matched []spEntry
	for _, e := range entries {
		if e.ClientID == clientID {
			matched = append(matched, e)
		}
	}
	if len(matched) == 0 {
		return "", &cliError{msg: fmt.Sprintf("Could not retrieve credential from local cache for service principal %s. Run `az login` for this service principal.", clientID)}
	}
	for _, e := range matched {
		if e.Tenant == tenant {
			return e.ClientSecret, nil
		}
	}
	return matched[0].ClientSecret, nil
}

func (s *store) loadTokens() *tokenCacheDoc {
	d := &tokenCacheDoc{}
	if _, err := s.readJSON(tokenCacheFileName, d); err != nil {
		return &tokenCacheDoc{} // a broken cache is just empty
	}
	return d
}

func (s *store) saveTokens(d *tokenCacheDoc) error {
	if d.Tokens == nil {
		d.Tokens = []cachedToken{}
	}
	return s.writeJSON(tokenCacheFileName, d, false)
}

// removeTokens drops cached tokens of a client id (all clients if empty).
func (s *store) removeTokens(clientID string) error {
	d := s.loadTokens()
	kept := d.Tokens[:0]
	for _, t := range d.Tokens {
		if clientID != "" && t.ClientID != clientID {
			kept = append(kept, t)
		}
	}
	if len(kept) == len(d.Tokens) {
		return nil
	}
	d.Tokens = kept
	return s.saveTokens(d)
}

// ---- account logic (azure.cli.core._profile.Profile) ------------------------

// setSubscriptions merges new accounts into the profile and picks the
// default: the previous default if it is among the new ones, else the first
// Enabled new one (Profile._set_subscriptions).
func (p *profileDoc) setSubscriptions(newSubs []*account) {
	var active *account
	for _, s := range p.Subscriptions {
		if s.IsDefault {
			active = s
			break
		}
	}
	byID := map[string]int{}
	var merged []*account
	for _, s := range p.Subscriptions {
		byID[s.ID] = len(merged)
		merged = append(merged, s)
	}
	for _, s := range newSubs {
		if i, ok := byID[s.ID]; ok {
			merged[i] = s
		} else {
			byID[s.ID] = len(merged)
			merged = append(merged, s)
		}
	}
	if len(merged) > 0 && len(newSubs) > 0 {
		var newActive *account
		if active != nil {
			for _, s := range newSubs {
				if s.ID == active.ID {
					newActive = s
					break
				}
			}
			for _, s := range merged {
				s.IsDefault = false
			}
		}
		if newActive == nil {
			newActive = pickWorkingSubscription(newSubs)
		}
		newActive.IsDefault = true
	}
	p.Subscriptions = merged
}

func pickWorkingSubscription(subs []*account) *account {
	for _, s := range subs {
		if s.State == "Enabled" {
			return s
		}
	}
	return subs[0]
}

// getSubscription finds the default account, or the one named by id or name
// (Profile.get_subscription).
func (p *profileDoc) getSubscription(subscription string) (*account, error) {
	var subs []*account
	for _, s := range p.Subscriptions {
		if s.EnvironmentName == cloudName {
			subs = append(subs, s)
		}
	}
	if len(subs) == 0 {
		return nil, &cliError{msg: loginRequiredMessage}
	}
	var result []*account
	for _, s := range subs {
		if subscription == "" && s.IsDefault ||
			subscription != "" && (strings.EqualFold(s.ID, subscription) || strings.EqualFold(s.Name, subscription)) {
			result = append(result, s)
		}
	}
	switch {
	case len(result) == 0 && subscription != "":
		return nil, &cliError{msg: fmt.Sprintf("Subscription '%s' not found. Check the spelling and casing and try again.", subscription)}
	case len(result) == 0:
		return nil, &cliError{msg: "No subscription found. Run 'az account set' to select a subscription."}
	case len(result) > 1:
		return nil, &cliError{msg: fmt.Sprintf("Multiple subscriptions with the name '%s' found. Specify the subscription ID.", subscription)}
	}
	return result[0], nil
}

// setActive makes the account named by id or name the default
// (Profile.set_active_subscription).
func (p *profileDoc) setActive(subscription string) error {
	lower := strings.ToLower(subscription)
	var result []*account
	for _, s := range p.Subscriptions {
		if (strings.ToLower(s.ID) == lower || strings.ToLower(s.Name) == lower) && s.EnvironmentName == cloudName {
			result = append(result, s)
		}
	}
	if len(result) != 1 {
		what := "doesn't exist"
		if len(result) > 1 {
			what = "has more than one match"
		}
		return &cliError{msg: fmt.Sprintf("The subscription of '%s' %s in cloud '%s'.", lower, what, cloudName)}
	}
	for _, s := range p.Subscriptions {
		s.IsDefault = false
	}
	result[0].IsDefault = true
	return nil
}

// removeUser drops every account of a user or service principal.
func (p *profileDoc) removeUser(name string) {
	kept := p.Subscriptions[:0]
	for _, s := range p.Subscriptions {
		if !strings.EqualFold(s.User.Name, name) {
			kept = append(kept, s)
		}
	}
	p.Subscriptions = kept
}

// ---- files ------------------------------------------------------------------

// writeFileAtomic writes data to path through a temporary file in the same
// directory, fsynced and renamed over path, with mode perm.
func writeFileAtomic(path string, data []byte, perm os.FileMode) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if err = f.Chmod(perm); err != nil {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// tokenExpiry helps the cache: a token is reused until five minutes before
// it expires.
func tokenUsable(t cachedToken, now time.Time) bool {
	return t.AccessToken != "" && time.Unix(t.ExpiresOn, 0).Sub(now) > 5*time.Minute
}
