package acrtoken_test

import (
	"net/http"
	"reflect"
	"testing"

	"github.com/cerulean/cerulean/internal/rbac"
	"github.com/cerulean/cerulean/internal/registry"
	"github.com/cerulean/cerulean/internal/resourceid"
	"github.com/cerulean/cerulean/internal/server/acrtoken"
)

// Every action a repository scope can ask for, and the catalog.
const (
	allRepoActions = "repository:app:pull,push,delete,metadata_read,metadata_write"
	catalogScope   = "registry:catalog:*"
)

func repo(actions ...string) acrtoken.Scope {
	return acrtoken.Scope{Type: "repository", Name: "app", Actions: actions}
}

var catalogGrant = acrtoken.Scope{Type: "registry", Name: "catalog", Actions: []string{"*"}}

// TestGrantRules checks the classic-mode mapping from RBAC to token
// actions for every built-in role that matters, assigned at the registry,
// its group and its subscription, through GET /oauth2/token with a
// service principal's secret.
func TestGrantRules(t *testing.T) {
	e := newEnv(t)
	reg := e.newRegistry("rulesreg")
	pullAll := []acrtoken.Scope{repo("pull", "metadata_read"), catalogGrant}
	everything := []acrtoken.Scope{repo("pull", "push", "delete", "metadata_read", "metadata_write"), catalogGrant}
	roles := []struct {
		name, id string
		want     []acrtoken.Scope
		star     []string // what "repository:app:*" yields
	}{
		{"AcrPull", rbac.AcrPullID, pullAll, []string{"pull", "metadata_read"}},
		{"AcrPush", rbac.AcrPushID, []acrtoken.Scope{repo("pull", "push", "metadata_read", "metadata_write"), catalogGrant}, []string{"pull", "metadata_read", "push", "metadata_write"}},
		{"AcrDelete", rbac.AcrDeleteID, []acrtoken.Scope{repo("delete")}, []string{"delete"}},
		{"Reader", rbac.ReaderID, pullAll, []string{"pull", "metadata_read"}},
		{"Owner", rbac.OwnerID, everything, []string{"*"}},
		{"Contributor", rbac.ContributorID, everything, []string{"*"}},
		{"AcrImageSigner", rbac.AcrImageSignerID, nil, nil},
		{"none", "", nil, nil},
	}
	scopes := []struct {
		name string
		id   resourceid.ID
	}{{"registry", reg.ID}, {"group", groupScope(reg)}, {"subscription", e.SubscriptionScope()}}
	for _, role := range roles {
		for _, sc := range scopes {
			t.Run(role.name+"@"+sc.name, func(t *testing.T) {
				p := e.principal(role.name+"-"+sc.name, role.id, sc.id)
				got := e.mustAccess(e.basicToken(reg, p.App.AppID, p.Secret, allRepoActions, catalogScope))
				if !reflect.DeepEqual(got, role.want) && !(len(got) == 0 && len(role.want) == 0) {
					t.Errorf("access = %+v, want %+v", got, role.want)
				}
				got = e.mustAccess(e.basicToken(reg, p.App.AppID, p.Secret, "repository:app:*"))
				var want []acrtoken.Scope
				if role.star != nil {
					want = []acrtoken.Scope{repo(role.star...)}
				}
				if !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
					t.Errorf("access for * = %+v, want %+v", got, want)
				}
			})
		}
	}
}

// TestGrantScopeBoundaries checks that an assignment on another registry
// or another group gives nothing here.
func TestGrantScopeBoundaries(t *testing.T) {
	e := newEnv(t)
	reg := e.newRegistry("herereg")
	other := e.newRegistry("therereg")
	elsewhere := e.newRegistry("elsereg", func(r *registry.Registry) {
		r.ID = resourceid.ForResource(e.Subscription.ID, "rg2", "Microsoft.ContainerRegistry", "registries", "elsereg")
	})
	onOther := e.principal("on-other", rbac.AcrPushID, other.ID)
	onGroup2 := e.principal("on-group2", rbac.OwnerID, resourceid.ForResourceGroup(e.Subscription.ID, "rg2"))
	for _, p := range [...]struct {
		name string
		reg  registry.Registry
		who  string
		sec  string
		want int
	}{
		{"other registry's role here", reg, onOther.App.AppID, onOther.Secret, 0},
		{"other registry's role there", other, onOther.App.AppID, onOther.Secret, 2},
		{"other group's role here", reg, onGroup2.App.AppID, onGroup2.Secret, 0},
		{"other group's role there", elsewhere, onGroup2.App.AppID, onGroup2.Secret, 2},
	} {
		got := e.mustAccess(e.basicToken(p.reg, p.who, p.sec, allRepoActions, catalogScope))
		if len(got) != p.want {
			t.Errorf("%s: access = %+v, want %d scopes", p.name, got, p.want)
		}
	}
}

// TestGrantIntersection checks that a grant is the intersection of the
// request and the role: unknown actions and resource types are dropped,
// scopes naming one resource are merged, nothing asked means nothing
// granted, and asking too much is never an error.
func TestGrantIntersection(t *testing.T) {
	e := newEnv(t)
	reg := e.newRegistry("interreg")
	p := e.principal("pusher", rbac.AcrPushID, reg.ID)
	tests := []struct {
		scopes []string
		want   []acrtoken.Scope
	}{
		{nil, nil},
		{[]string{"repository:app:pull"}, []acrtoken.Scope{repo("pull")}},
		{[]string{"repository:app:pull,delete,bogus"}, []acrtoken.Scope{repo("pull")}},
		{[]string{"repository:app:delete"}, nil},
		{[]string{"repository:app:pull", "repository:app:push"}, []acrtoken.Scope{repo("pull", "push")}},
		{[]string{"artifact-repository:app:pull", "registry:other:*", "repository(plugin):app:pull"}, nil},
		{[]string{"registry:catalog:*", "repository:a/b/c:pull", "repository:localhost:5000/x:push"}, []acrtoken.Scope{
			catalogGrant,
			{Type: "repository", Name: "a/b/c", Actions: []string{"pull"}},
			{Type: "repository", Name: "localhost:5000/x", Actions: []string{"push"}},
		}},
	}
	for _, tt := range tests {
		rep := e.basicToken(reg, p.App.AppID, p.Secret, tt.scopes...)
		got := e.mustAccess(rep)
		if !reflect.DeepEqual(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
			t.Errorf("%q: access = %+v, want %+v", tt.scopes, got, tt.want)
		}
		if c := claimsOf(t, rep.token().AccessToken); c["access"] == nil {
			t.Errorf("%q: access claim missing; an empty grant is written as []", tt.scopes)
		}
	}
}

// TestGrantLimits checks the bounds on what one request may name.
func TestGrantLimits(t *testing.T) {
	e := newEnv(t)
	reg := e.newRegistry("limitreg")
	p := e.principal("owner", rbac.OwnerID, reg.ID)
	var many []string
	for i := range 65 {
		many = append(many, "repository:r"+string(rune('a'+i/26))+string(rune('a'+i%26))+":pull")
	}
	if rep := e.basicToken(reg, p.App.AppID, p.Secret, many...); rep.status != http.StatusBadRequest || rep.errorCode() != "UNSUPPORTED" {
		t.Errorf("65 resources: %d %s", rep.status, rep.body)
	}
	if got := e.mustAccess(e.basicToken(reg, p.App.AppID, p.Secret, many[:64]...)); len(got) != 64 {
		t.Errorf("64 resources: %d granted", len(got))
	}
	long := make([]byte, 300)
	for i := range long {
		long[i] = 'a'
	}
	if got := e.mustAccess(e.basicToken(reg, p.App.AppID, p.Secret, "repository:"+string(long)+":pull")); len(got) != 0 {
		t.Errorf("a 300-character name was granted: %+v", got)
	}
}
