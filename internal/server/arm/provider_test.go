package arm

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cerulean/cerulean/internal/rbac"
	"github.com/cerulean/cerulean/internal/resource"
	"github.com/cerulean/cerulean/internal/resourceid"
	"github.com/cerulean/cerulean/internal/server"
)

// echo answers with what the router gave the handler.
func echo(ctx context.Context, w http.ResponseWriter, c *Call) error {
	server.WriteJSON(w, http.StatusOK, map[string]string{
		"scope": c.Scope.String(), "target": c.Target.String(), "name": c.Name, "action": c.Action,
	})
	return nil
}

// TestPluggedProvider registers a tracked type, a nested type and an
// action the way the registry and container-group providers will, and
// checks routing, authorization at the item and parent existence.
func TestPluggedProvider(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const ns = "Microsoft.ContainerRegistry"
	types := []ResourceType{
		{
			Namespace: ns, Type: "registries",
			Item: Methods{
				http.MethodGet: {Action: ns + "/registries/read", Auth: CheckAction, Serve: echo},
				http.MethodPut: {Action: ns + "/registries/write", Auth: CheckAction, Serve: echo},
			},
			Collection: Methods{http.MethodGet: {Action: ns + "/registries/read", Auth: FilterItems, Serve: echo}},
			Actions:    map[string]Op{"listCredentials": {Action: ns + "/registries/listCredentials/action", Auth: CheckAction, Serve: echo}},
		},
		{
			Namespace: ns, Type: "registries/replications",
			Item:       Methods{http.MethodGet: {Action: ns + "/registries/replications/read", Auth: CheckAction, Serve: echo}},
			Collection: Methods{http.MethodGet: {Action: ns + "/registries/replications/read", Auth: CheckAction, Serve: echo}},
		},
	}
	h := server.Middleware(nilLogger(), New(Config{Identity: e.Identity, RBAC: e.RBAC, Resources: e.Resources, Types: types}))
	rg := e.group(t, "rg1")
	reg := resourceid.ForResource(e.Subscription.ID, "rg1", ns, "registries", "reg1")
	if err := e.Store.PutGenericResource(ctx, resource.Generic{ID: reg, Location: "eastus", CreatedAt: time.Now(), ChangedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	pull := e.newActor(t, "pull", grant{rbac.AcrPullID, reg})
	reader := e.newActor(t, "reader", grant{rbac.ReaderID, reg})
	sub := e.subPath()
	regPath := rg.String() + "/providers/Microsoft.ContainerRegistry/registries/reg1"

	tests := []struct {
		name, method, path string
		who                *actor
		status             int
		want               string // scope|target|name|action
	}{
		{"item", http.MethodGet, regPath, e.owner, 200, rg.String() + "|" + reg.String() + "|reg1|"},
		{"item any case", http.MethodGet, strings.ToLower(regPath), e.owner, 200, rg.String() + "|" + reg.String() + "|reg1|"},
		{"item read inherited from the item", http.MethodGet, regPath, reader, 200, ""},
		{"pull cannot read the item", http.MethodGet, regPath, pull, 403, ""},
		{"put in a missing group", http.MethodPut, sub + "/resourceGroups/nope/providers/Microsoft.ContainerRegistry/registries/r", e.owner, 404, ""},
		{"collection in a group", http.MethodGet, rg.String() + "/providers/Microsoft.ContainerRegistry/registries", e.owner, 200, rg.String() + "|" + rg.String() + "||"},
		{"collection in a subscription", http.MethodGet, sub + "/providers/Microsoft.ContainerRegistry/registries", e.owner, 200, sub + "|" + sub + "||"},
		{"action", http.MethodPost, regPath + "/listcredentials", e.owner, 200, rg.String() + "|" + reg.String() + "|reg1|listcredentials"},
		{"action needs its own permission", http.MethodPost, regPath + "/listCredentials", reader, 403, ""},
		{"action by GET", http.MethodGet, regPath + "/listCredentials", e.owner, 405, ""},
		{"unknown action", http.MethodPost, regPath + "/regenerate", e.owner, 404, ""},
		{"nested item", http.MethodGet, regPath + "/replications/westus", e.owner, 200, reg.String() + "|" + reg.String() + "/replications/westus|westus|"},
		{"nested collection", http.MethodGet, regPath + "/replications", e.owner, 200, reg.String() + "|" + reg.String() + "||"},
		{"nested under a missing parent", http.MethodGet, rg.String() + "/providers/Microsoft.ContainerRegistry/registries/nope/replications", e.owner, 404, ""},
		{"item outside a group", http.MethodGet, sub + "/providers/Microsoft.ContainerRegistry/registries/reg1", e.owner, 404, ""},
		{"nested collection outside a group", http.MethodGet, sub + "/providers/Microsoft.ContainerRegistry/registries/reg1/replications", e.owner, 404, ""},
		{"tracked type as an extension", http.MethodGet, regPath + "/providers/Microsoft.ContainerRegistry/registries/x", e.owner, 404, ""},
		{"role assignments on the registry", http.MethodGet, regPath + "/providers/Microsoft.Authorization/roleAssignments", e.owner, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, withAPI(tt.path), nil)
			req.Header.Set("Authorization", "Bearer "+tt.who.token)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if tt.want == "" {
				return
			}
			var got map[string]string
			(response{body: rec.Body.Bytes()}).decode(t, &got)
			if s := got["scope"] + "|" + got["target"] + "|" + got["name"] + "|" + got["action"]; s != tt.want {
				t.Errorf("got  %s\nwant %s", s, tt.want)
			}
		})
	}
}

func TestDuplicateTypePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	New(Config{Types: []ResourceType{{Namespace: "Microsoft.Authorization", Type: "RoleAssignments", Extension: true}}})
}
