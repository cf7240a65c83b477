// This file implements --query: a JMESPath expression applied to the
// result before it is formatted (knack/query.py).

package output

import (
	"fmt"
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
