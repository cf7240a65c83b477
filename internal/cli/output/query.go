// This file implements --query: a JMESPath expression applied to the
// result before it is formatted (knack/query.py).

package output

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/jmespath/go-jmespath"
)

// Query is a compiled --query expression. It is safe for concurrent use.
type Query struct {
	expr string
	jp   *jmespath.JMESPath
	// hashKeys are the keys of each multi-select hash in the expression,
	// in source order. knack evaluates queries with
	// Options(dict_cls=OrderedDict), so the objects those hashes build keep
	// this order in table and TSV output.
	hashKeys [][]string
}

// QueryError is returned by CompileQuery for an expression that does not
// parse. Its message is the one argparse prints for knack's --query type.
type QueryError struct {
	Expr string
	Err  error // the JMESPath syntax error
}

func (e *QueryError) Error() string {
	return "argument --query: invalid jmespath_type value: " + pyRepr(e.Expr)
}

func (e *QueryError) Unwrap() error { return e.Err }

// CompileQuery compiles a JMESPath expression.
func CompileQuery(expr string) (*Query, error) {
	jp, err := jmespath.Compile(expr)
	if err != nil {
		return nil, &QueryError{Expr: expr, Err: err}
	}
	ast, err := jmespath.NewParser().Parse(expr)
	if err != nil {
		return nil, &QueryError{Expr: expr, Err: err}
	}
	return &Query{expr: expr, jp: jp, hashKeys: multiSelectHashKeys(ast.String())}, nil
}

// String returns the expression.
func (q *Query) String() string { return q.expr }

// search applies the query to a decoded document whose numbers are
// float64, as go-jmespath requires for comparisons and functions.
func (q *Query) search(doc any) (result any, err error) {
	defer func() {
		// go-jmespath panics on a few malformed calls; report them as
		// query errors rather than crashing the CLI.
		if r := recover(); r != nil {
			result, err = nil, fmt.Errorf("query %s: %v", pyRepr(q.expr), r)
		}
	}()
	return q.jp.Search(doc)
}

// multiSelectHashKeys extracts the key lists of the multi-select hashes of
// a go-jmespath AST from its PrettyPrint form, where a hash is printed as
//
//	ASTMultiSelectHash {
//	  children: {
//	    ASTKeyValPair {
//	      value: "key"
//
// with children indented four columns deeper than their parent.
func multiSelectHashKeys(ast string) [][]string {
	var result [][]string
	type open struct {
		indent int
		keys   []string
	}
	var stack []open
	lines := strings.Split(ast, "\n")
	for i, line := range lines {
		trimmed := strings.TrimLeft(line, " ")
		indent := len(line) - len(trimmed)
		switch {
		case trimmed == "ASTMultiSelectHash {":
			stack = append(stack, open{indent: indent})
		case trimmed == "}" && len(stack) > 0 && indent == stack[len(stack)-1].indent:
			top := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			result = append(result, dedupe(top.keys))
		case trimmed == "ASTKeyValPair {" && len(stack) > 0 &&
			indent == stack[len(stack)-1].indent+4 && i+1 < len(lines):
			v, ok := strings.CutPrefix(strings.TrimLeft(lines[i+1], " "), "value: ")
			if !ok {
				continue
			}
			if k, err := strconv.Unquote(v); err == nil {
				stack[len(stack)-1].keys = append(stack[len(stack)-1].keys, k)
			}
		}
	}
	for len(stack) > 0 {
		result = append(result, dedupe(stack[len(stack)-1].keys))
		stack = stack[:len(stack)-1]
	}
	return result
}

// dedupe keeps the first occurrence of each key, as assigning into a
// Python dict does.
func dedupe(keys []string) []string {
	seen := map[string]bool{}
	out := keys[:0:0]
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// floatLit is an integral float of the document, such as a CPU count of
// 1.0, which Python keeps a float (and prints as 1.0) while go-jmespath,
// computing with float64, cannot tell it from the int 1.
type floatLit float64

// floatShadow returns the query's result with the integral floats it took
// from the document marked as floatLit, so that they print as Python
// prints them. The result is computed on doc (float64 numbers); the query
// is run again on shadow, the same document decoded with floatLit
// numbers, and where that run yields the same result but for floatLits
// where the first has float64s, those numbers came from the document
// unchanged and are marked. A query that computes with them (comparisons,
// functions) gets a different or no shadow result, and its numbers keep
// floatRepr's rules.
func (q *Query) floatShadow(result, shadow any) any {
	s, err := q.search(shadow)
	if err != nil || !sameShape(result, s) {
		return result
	}
	return markFloats(result, s)
}

// sameShape reports whether b is a with some float64s as floatLits of the
// same value.
func sameShape(a, b any) bool {
	switch a := a.(type) {
	case map[string]any:
		bm, ok := b.(map[string]any)
		if !ok || len(bm) != len(a) {
			return false
		}
		for k, v := range a {
			bv, ok := bm[k]
			if !ok || !sameShape(v, bv) {
				return false
			}
		}
		return true
	case []any:
		bl, ok := b.([]any)
		if !ok || len(bl) != len(a) {
			return false
		}
		for i := range a {
			if !sameShape(a[i], bl[i]) {
				return false
			}
		}
		return true
	case float64:
		switch b := b.(type) {
		case float64:
			return a == b
		case floatLit:
			return a == float64(b)
		}
		return false
	}
	return reflect.DeepEqual(a, b)
}

// markFloats replaces, in place, the float64s of a that b has as floatLit.
func markFloats(a, b any) any {
	switch a := a.(type) {
	case map[string]any:
		bm := b.(map[string]any)
		for k, v := range a {
			a[k] = markFloats(v, bm[k])
		}
		return a
	case []any:
		bl := b.([]any)
		for i := range a {
			a[i] = markFloats(a[i], bl[i])
		}
		return a
	case float64:
		if f, ok := b.(floatLit); ok {
			return f
		}
	}
	return a
}
