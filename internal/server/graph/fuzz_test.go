package graph

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// FuzzListOptions: a list request's query ($filter, $top, $skiptoken and
// the refused options) never panics and is refused only with Graph's
// query errors; what is accepted pages within Graph's limits, and the
// nextLink it gives, followed, asks for the same filter and page size one
// page further on.
func FuzzListOptions(f *testing.F) {
	for _, s := range []string{
		"", "$filter=displayName%20eq%20'acr-pull-sp'", "$filter=startswith(displayName,'acr')&$top=5",
		"$filter=servicePrincipalNames/any(c:c%20eq%20'http://x')", "filter=appId+eq+'a'&top=999",
		"$filter=identifierUris/any(c:c%20eq%20'api://x')&api-version=1.6", "$top=0", "$top=1000", "$top=x",
		"$skiptoken=" + encodeSkipToken(100) + "&$top=100", "$skiptoken=Y2VydWxlYW46LTE", "$skiptoken=%%",
		"$orderby=displayName", "$count=true", "$select=id,appId", "$top=1&top=2", "$filter=a%20or%20b",
		"$filter=(displayName%20eq%20'a')%20and%20(id%20eq%20'b')", "$filter=displayName%20eq%20'o''b'&$skiptoken=",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, rawQuery string, sp bool) {
		// What the listener hands on: visible ASCII (it escapes raw
		// spaces), never a fragment.
		for i := 0; i < len(rawQuery); i++ {
			if c := rawQuery[i]; c <= ' ' || c >= 0x7f || c == '#' {
				return
			}
		}
		set := applications
		if sp {
			set = servicePrincipals
		}
		r := httptest.NewRequest(http.MethodGet, "https://graph.localhost/v1.0/applications", nil)
		r.URL.RawQuery = rawQuery
		opt, err := parseListOptions(r, set)
		if err != nil {
			if !errors.Is(err, errInvalidQuery) && !errors.Is(err, errDuplicateOption) &&
				!errors.Is(err, errUnsupportedQuery) && !errors.Is(err, errInvalidFilter) {
				t.Fatalf("parseListOptions(%q): unexpected error %v", rawQuery, err)
			}
			return
		}
		if opt.top < 1 || opt.top > maxPageSize || opt.skip < 0 || opt.skip > maxSkip {
			t.Fatalf("parseListOptions(%q): top %d, skip %d", rawQuery, opt.top, opt.skip)
		}
		link := nextLink(r, opt)
		u, err := url.Parse(link)
		if err != nil || !strings.HasPrefix(link, "https://graph.localhost/v1.0/applications?") {
			t.Fatalf("nextLink of %q = %q: %v", rawQuery, link, err)
		}
		next := httptest.NewRequest(http.MethodGet, link, nil)
		opt2, err := parseListOptions(next, set)
		if opt.skip+opt.top > maxSkip {
			if !errors.Is(err, errInvalidQuery) {
				t.Fatalf("nextLink %q past the last offset: %v", link, err)
			}
			return
		}
		if err != nil || opt2.top != opt.top || opt2.skip != opt.skip+opt.top || !reflect.DeepEqual(opt2.listFilter, opt.listFilter) {
			t.Fatalf("query %q, nextLink %q (query %q): %+v, %v; want %+v one page on", rawQuery, link, u.RawQuery, opt2, err, opt)
		}
	})
}
