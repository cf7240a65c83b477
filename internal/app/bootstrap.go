package app

import (
	"context"
	"fmt"
	"os"
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
// holds a working secret. Every step is idempotent, so a start interrupted
// half-way finishes the job on the next start, and a deleted credentials
// file is re-issued.
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
	app, err := a.ensureApplication(ctx, tenant)
	if err != nil {
		return err
	}
	sp, err := a.Identity.ServicePrincipalByAppID(ctx, tenant.ID, app.AppID)
	if errdefs.IsKind(err, errdefs.NotFound) {
		sp, err = a.Identity.CreateServicePrincipal(ctx, tenant.ID, app.AppID, identity.ServicePrincipalInput{})
	}
	if err != nil {
		return err
	}
	scope := resourceid.ForSubscription(sub.ID)
	assignments, err := a.RBAC.List(ctx, scope, rbac.ListFilter{AtScope: true, PrincipalID: sp.ID})
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(assignments, func(ra rbac.RoleAssignment) bool {
		return ra.RoleDefinitionID == rbac.OwnerID && ra.Scope.Equal(scope)
	}) {
		_, _, err := a.RBAC.Create(ctx, rbac.CreateInput{
			TenantID: tenant.ID, Scope: scope, Name: uuid.NewString(),
			RoleDefinitionID: rbac.OwnerID, PrincipalID: sp.ID, CreatedBy: sp.ID,
		})
		if err != nil {
			return fmt.Errorf("owner role assignment: %w", err)
		}
	}

	path := bootstrap.Path(a.cfg.DataDir)
	if creds, err := bootstrap.Load(path); err == nil && creds.AppID == app.AppID {
		if _, err := a.Identity.Authenticate(ctx, tenant.ID, creds.AppID, creds.Password); err == nil {
			return nil
		}
	} else if err != nil && !os.IsNotExist(err) {
		a.logger.WarnContext(ctx, "bootstrap credentials unreadable; issuing new ones", "path", path, "error", err)
	}
	end := time.Now().Add(bootstrapSecretLifetime)
	_, secret, err := a.Identity.AddPassword(ctx, identity.OnServicePrincipal, tenant.ID, sp.ID, identity.PasswordInput{DisplayName: "bootstrap", End: &end})
	if err != nil {
		return err
	}
	if err := bootstrap.Save(path, bootstrap.Credentials{
		TenantID: tenant.ID, TenantDomain: tenant.DefaultDomain, SubscriptionID: sub.ID, SubscriptionName: sub.DisplayName,
		AppID: app.AppID, ObjectID: sp.ID, DisplayName: sp.DisplayName, Password: secret,
	}); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	a.logger.InfoContext(ctx, "bootstrap credentials written", "path", path, "tenant_id", tenant.ID, "subscription_id", sub.ID, "app_id", app.AppID)
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

func (a *App) ensureApplication(ctx context.Context, tenant identity.Tenant) (identity.Application, error) {
	apps, err := a.Identity.Applications(ctx, tenant.ID, identity.Filter{DisplayName: bootstrapName})
	if err != nil {
		return identity.Application{}, err
	}
	if len(apps) > 0 {
		return apps[0], nil
	}
	name := bootstrapName
	return a.Identity.CreateApplication(ctx, tenant.ID, identity.ApplicationInput{DisplayName: &name})
}
