package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/cerulean/cerulean/internal/bootstrap"
	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/rbac"
	"github.com/cerulean/cerulean/internal/resource"
	"github.com/cerulean/cerulean/internal/resourceid"
)

// bootstrapName is the display name of the bootstrap Owner application.
const bootstrapName = "cerulean-bootstrap-owner"

// bootstrapSecretLifetime is how long the bootstrap secret lives.
const bootstrapSecretLifetime = 10 * 365 * 24 * time.Hour

// bootstrap makes sure the first tenant, its subscription and an Owner
// service principal exist, and that the credentials file in the data dir
// holds a working secret. The principal is found by the object id the file
// records — never by name, which anyone allowed to create applications could
// copy. Every step is idempotent: a start interrupted half-way finishes on
// the next one. If the file is gone (or names a principal that no longer
// exists) a new bootstrap principal is made; an old one keeps its role
// assignments until an operator removes them. With a shared store the
// store's record plays the file's part and every server's file is a copy
// of it, so the principal is made once, by the first server (New runs this
// under the store's "bootstrap" lock).
func (a *App) bootstrap(ctx context.Context) error {
	tenants, err := a.Identity.Tenants(ctx)
	if err != nil {
		return err
	}
	var tenant identity.Tenant
	if len(tenants) > 0 {
		tenant = tenants[0]
	} else if tenant, err = a.Identity.CreateTenant(ctx, identity.Tenant{DisplayName: "Cerulean"}); err != nil {
		return err
	}
	sub, err := a.ensureSubscription(ctx, tenant)
	if err != nil {
		return err
	}

	creds, where, loadErr, err := a.loadBootstrap(ctx)
	if err != nil {
		return err
	}
	switch {
	case loadErr == nil && creds.TenantID == tenant.ID:
		sp, err := a.Identity.ServicePrincipal(ctx, tenant.ID, creds.ObjectID)
		if err == nil && sp.AppID == creds.AppID {
			if err := a.ensureOwner(ctx, tenant, sub, sp); err != nil {
				return err
			}
			if _, err := a.Identity.Authenticate(ctx, tenant.ID, creds.AppID, creds.Password); err == nil {
				return a.keepBootstrap(ctx, creds, where)
			}
			return a.issueBootstrapSecret(ctx, tenant, sub, sp)
		}
		if err != nil && !errdefs.IsKind(err, errdefs.NotFound) {
			return err
		}
		a.logger.WarnContext(ctx, "bootstrap principal no longer exists; creating a new one", "path", where, "object_id", creds.ObjectID)
	case loadErr == nil:
		a.logger.WarnContext(ctx, "bootstrap credentials name another tenant; creating a new bootstrap principal", "path", where)
	case !errors.Is(loadErr, fs.ErrNotExist):
		a.logger.WarnContext(ctx, "bootstrap credentials unreadable; creating a new bootstrap principal", "path", where, "error", loadErr)
	}

	name := bootstrapName
	app, err := a.Identity.CreateApplication(ctx, tenant.ID, identity.ApplicationInput{DisplayName: &name})
	if err != nil {
		return err
	}
	sp, err := a.Identity.CreateServicePrincipal(ctx, tenant.ID, app.AppID, identity.ServicePrincipalInput{})
	if err != nil {
		return err
	}
	// The file is written before Owner is granted, so a crash in between
	// leaves a principal without rights rather than an unknown Owner.
	if err := a.issueBootstrapSecret(ctx, tenant, sub, sp); err != nil {
		return err
	}
	return a.ensureOwner(ctx, tenant, sub, sp)
}

// issueBootstrapSecret adds a secret to the bootstrap principal and
// records the credentials (saveBootstrap).
func (a *App) issueBootstrapSecret(ctx context.Context, tenant identity.Tenant, sub resource.Subscription, sp identity.ServicePrincipal) error {
	end := time.Now().Add(bootstrapSecretLifetime)
	_, secret, err := a.Identity.AddPassword(ctx, identity.OnServicePrincipal, tenant.ID, sp.ID, identity.PasswordInput{DisplayName: "bootstrap", End: &end})
	if err != nil {
		return err
	}
	return a.saveBootstrap(ctx, bootstrap.Credentials{
		TenantID: tenant.ID, TenantDomain: tenant.DefaultDomain, SubscriptionID: sub.ID, SubscriptionName: sub.DisplayName,
		AppID: sp.AppID, ObjectID: sp.ID, DisplayName: sp.DisplayName, Password: secret,
	})
}

// sharedBootstrap is where loadBootstrap says it found credentials in the
// shared store.
const sharedBootstrap = "shared store"

// loadBootstrap reads the bootstrap credentials: the data dir's file, or
// with a shared store the one record there that every server copies to
// its own file (the local CLI reads it), so every server's file works.
// Where no record is stored yet, the data dir's file is read, to be stored
// (keepBootstrap): a deployment that ran before the record existed keeps
// its bootstrap principal. loadErr means there are no usable credentials
// (a new principal is made); err fails the start, as a stored record that
// cannot be parsed does.
func (a *App) loadBootstrap(ctx context.Context) (creds bootstrap.Credentials, where string, loadErr, err error) {
	path := bootstrap.Path(a.cfg.DataDir)
	ss, shared := a.store.(sharedSecrets)
	if shared {
		data, err := ss.SharedSecret(ctx, secretBootstrap)
		switch {
		case err == nil:
			creds, err := bootstrap.Parse(data)
			if err != nil {
				return bootstrap.Credentials{}, "", nil, &unusableSecretError{name: secretBootstrap, err: err}
			}
			return creds, sharedBootstrap, nil, nil
		case !errdefs.IsKind(err, errdefs.NotFound):
			return bootstrap.Credentials{}, "", nil, fmt.Errorf("shared secret %q: %w", secretBootstrap, err)
		}
	}
	creds, loadErr = bootstrap.Load(path)
	return creds, path, loadErr, nil
}

// keepBootstrap keeps working credentials as they are: with a shared store
// it stores those read from the data dir (an upgrade) and brings this
// server's file up to date.
func (a *App) keepBootstrap(ctx context.Context, creds bootstrap.Credentials, where string) error {
	ss, shared := a.store.(sharedSecrets)
	if !shared {
		return nil
	}
	if where != sharedBootstrap {
		if err := ss.PutSharedSecret(ctx, secretBootstrap, bootstrap.Marshal(creds)); err != nil {
			return fmt.Errorf("shared secret %q: %w", secretBootstrap, err)
		}
		a.logger.InfoContext(ctx, "shared secret imported from the data dir", "secret", secretBootstrap, "path", where)
	}
	return a.writeBootstrapFile(ctx, creds)
}

// saveBootstrap records new credentials: in the data dir's file, and with
// a shared store first in the store (replacing what was there; the caller
// holds the bootstrap lock).
func (a *App) saveBootstrap(ctx context.Context, creds bootstrap.Credentials) error {
	if ss, shared := a.store.(sharedSecrets); shared {
		if err := ss.PutSharedSecret(ctx, secretBootstrap, bootstrap.Marshal(creds)); err != nil {
			return fmt.Errorf("shared secret %q: %w", secretBootstrap, err)
		}
		a.logger.InfoContext(ctx, "bootstrap credentials stored in the shared store", "tenant_id", creds.TenantID, "app_id", creds.AppID)
	}
	return a.writeBootstrapFile(ctx, creds)
}

// writeBootstrapFile writes the data dir's credentials file unless it
// holds creds already.
func (a *App) writeBootstrapFile(ctx context.Context, creds bootstrap.Credentials) error {
	path := bootstrap.Path(a.cfg.DataDir)
	if have, err := bootstrap.Load(path); err == nil && have == creds {
		return nil
	}
	if err := bootstrap.Save(path, creds); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	a.logger.InfoContext(ctx, "bootstrap credentials written", "path", path, "tenant_id", creds.TenantID,
		"subscription_id", creds.SubscriptionID, "app_id", creds.AppID)
	return nil
}

// ensureOwner gives the bootstrap principal Owner at the subscription.
func (a *App) ensureOwner(ctx context.Context, tenant identity.Tenant, sub resource.Subscription, sp identity.ServicePrincipal) error {
	scope := resourceid.ForSubscription(sub.ID)
	assignments, err := a.RBAC.List(ctx, scope, rbac.ListFilter{AtScope: true, PrincipalID: sp.ID})
	if err != nil {
		return err
	}
	if slices.ContainsFunc(assignments, func(ra rbac.RoleAssignment) bool {
		return ra.RoleDefinitionID == rbac.OwnerID && ra.Scope.Equal(scope)
	}) {
		return nil
	}
	_, _, err = a.RBAC.Create(ctx, rbac.CreateInput{
		TenantID: tenant.ID, Scope: scope, Name: uuid.NewString(),
		RoleDefinitionID: rbac.OwnerID, PrincipalID: sp.ID, CreatedBy: sp.ID,
	})
	if err != nil {
		return fmt.Errorf("owner role assignment: %w", err)
	}
	return nil
}

func (a *App) ensureSubscription(ctx context.Context, tenant identity.Tenant) (resource.Subscription, error) {
	subs, err := a.Resources.Subscriptions(ctx)
	if err != nil {
		return resource.Subscription{}, err
	}
	for _, s := range subs {
		if s.TenantID == tenant.ID {
			return s, nil
		}
	}
	return a.Resources.CreateSubscription(ctx, resource.Subscription{ID: uuid.NewString(), DisplayName: "Cerulean Subscription", TenantID: tenant.ID})
}
