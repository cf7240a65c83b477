package graph

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/cerulean/cerulean/internal/identity"
)

// Paging limits: Graph's default page of directory objects is 100 and
// $top may ask for 1 to 999.
const (
	defaultPageSize = 100
	maxPageSize     = 999
	maxSkip         = 1 << 20
)

// listOptions are a list request's parsed query options.
type listOptions struct {
	listFilter
	top  int
	skip int
}

// listFilter is a parsed $filter.
type listFilter struct {
	filter identity.Filter
	none   bool // the filter can match nothing (contradictory or empty equality)
	// identifierURIs, when set, keeps the applications whose identifierUris
	// hold every one of them (az resolves `--id http://…` so).
	// identity.Filter has no such field, so it is applied to the store's
	// result.
	identifierURIs []string
	// servicePrincipalNames are the names of further
	// servicePrincipalNames/any(…) clauses beyond the first (which goes to
	// the store as filter.ServicePrincipalName): a service principal must
	// hold every one. Applied to the store's result.
	servicePrincipalNames []string
}

// unsupportedOptions are OData system query options Cerulean refuses
// rather than silently ignoring ($select is ignored: every property is
// returned).
var unsupportedOptions = []string{"orderby", "expand", "search", "count", "format", "levels", "apply", "compute"}

// parseListOptions reads $filter, $top and $skiptoken (the "$" is optional,
// as on Graph). Values are decoded with url.ParseQuery, so "%2B" is a plus
// sign and a raw "+" a space, as in any form-encoded query.
func parseListOptions(r *http.Request, set entitySet) (listOptions, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return listOptions{}, errInvalidQuery.WithMessage("The query string is not valid.")
	}
	opt := listOptions{top: defaultPageSize}
	get := func(name string) (string, bool, error) {
		vals := slices.Concat(q["$"+name], q[name])
		switch len(vals) {
		case 0:
			return "", false, nil
		case 1:
			return vals[0], true, nil
		}
		return "", false, errDuplicateOption.WithMessage("Query option '%s' was specified more than once, but it must be specified at most once.",
			strings.ToUpper(name[:1])+name[1:])
	}
	for _, name := range unsupportedOptions {
		if _, ok, _ := get(name); ok {
			return listOptions{}, errUnsupportedQuery.WithMessage("Cerulean does not support the query option '$%s'.", name)
		}
	}
	if v, ok, err := get("filter"); err != nil {
		return listOptions{}, err
	} else if ok {
		if opt.listFilter, err = buildFilter(v, set); err != nil {
			return listOptions{}, err
		}
	}
	if v, ok, err := get("top"); err != nil {
		return listOptions{}, err
	} else if ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			return listOptions{}, errInvalidQuery.WithMessage("Invalid page size specified: '%s'. Must be between 1 and %d inclusive.", truncate(v), maxPageSize)
		}
		opt.top = n
	}
	if v, ok, err := get("skiptoken"); err != nil {
		return listOptions{}, err
	} else if ok {
		if opt.skip, err = decodeSkipToken(v); err != nil {
			return listOptions{}, err
		}
	}
	if _, _, err := get("select"); err != nil {
		return listOptions{}, err
	}
	return opt, nil
}

// filterResource names an entity set's type in filter errors.
var filterResource = map[entitySet]string{applications: "Application", servicePrincipals: "ServicePrincipal", users: "User"}

// buildFilter parses a $filter and turns it into an identity.Filter for the
// set, noting a filter that can match nothing.
func buildFilter(s string, set entitySet) (listFilter, error) {
	if set == users {
		return listFilter{none: true}, checkUserFilter(s)
	}
	clauses, err := parseFilter(s)
	if err != nil {
		return listFilter{}, filterParseError(s, err)
	}
	var f identity.Filter
	var uris, spns []string
	none := false
	// eq sets a field that an equality pins; two different values for
	// the same field, or an empty one, can match nothing.
	eq := func(field *string, v string) {
		if v == "" || *field != "" && !strings.EqualFold(*field, v) {
			none = true
		}
		*field = v
	}
	for _, c := range clauses {
		prop := strings.ToLower(c.prop)
		switch {
		case prop == "displayname" && c.op == opEq:
			eq(&f.DisplayName, c.value)
		case prop == "displayname" && c.op == opStartsWith:
			f.DisplayNamePrefix = narrowPrefix(f.DisplayNamePrefix, c.value, &none)
		case prop == "appid" && c.op == opEq:
			eq(&f.AppID, c.value)
		case prop == "id" && c.op == opEq:
			var id string
			if len(f.IDs) > 0 {
				id = f.IDs[0]
			}
			eq(&id, c.value)
			f.IDs = []string{id}
		// Each any() clause asks for one more value in the collection, so
		// two different ones are not a contradiction: the object must hold
		// both.
		case prop == "serviceprincipalnames" && c.op == opAny && set == servicePrincipals:
			spns = addValue(spns, c.value, &none)
		case prop == "identifieruris" && c.op == opAny && set == applications:
			uris = addValue(uris, c.value, &none)
		default:
			return listFilter{}, unsupportedFilterProperty(c.prop, set)
		}
	}
	lf := listFilter{filter: f, none: none, identifierURIs: uris}
	if len(spns) > 0 {
		lf.filter.ServicePrincipalName, lf.servicePrincipalNames = spns[0], spns[1:]
	}
	return lf, nil
}

// filterParseError is Graph's error for a $filter the parser refuses.
func filterParseError(s string, err error) error {
	var fe *filterError
	if errors.As(err, &fe) && fe.unsupported {
		return errUnsupportedQuery.WithMessage("Unsupported query: %s.", fe.what)
	}
	pos := 0
	if fe != nil {
		pos = fe.pos
	}
	return errInvalidFilter.WithMessage("Invalid filter clause: Syntax error at position %d in '%s'.", pos, truncate(s))
}

// unsupportedFilterProperty is Graph's error for a clause on a property
// the set cannot be filtered by (that way).
func unsupportedFilterProperty(prop string, set entitySet) error {
	return errUnsupportedQuery.WithMessage("Unsupported or invalid query filter clause specified for property '%s' of resource '%s'.",
		truncate(prop), filterResource[set])
}

// addValue adds v to the values an any() clause requires, once
// (case-insensitively); an empty value can match nothing.
func addValue(vals []string, v string, none *bool) []string {
	if v == "" {
		*none = true
	}
	if slices.ContainsFunc(vals, func(x string) bool { return strings.EqualFold(x, v) }) {
		return vals
	}
	return append(vals, v)
}

// holdsAll reports whether list holds every one of want, case-insensitively.
func holdsAll(list, want []string) bool {
	for _, w := range want {
		if !slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, w) }) {
			return false
		}
	}
	return true
}

// keepIdentifierURIs keeps the applications whose identifierUris hold
// every one of uris (all of them when uris is empty).
func keepIdentifierURIs(apps []identity.Application, uris []string) []identity.Application {
	if len(uris) == 0 {
		return apps
	}
	return slices.DeleteFunc(apps, func(a identity.Application) bool { return !holdsAll(a.IdentifierURIs, uris) })
}

// keepServicePrincipalNames keeps the service principals whose
// servicePrincipalNames hold every one of names (all of them when names is
// empty).
func keepServicePrincipalNames(sps []identity.ServicePrincipal, names []string) []identity.ServicePrincipal {
	if len(names) == 0 {
		return sps
	}
	return slices.DeleteFunc(sps, func(sp identity.ServicePrincipal) bool { return !holdsAll(sp.ServicePrincipalNames, names) })
}

// narrowPrefix combines two startswith clauses: the longer prefix when one
// extends the other, else nothing can match.
func narrowPrefix(cur, next string, none *bool) string {
	lc, ln := strings.ToLower(cur), strings.ToLower(next)
	switch {
	case strings.HasPrefix(ln, lc):
		return next
	case strings.HasPrefix(lc, ln):
		return cur
	}
	*none = true
	return next
}

// page cuts one page out of a full result and tells whether more follow.
func page[T any](all []T, opt listOptions) ([]T, bool) {
	if opt.skip >= len(all) {
		return []T{}, false
	}
	end := min(opt.skip+opt.top, len(all))
	return all[opt.skip:end], end < len(all)
}

// nextLink is the URL of the page after this one: the request's own query
// (as the client encoded it) with the $skiptoken replaced.
func nextLink(r *http.Request, opt listOptions) string {
	var parts []string
	for _, p := range strings.Split(r.URL.RawQuery, "&") {
		if p == "" {
			continue
		}
		k, _, _ := strings.Cut(p, "=")
		if key, err := url.QueryUnescape(k); err == nil && (key == "$skiptoken" || key == "skiptoken") {
			continue
		}
		parts = append(parts, p)
	}
	parts = append(parts, "$skiptoken="+encodeSkipToken(opt.skip+opt.top))
	return baseURL(r) + strings.TrimPrefix(r.URL.Path, "/v1.0") + "?" + strings.Join(parts, "&")
}

// Skip tokens are opaque to clients; Cerulean's encode an offset.
const skipTokenPrefix = "cerulean:"

func encodeSkipToken(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(skipTokenPrefix + strconv.Itoa(offset)))
}

func decodeSkipToken(tok string) (int, error) {
	bad := errInvalidQuery.WithMessage("The $skiptoken value is not valid.")
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, bad
	}
	s, ok := strings.CutPrefix(string(raw), skipTokenPrefix)
	if !ok {
		return 0, bad
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > maxSkip {
		return 0, bad
	}
	return n, nil
}
