package pgstore

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/identity"
)

// The identity service checks that names are unique in a tenant before it
// writes (identity/unique.go), in reads separate from the write; here the
// same rules hold inside the write itself, so that two servers (or two
// requests) claiming one name cannot both succeed. Identifier URIs and
// service principal names have rows under unique keys; the rule that
// crosses the two (a service principal may not take another application's
// app id or identifier URI, an application may not take a name another
// application's service principal holds) is checked in the transaction,
// which the write lock keeps from racing.

var (
	errURITaken = identity.ErrObjectConflict.
			WithMessage("Another object with the same value for property identifierUris already exists.").
			WithTarget("identifierUris")
	errSPNTaken = identity.ErrObjectConflict.
			WithMessage("Another object with the same value for property servicePrincipalNames already exists.").
			WithTarget("servicePrincipalNames")
)

// distinctKeys lower-cases v and drops repeats, keeping the first.
func distinctKeys(v []string) []string {
	out := make([]string, 0, len(v))
	for _, s := range v {
		if k := strings.ToLower(s); !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// jsonList encodes a list as the JSON argument the queries expand.
func jsonList(v []string) string {
	b, _ := json.Marshal(v) // cannot fail for []string
	return string(b)
}

// putIdentifierURIs replaces the application's claimed identifier URIs.
func putIdentifierURIs(ctx context.Context, tx querier, tenantKey, appIDKey, idKey string, uris []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM application_identifier_uris WHERE app_key = ?`, idKey); err != nil {
		return errdefs.Internalf(err, "store: delete identifier uris")
	}
	keys := distinctKeys(uris)
	if len(keys) == 0 {
		return nil
	}
	var taken bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM service_principal_names AS n
		JOIN service_principals AS s ON s.id_key = n.sp_key
		WHERE n.tenant_key = ? AND s.app_id_key <> ? AND n.name_key IN (SELECT jsonb_array_elements_text(?::jsonb)))`,
		tenantKey, appIDKey, jsonList(keys)).Scan(&taken); err != nil {
		return errdefs.Internalf(err, "store: check identifier uris")
	}
	if taken {
		return errURITaken
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO application_identifier_uris (tenant_key, uri_key, app_key)
		SELECT ?::text, u, ?::text FROM jsonb_array_elements_text(?::jsonb) AS u`, tenantKey, idKey, jsonList(keys))
	switch {
	case isUnique(err):
		return errURITaken
	case err != nil:
		return errdefs.Internalf(err, "store: insert identifier uris")
	}
	return nil
}

// putServicePrincipalNames replaces the service principal's claimed names.
func putServicePrincipalNames(ctx context.Context, tx querier, tenantKey, appIDKey, idKey string, names []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM service_principal_names WHERE sp_key = ?`, idKey); err != nil {
		return errdefs.Internalf(err, "store: delete service principal names")
	}
	keys := distinctKeys(names)
	if len(keys) == 0 {
		return nil
	}
	var taken bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM applications AS a
		WHERE a.tenant_key = ? AND a.app_id_key <> ? AND (a.app_id_key IN (SELECT jsonb_array_elements_text(?::jsonb))
			OR EXISTS (SELECT 1 FROM application_identifier_uris AS u
				WHERE u.app_key = a.id_key AND u.uri_key IN (SELECT jsonb_array_elements_text(?::jsonb)))))`,
		tenantKey, appIDKey, jsonList(keys), jsonList(keys)).Scan(&taken); err != nil {
		return errdefs.Internalf(err, "store: check service principal names")
	}
	if taken {
		return errSPNTaken
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO service_principal_names (tenant_key, name_key, sp_key)
		SELECT ?::text, n, ?::text FROM jsonb_array_elements_text(?::jsonb) AS n`, tenantKey, idKey, jsonList(keys))
	switch {
	case isUnique(err):
		return errSPNTaken
	case err != nil:
		return errdefs.Internalf(err, "store: insert service principal names")
	}
	return nil
}
