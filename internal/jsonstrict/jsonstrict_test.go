package jsonstrict_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cerulean/cerulean/internal/jsonstrict"
)

func TestCheck(t *testing.T) {
	deep := strings.Repeat("[", jsonstrict.MaxDepth) + strings.Repeat("]", jsonstrict.MaxDepth)
	tooDeep := "[" + deep + "]"
	tests := []struct {
		name, doc string
		mode      jsonstrict.Mode
		dup       *jsonstrict.DuplicateKeyError // want this duplicate
		err       error                         // or this error (errors.Is)
		syntax    bool                          // or a syntax error
	}{
		{name: "empty object", doc: `{}`},
		{name: "scalars", doc: ` "x" `},
		{name: "distinct members", doc: `{"a":1,"b":{"a":2},"c":[{"a":3},{"a":4}]}`},
		{name: "same name in sibling objects", doc: `[{"a":1},{"a":1}]`},
		{name: "case variants are distinct when exact", doc: `{"digest":1,"Digest":2}`},
		{name: "top level", doc: `{"a":1,"b":2,"a":3}`, dup: &jsonstrict.DuplicateKeyError{Key: "a", First: "a"}},
		{name: "escaped spelling", doc: `{"digest":1,"\u0064igest":2}`, dup: &jsonstrict.DuplicateKeyError{Key: "digest", First: "digest"}},
		{name: "nested in array", doc: `{"layers":[{"a":1},{"digest":"x","size":1,"digest":"y"}]}`,
			dup: &jsonstrict.DuplicateKeyError{Path: "layers[1]", Key: "digest", First: "digest"}},
		{name: "after nested values", doc: `{"m":[{"p":{"os":"linux"},"x":[1,[2]],"os":1,"os":2}]}`,
			dup: &jsonstrict.DuplicateKeyError{Path: "m[0]", Key: "os", First: "os"}},
		{name: "object in object", doc: `{"config":{"Labels":{"k":"1","k":"2"}}}`,
			dup: &jsonstrict.DuplicateKeyError{Path: "config.Labels", Key: "k", First: "k"}},
		{name: "fold case", doc: `{"layers":[{"digest":1,"Digest":2}]}`, mode: jsonstrict.FoldCase,
			dup: &jsonstrict.DuplicateKeyError{Path: "layers[0]", Key: "Digest", First: "digest"}},
		{name: "fold case beyond ASCII", doc: `{"\u212a":1,"k":2}`, mode: jsonstrict.FoldCase, // KELVIN SIGN folds to k
			dup: &jsonstrict.DuplicateKeyError{Key: "k", First: "\u212a"}},
		{name: "fold case, distinct", doc: `{"a":1,"b":2}`, mode: jsonstrict.FoldCase},
		{name: "depth limit", doc: deep},
		{name: "too deep", doc: tooDeep, err: jsonstrict.ErrTooDeep},
		{name: "trailing value", doc: `{} {}`, syntax: true},
		{name: "truncated", doc: `{"a":`, syntax: true},
		{name: "empty", doc: ``, syntax: true},
		{name: "strings with escapes and brackets", doc: `{"a\"}":"]\\","b":["}",{"c":"\u0022"}],"n":-1.5e3,"t":true,"z":null}`},
		{name: "many members", doc: manyMembers(40, ""), mode: jsonstrict.FoldCase},
		{name: "many members, duplicate", doc: manyMembers(40, `,"M3":1`), mode: jsonstrict.FoldCase,
			dup: &jsonstrict.DuplicateKeyError{Key: "M3", First: "m3"}},
		{name: "syntax", doc: `{"a" 1}`, syntax: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := jsonstrict.Check([]byte(tt.doc), tt.mode)
			switch {
			case tt.dup != nil:
				d, ok := errors.AsType[*jsonstrict.DuplicateKeyError](err)
				if !ok || *d != *tt.dup {
					t.Fatalf("error %v, want duplicate %+v", err, *tt.dup)
				}
			case tt.err != nil:
				if !errors.Is(err, tt.err) {
					t.Fatalf("error %v, want %v", err, tt.err)
				}
			case tt.syntax:
				if _, ok := errors.AsType[*json.SyntaxError](err); !ok {
					t.Fatalf("error %v (%T), want a syntax error", err, err)
				}
			default:
				if err != nil {
					t.Fatalf("error %v", err)
				}
			}
		})
	}
}

func manyMembers(n int, tail string) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"m%d":%d`, i, i)
	}
	return b.String() + tail + "}"
}

func TestDuplicateKeyErrorMessage(t *testing.T) {
	for _, tt := range []struct {
		err  jsonstrict.DuplicateKeyError
		want string
	}{
		{jsonstrict.DuplicateKeyError{Key: "a", First: "a"}, `the top-level object has the member "a" more than once`},
		{jsonstrict.DuplicateKeyError{Path: "layers[0]", Key: "Digest", First: "digest"}, `the object at layers[0] has members "digest" and "Digest", which differ only in case`},
	} {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}

func BenchmarkCheck(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[`)
	for i := range 200 {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef","size":1234,"platform":{"architecture":"amd64","os":"linux"}}`)
	}
	sb.WriteString(`]}`)
	doc := []byte(sb.String())
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if err := jsonstrict.Check(doc, jsonstrict.FoldCase); err != nil {
			b.Fatal(err)
		}
	}
}
