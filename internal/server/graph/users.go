package graph

import (
	"net/http"
	"strings"

	"github.com/cerulean/cerulean/api/graph"
)

// Cerulean's directory holds applications and service principals, and no
// users: every caller signs in as a service principal. The users routes
// answer as Graph does in a tenant without users, so that clients that
// look a name up as a user first (az role assignment create --assignee
// user@example.com, az ad user show) go on, or fail, as they do on Azure:
// a list, with any valid $filter, is empty; a user addressed by id or
// userPrincipalName does not exist. The route's permission is checked
// first, as Graph checks the caller's app roles before it looks.

func (h *handler) listUsers(w http.ResponseWriter, r *http.Request, _ target) error {
	if _, err := parseListOptions(r, users); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, graph.List[struct{}]{Context: baseURL(r) + "/$metadata#users", Value: []struct{}{}})
	return nil
}

// userNotFound answers every request addressed to one user: GET, PATCH,
// DELETE and getMemberGroups.
func (h *handler) userNotFound(_ http.ResponseWriter, _ *http.Request, t target) error {
	return errUserNotFound.WithMessage("Resource '%s' does not exist or one of its queried reference-property objects are not present.", truncate(t.key)).
		WithTarget(truncate(t.key))
}

// userFilterOps are the user properties Cerulean accepts in a $filter and
// how each may be compared: the string properties Graph lets a filter test
// with eq and startswith, its string collections with any(), and id with
// eq alone.
var userFilterOps = map[string][]string{
	"id":                       {opEq},
	"userprincipalname":        {opEq, opStartsWith},
	"mail":                     {opEq, opStartsWith},
	"displayname":              {opEq, opStartsWith},
	"mailnickname":             {opEq, opStartsWith},
	"givenname":                {opEq, opStartsWith},
	"surname":                  {opEq, opStartsWith},
	"jobtitle":                 {opEq, opStartsWith},
	"department":               {opEq, opStartsWith},
	"employeeid":               {opEq, opStartsWith},
	"onpremisessamaccountname": {opEq, opStartsWith},
	"othermails":               {opAny},
	"proxyaddresses":           {opAny},
	"imaddresses":              {opAny},
}

// checkUserFilter validates a users $filter. Clauses may be joined by "or"
// as well as "and" (az's synapse module asks for "userPrincipalName eq 'x'
// or mail eq 'x' or displayName eq 'x'"): no user matches either way.
func checkUserFilter(s string) error {
	clauses, err := parseFilterValidOnly(s)
	if err != nil {
		return filterParseError(s, err)
	}
	for _, c := range clauses {
		if !containsString(userFilterOps[strings.ToLower(c.prop)], c.op) {
			return unsupportedFilterProperty(c.prop, users)
		}
	}
	return nil
}
