package oci

import (
	"net/http"
	"strings"

	"github.com/cerulean/cerulean/internal/server/acrtoken"
)

// endpoint is one method of one route: the scopes it needs and its
// handler.
type endpoint struct {
	method string
	need   func(r *http.Request, rt route) []acrtoken.Scope
	serve  func(h *handler, w http.ResponseWriter, r *http.Request, c *call) error
}

// The scope vocabulary (reference §1.1).
const (
	typeRepository = "repository"
	typeRegistry   = "registry"

	actionPull          = "pull"
	actionPush          = "push"
	actionDelete        = "delete"
	actionMetadataRead  = "metadata_read"
	actionMetadataWrite = "metadata_write"
)

var (
	pull          = []string{actionPull}
	pullPush      = []string{actionPull, actionPush}
	deleteOnly    = []string{actionDelete}
	metadataRead  = []string{actionMetadataRead}
	metadataWrite = []string{actionMetadataWrite}
)

// onRepository needs actions on the route's repository.
func onRepository(actions []string) func(*http.Request, route) []acrtoken.Scope {
	return func(_ *http.Request, rt route) []acrtoken.Scope {
		return []acrtoken.Scope{{Type: typeRepository, Name: rt.name, Actions: actions}}
	}
}

// onCatalog needs registry:catalog:*.
func onCatalog(*http.Request, route) []acrtoken.Scope {
	return []acrtoken.Scope{{Type: typeRegistry, Name: "catalog", Actions: []string{"*"}}}
}

// authenticated needs no scope, only a caller that is not anonymous.
func authenticated(*http.Request, route) []acrtoken.Scope { return nil }

// onUploads needs pull and push on the repository and, for a cross-
// repository mount, pull on the source (as distribution asks): a client
// whose token lacks it is challenged for it rather than silently given an
// upload session, so that token-caching clients re-authenticate and mount.
// A malformed source is left out here and refused after authorization.
func onUploads(r *http.Request, rt route) []acrtoken.Scope {
	want := []acrtoken.Scope{{Type: typeRepository, Name: rt.name, Actions: pullPush}}
	q := r.URL.Query()
	if from := q.Get("from"); q.Get("mount") != "" && from != "" && from != rt.name && validName(from) {
		want = append(want, acrtoken.Scope{Type: typeRepository, Name: from, Actions: pull})
	}
	return want
}

// endpoints lists each route's methods.
var endpoints = [routeKinds][]endpoint{
	routeBase: {
		{http.MethodGet, authenticated, (*handler).base},
		{http.MethodHead, authenticated, (*handler).base},
	},
	routeCatalog: {
		{http.MethodGet, onCatalog, (*handler).catalog},
	},
	routeBlob: {
		{http.MethodGet, onRepository(pull), (*handler).getBlob},
		{http.MethodHead, onRepository(pull), (*handler).headBlob},
		{http.MethodDelete, onRepository(deleteOnly), (*handler).deleteBlob},
	},
	routeUploads: {
		{http.MethodPost, onUploads, (*handler).startUpload},
	},
	routeUpload: {
		{http.MethodGet, onRepository(pullPush), (*handler).uploadStatus},
		{http.MethodPatch, onRepository(pullPush), (*handler).patchUpload},
		{http.MethodPut, onRepository(pullPush), (*handler).completeUpload},
		{http.MethodDelete, onRepository(pullPush), (*handler).cancelUpload},
	},
	routeManifest: {
		{http.MethodGet, onRepository(pull), (*handler).getManifest},
		{http.MethodHead, onRepository(pull), (*handler).getManifest},
		{http.MethodPut, onRepository(pullPush), (*handler).putManifest},
		{http.MethodDelete, onRepository(deleteOnly), (*handler).deleteManifest},
	},
	routeTagList: {
		{http.MethodGet, onRepository(pull), (*handler).tagList},
	},
	routeReferrers: {
		{http.MethodGet, onRepository(pull), (*handler).referrers},
	},
	routeACRCatalog: {
		{http.MethodGet, onCatalog, (*handler).acrCatalog},
	},
	routeACRRepository: {
		{http.MethodGet, onRepository(metadataRead), (*handler).acrRepository},
		{http.MethodPatch, onRepository(metadataWrite), (*handler).acrRepository},
		{http.MethodDelete, onRepository(deleteOnly), (*handler).acrDeleteRepository},
	},
	routeACRTags: {
		{http.MethodGet, onRepository(metadataRead), (*handler).acrTags},
	},
	routeACRTag: {
		{http.MethodGet, onRepository(metadataRead), (*handler).acrTag},
		{http.MethodPatch, onRepository(metadataWrite), (*handler).acrTag},
		{http.MethodDelete, onRepository(deleteOnly), (*handler).acrDeleteTag},
	},
	routeACRManifests: {
		{http.MethodGet, onRepository(metadataRead), (*handler).acrManifests},
	},
	routeACRManifest: {
		{http.MethodGet, onRepository(metadataRead), (*handler).acrManifest},
		{http.MethodPatch, onRepository(metadataWrite), (*handler).acrManifest},
	},
}

// pickEndpoint finds the route's endpoint for method, or answers 405 with
// the methods the route has.
func pickEndpoint(w http.ResponseWriter, kind routeKind, method string) (endpoint, error) {
	eps := endpoints[kind]
	for _, ep := range eps {
		if ep.method == method {
			return ep, nil
		}
	}
	allow := make([]string, len(eps))
	for i, ep := range eps {
		allow[i] = ep.method
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	return endpoint{}, errMethodNotAllowed.WithMessage("the method %s is not allowed on this route", truncate(method))
}

// maxEcho bounds how much of a client-supplied value a message repeats.
const maxEcho = 200

func truncate(s string) string {
	if len(s) <= maxEcho {
		return s
	}
	return strings.ToValidUTF8(s[:maxEcho], "") + "…"
}
