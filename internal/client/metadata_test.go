package client

import (
	"context"
	"net/http"
	"testing"
)

func TestCloudMetadataSendsNoToken(t *testing.T) {
	rec, c := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			t.Errorf("metadata request carries a token")
		}
		_, _ = w.Write([]byte(`{"name":"AzureCloud","suffixes":{"acrLoginServer":"azurecr.io"}}`))
	})
	md, err := c.CloudMetadata(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if md.Name != "AzureCloud" || md.Suffixes["acrLoginServer"] != "azurecr.io" {
		t.Errorf("metadata = %+v", md)
	}
	if reqs := rec.requests(); len(reqs) != 1 || reqs[0] != "GET /metadata/endpoints?api-version=2022-09-01" {
		t.Errorf("requests = %q", reqs)
	}
}

func TestCloudMetadataError(t *testing.T) {
	_, c := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		http.NotFound(w, r)
	})
	if _, err := c.CloudMetadata(context.Background()); err == nil {
		t.Fatal("a 404 is not an error")
	}
}
