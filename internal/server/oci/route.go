package oci

import (
	"net/url"
	"strings"
)

// routeKind names the data-plane operations' paths.
type routeKind uint8

const (
	routeBase          routeKind = iota + 1 // /v2/
	routeCatalog                            // /v2/_catalog
	routeBlob                               // /v2/<name>/blobs/<digest>
	routeUploads                            // /v2/<name>/blobs/uploads/
	routeUpload                             // /v2/<name>/blobs/uploads/<id>
	routeManifest                           // /v2/<name>/manifests/<reference>
	routeTagList                            // /v2/<name>/tags/list
	routeReferrers                          // /v2/<name>/referrers/<digest>
	routeACRCatalog                         // /acr/v1/_catalog
	routeACRRepository                      // /acr/v1/<name>
	routeACRTags                            // /acr/v1/<name>/_tags
	routeACRTag                             // /acr/v1/<name>/_tags/<tag>
	routeACRManifests                       // /acr/v1/<name>/_manifests
	routeACRManifest                        // /acr/v1/<name>/_manifests/<digest>
	routeKinds
)

// route is a parsed request path: the repository name and the trailing
// reference (digest, tag or upload id), both unescaped. Neither is
// validated beyond the name's grammar; handlers check references after
// authorization.
type route struct {
	kind routeKind
	name string
	ref  string
}

// maxPath bounds the work done on a request path.
const maxPath = 2048

// parseRoute routes an escaped request path. Repository names contain
// slashes, sent raw by docker ("a/b") and escaped by the Azure SDK
// ("a%2Fb"), so the operation is recognised by the path's last segments
// — a repository name component cannot be "_tags" or "_manifests", and a
// name ending in "blobs" or "manifests" still routes by its suffix.
func parseRoute(escaped string) (route, error) {
	if len(escaped) > maxPath {
		return route{}, errRouteUnknown
	}
	if rest, ok := strings.CutPrefix(escaped, "/v2/"); ok {
		return parseV2(rest)
	}
	if escaped == "/v2" {
		return route{kind: routeBase}, nil
	}
	if rest, ok := strings.CutPrefix(escaped, "/acr/v1/"); ok {
		return parseACR(rest)
	}
	return route{}, errRouteUnknown
}

func parseV2(rest string) (route, error) {
	switch rest {
	case "":
		return route{kind: routeBase}, nil
	case "_catalog":
		return route{kind: routeCatalog}, nil
	}
	segs := strings.Split(rest, "/")
	n := len(segs)
	at := func(i int) string { // the i-th segment from the end, 1-based
		if i > n {
			return ""
		}
		return segs[n-i]
	}
	switch {
	case n >= 3 && at(2) == "tags" && at(1) == "list":
		return newRoute(routeTagList, segs[:n-2])
	case n >= 3 && at(2) == "blobs" && at(1) == "uploads":
		return newRoute(routeUploads, segs[:n-2])
	case n >= 4 && at(3) == "blobs" && at(2) == "uploads":
		if at(1) == "" {
			return newRoute(routeUploads, segs[:n-3])
		}
		return newRefRoute(routeUpload, segs[:n-3], at(1))
	case n >= 3 && at(2) == "blobs":
		return newRefRoute(routeBlob, segs[:n-2], at(1))
	case n >= 3 && at(2) == "manifests":
		return newRefRoute(routeManifest, segs[:n-2], at(1))
	case n >= 3 && at(2) == "referrers":
		return newRefRoute(routeReferrers, segs[:n-2], at(1))
	}
	return route{}, errRouteUnknown
}

func parseACR(rest string) (route, error) {
	if rest == "_catalog" {
		return route{kind: routeACRCatalog}, nil
	}
	segs := strings.Split(rest, "/")
	n := len(segs)
	switch {
	case n >= 2 && segs[n-1] == "_tags":
		return newRoute(routeACRTags, segs[:n-1])
	case n >= 3 && segs[n-2] == "_tags":
		return newRefRoute(routeACRTag, segs[:n-2], segs[n-1])
	case n >= 2 && segs[n-1] == "_manifests":
		return newRoute(routeACRManifests, segs[:n-1])
	case n >= 3 && segs[n-2] == "_manifests":
		return newRefRoute(routeACRManifest, segs[:n-2], segs[n-1])
	}
	return newRoute(routeACRRepository, segs)
}

// newRoute unescapes and checks the name segments of a route without a
// trailing reference.
func newRoute(kind routeKind, nameSegs []string) (route, error) {
	name, err := url.PathUnescape(strings.Join(nameSegs, "/"))
	if err != nil || !validName(name) {
		return route{}, errNameInvalid
	}
	return route{kind: kind, name: name}, nil
}

// newRefRoute is newRoute for a route ending in a reference (an escaped
// path segment), which must not be empty.
func newRefRoute(kind routeKind, nameSegs []string, ref string) (route, error) {
	rt, err := newRoute(kind, nameSegs)
	if err != nil {
		return route{}, err
	}
	if rt.ref, err = url.PathUnescape(ref); err != nil || rt.ref == "" {
		return route{}, errRouteUnknown
	}
	return rt, nil
}

// maxNameLength is the longest repository name accepted (distribution's
// limit on the whole reference is 255; its name limit is 256).
const maxNameLength = 256

// validName reports whether s matches the distribution-spec name grammar
//
//	[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*
//
// Validating here keeps names that could break a challenge header or a
// Location out of the rest of the pipeline.
func validName(s string) bool {
	if s == "" || len(s) > maxNameLength {
		return false
	}
	for comp := range strings.SplitSeq(s, "/") {
		if !validComponent(comp) {
			return false
		}
	}
	return true
}

func validComponent(c string) bool {
	if c == "" || !isLowerAlnum(c[0]) || !isLowerAlnum(c[len(c)-1]) {
		return false
	}
	for i := 0; i < len(c); {
		if isLowerAlnum(c[i]) {
			i++
			continue
		}
		// A separator run: ".", "_", "__" or one or more "-".
		j := i
		for j < len(c) && !isLowerAlnum(c[j]) {
			j++
		}
		sep := c[i:j]
		if sep != "." && sep != "_" && sep != "__" && strings.Trim(sep, "-") != "" {
			return false
		}
		i = j
	}
	return true
}

func isLowerAlnum(b byte) bool { return 'a' <= b && b <= 'z' || '0' <= b && b <= '9' }

// maxTagLength is the spec's limit on a tag.
const maxTagLength = 128

// validTag reports whether s matches [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}.
func validTag(s string) bool {
	if s == "" || len(s) > maxTagLength || s[0] == '.' || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isLowerAlnum(c) || 'A' <= c && c <= 'Z' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// maxUploadID bounds an upload session id.
const maxUploadID = 128

// validUploadID reports whether s could be an upload id the registry
// issued: URL-safe characters only, so that it may be echoed in Location.
func validUploadID(s string) bool {
	if s == "" || len(s) > maxUploadID {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isLowerAlnum(c) || 'A' <= c && c <= 'Z' || c == '_' || c == '.' || c == '-' || c == '=') {
			return false
		}
	}
	return true
}
