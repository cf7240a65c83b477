package client

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"sync"
	"testing"

	"github.com/cerulean/cerulean/api/arm"
	"github.com/cerulean/cerulean/internal/errdefs"
)

const regPath = "/subscriptions/s/resourceGroups/g/providers/Microsoft.ContainerRegistry/registries/r"

// TestRegistryCalls checks each registry call's method, path, api-version
// and body, and the decoding of its answer.
func TestRegistryCalls(t *testing.T) {
	var mu sync.Mutex
	bodies := map[string]string{}
	rec, c := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		data, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies[r.Method+" "+r.URL.Path] = string(data)
		mu.Unlock()
		reg := arm.Registry{ID: regPath, Name: "r", Properties: arm.RegistryProperties{LoginServer: "r.example"}}
		switch r.URL.Path {
		case regPath + "/listCredentials", regPath + "/regenerateCredential":
			_ = json.NewEncoder(w).Encode(arm.RegistryListCredentialsResult{Username: "r", Passwords: []arm.RegistryPassword{{Name: "password", Value: "v"}}})
		case "/subscriptions/s/providers/Microsoft.ContainerRegistry/checkNameAvailability":
			_ = json.NewEncoder(w).Encode(arm.RegistryNameStatus{NameAvailable: true})
		case "/subscriptions/s/resources":
			_ = json.NewEncoder(w).Encode(arm.List[arm.GenericResource]{Value: []arm.GenericResource{{ID: regPath, Name: "R"}, {ID: "x", Name: "other"}}})
		case "/subscriptions/s/providers/Microsoft.ContainerRegistry/registries", "/subscriptions/s/resourceGroups/g/providers/Microsoft.ContainerRegistry/registries":
			_ = json.NewEncoder(w).Encode(arm.List[arm.Registry]{Value: []arm.Registry{reg}})
		default:
			if r.Method == http.MethodPut {
				w.WriteHeader(http.StatusCreated)
			}
			if r.Method == http.MethodDelete {
				w.WriteHeader(http.StatusNoContent)
				return
			}
			_ = json.NewEncoder(w).Encode(reg)
		}
	})
	ctx := context.Background()
	a := c.ARM(StaticToken("tk"))
	admin := true
	if r, err := a.CreateRegistry(ctx, "s", "g", "r", arm.RegistryCreate{Location: "eastus", SKU: &arm.SKU{Name: "Basic"},
		Properties: &arm.RegistryCreateProperties{AdminUserEnabled: &admin}}); err != nil || r.Properties.LoginServer != "r.example" {
		t.Fatalf("create: %v %+v", err, r)
	}
	if _, err := a.GetRegistry(ctx, "s", "g", "r"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.UpdateRegistry(ctx, "s", "g", "r", map[string]any{"tags": map[string]string{}}); err != nil {
		t.Fatal(err)
	}
	if err := a.DeleteRegistry(ctx, "s", "g", "r"); err != nil {
		t.Fatal(err)
	}
	for _, group := range []string{"", "g"} {
		if l, err := a.ListRegistries(ctx, "s", group); err != nil || len(l) != 1 {
			t.Fatalf("list %q: %v %v", group, err, l)
		}
	}
	if cr, err := a.ListRegistryCredentials(ctx, "s", "g", "r"); err != nil || cr.Passwords[0].Value != "v" {
		t.Fatalf("credentials: %v %+v", err, cr)
	}
	if _, err := a.RegenerateRegistryCredential(ctx, "s", "g", "r", "password2"); err != nil {
		t.Fatal(err)
	}
	if st, err := a.CheckRegistryName(ctx, "s", "newreg"); err != nil || !st.NameAvailable {
		t.Fatalf("check name: %v %+v", err, st)
	}
	found, err := a.FindRegistries(ctx, "s", "r")
	if err != nil || len(found) != 1 || found[0].ID != regPath {
		t.Fatalf("find: %v %+v", err, found)
	}

	q := "?api-version=" + APIVersionContainerRegistry
	want := []string{
		"PUT " + regPath + q,
		"GET " + regPath + q,
		"PATCH " + regPath + q,
		"DELETE " + regPath + q,
		"GET /subscriptions/s/providers/Microsoft.ContainerRegistry/registries" + q,
		"GET /subscriptions/s/resourceGroups/g/providers/Microsoft.ContainerRegistry/registries" + q,
		"POST " + regPath + "/listCredentials" + q,
		"POST " + regPath + "/regenerateCredential" + q,
		"POST /subscriptions/s/providers/Microsoft.ContainerRegistry/checkNameAvailability" + q,
		"GET /subscriptions/s/resources?api-version=2021-04-01&$filter=resourceType%20eq%20%27Microsoft.ContainerRegistry%2Fregistries%27",
	}
	if got := rec.requests(); !reflect.DeepEqual(got, want) {
		t.Errorf("requests:\n%v\nwant\n%v", got, want)
	}
	for k, v := range map[string]string{
		"PUT " + regPath:                            `{"location":"eastus","sku":{"name":"Basic"},"properties":{"adminUserEnabled":true}}`,
		"PATCH " + regPath:                          `{"tags":{}}`,
		"POST " + regPath + "/listCredentials":      ``,
		"POST " + regPath + "/regenerateCredential": `{"name":"password2"}`,
		"POST /subscriptions/s/providers/Microsoft.ContainerRegistry/checkNameAvailability": `{"name":"newreg","type":"Microsoft.ContainerRegistry/registries"}`,
	} {
		if bodies[k] != v {
			t.Errorf("%s body %s, want %s", k, bodies[k], v)
		}
	}
}

// TestDeleteRegistryPollsAndFails checks a 202 delete is followed and
// that an error answer becomes an *errdefs.Error with the ARM code.
func TestDeleteRegistryPollsAndFails(t *testing.T) {
	polls := 0
	var srvURL string
	rec, c := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodDelete && r.URL.Path == regPath:
			w.Header().Set("Location", srvURL+"/op/1")
			w.WriteHeader(http.StatusAccepted)
		case r.URL.Path == "/op/1":
			if polls++; polls < 2 {
				w.WriteHeader(http.StatusAccepted)
				return
			}
			w.WriteHeader(http.StatusOK)
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"error":{"code":"ResourceNotFound","message":"The Resource 'Microsoft.ContainerRegistry/registries/x' under resource group 'g' was not found."}}`)
		}
	})
	srvURL = rec.srv.URL
	a := c.ARM(StaticToken("tk"))
	if err := a.DeleteRegistry(context.Background(), "s", "g", "r"); err != nil || polls != 2 {
		t.Fatalf("delete: %v after %d polls", err, polls)
	}
	_, err := a.GetRegistry(context.Background(), "s", "g", "x")
	re, ok := AsResponseError(err)
	if !ok || re.Code != "ResourceNotFound" || StatusCode(err) != http.StatusNotFound || !errdefs.IsKind(err, errdefs.NotFound) {
		t.Fatalf("err = %v", err)
	}
}
