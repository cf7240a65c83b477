package cli

import (
	"bufio"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/cerulean/cerulean/internal/client"
)

// session is what a command needs to call the server as the logged-in
// account: the account, a token source backed by the on-disk cache, and the
// client.
type session struct {
	account *account
	client  *client.Client
	tokens  client.TokenSource
}

func (s *session) arm() *client.ARM     { return s.client.ARM(s.tokens) }
func (s *session) graph() *client.Graph { return s.client.Graph(s.tokens) }

// subscriptionID is the account's subscription id.
func (s *session) subscriptionID() string { return s.account.ID }

// tenant is the account's tenant (graph_client.tenant in az).
func (s *session) tenant() string { return s.account.TenantID }

// session opens a session for the account named by subscription (id or
// name), or for the default account when it is empty.
func (i *inv) session(subscription string) (*session, error) {
	st, err := i.app.store()
	if err != nil {
		return nil, err
	}
	prof, err := st.loadProfile()
	if err != nil {
		return nil, err
	}
	acct, err := prof.getSubscription(subscription)
	if err != nil {
		return nil, err
	}
	return i.app.sessionFor(st, acct)
}

// armSession opens a session for the command's --subscription.
func (i *inv) armSession() (*session, error) {
	return i.session(i.args.str("_subscription"))
}

func (a *app) sessionFor(st *store, acct *account) (*session, error) {
	if acct.User.Type != userTypeSP {
		return nil, errorf("The account '%s' is a user account; Cerulean supports service principals only. Run 'az login'.", acct.User.Name)
	}
	secret, err := st.loadSPSecret(acct.User.Name, acct.TenantID)
	if err != nil {
		return nil, err
	}
	c, err := a.newClient()
	if err != nil {
		return nil, err
	}
	ts := &diskTokenSource{
		store: st, client: c, now: a.now, log: a.log,
		tenant: acct.TenantID, clientID: acct.User.Name, secret: secret,
	}
	return &session{account: acct, client: c, tokens: ts}, nil
}

// diskTokenSource gets client-credentials tokens and keeps them in the
// token cache file, keyed by tenant, client and resource.
type diskTokenSource struct {
	store    *store
	client   *client.Client
	now      func() time.Time
	log      *logger
	tenant   string
	clientID string
	secret   string
}

func (d *diskTokenSource) Token(ctx context.Context, resource string) (client.Token, error) {
	cache := d.store.loadTokens()
	now := d.now()
	for _, t := range cache.Tokens {
		if t.Tenant == d.tenant && t.ClientID == d.clientID && t.Resource == resource && tokenUsable(t, now) {
			return client.Token{AccessToken: t.AccessToken, TokenType: "Bearer", ExpiresOn: time.Unix(t.ExpiresOn, 0)}, nil
		}
	}
	tok, err := d.client.ClientCredentialsToken(ctx, d.tenant, d.clientID, d.secret, resource)
	if err != nil {
		return client.Token{}, err
	}
	// Reload: another az process may have written meanwhile.
	cache = d.store.loadTokens()
	kept := cache.Tokens[:0]
	for _, t := range cache.Tokens {
		if !(t.Tenant == d.tenant && t.ClientID == d.clientID && t.Resource == resource) && tokenUsable(t, now) {
			kept = append(kept, t)
		}
	}
	cache.Tokens = append(kept, cachedToken{
		Tenant: d.tenant, ClientID: d.clientID, Resource: resource,
		AccessToken: tok.AccessToken, ExpiresOn: tok.ExpiresOn.Unix(),
	})
	if err := d.store.saveTokens(cache); err != nil {
		d.log.debugf(logCore, "Failed to save the token cache: %v", err)
	}
	return tok, nil
}

// promptYN is knack's prompt_y_n: it asks on stdout and reads a line from
// stdin until the answer is y or n (or empty with a default).
func (a *app) promptYN(msg, def string) (bool, error) {
	y, n := "y", "n"
	switch def {
	case "y":
		y = "Y"
	case "n":
		n = "N"
	}
	r := bufio.NewReader(a.stdin)
	for {
		fmt.Fprintf(a.stdout, "%s (%s/%s): ", msg, y, n)
		line, err := r.ReadString('\n')
		ans := strings.TrimSpace(line)
		switch {
		case strings.EqualFold(ans, "n"):
			return false, nil
		case strings.EqualFold(ans, "y"):
			return true, nil
		case ans == "" && def != "":
			return def == "y", nil
		}
		if err != nil {
			return false, errCancelled
		}
	}
}
