package arm

import (
	"errors"
	"strconv"
	"strings"
)

// maxFilterLen bounds the work done on a $filter.
const maxFilterLen = 4096

// clause is one term of the small OData subset ARM lists accept:
// "field eq 'value'" or "func()" / "func('value')", joined by "and".
type clause struct {
	name  string // the field or function, as written
	fn    bool   // a function call
	value string
	hasV  bool // a function call with an argument
}

func (c clause) is(name string) bool { return strings.EqualFold(c.name, name) }

var errFilterSyntax = errors.New("filter syntax")

// parseFilter parses a $filter. An empty filter yields no clauses.
func parseFilter(s string) ([]clause, error) {
	if len(s) > maxFilterLen {
		return nil, errFilterSyntax
	}
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	var out []clause
	for i := 0; i < len(toks); {
		if len(out) > 0 {
			if !toks[i].isWord("and") {
				return nil, errFilterSyntax
			}
			i++
		}
		if i >= len(toks) || toks[i].kind != tokWord {
			return nil, errFilterSyntax
		}
		c := clause{name: toks[i].text}
		i++
		switch {
		case i < len(toks) && toks[i].kind == tokOpen:
			c.fn = true
			i++
			if i < len(toks) && toks[i].kind == tokString {
				c.value, c.hasV = toks[i].text, true
				i++
			}
			if i >= len(toks) || toks[i].kind != tokClose {
				return nil, errFilterSyntax
			}
			i++
		case i+1 < len(toks) && toks[i].isWord("eq") && toks[i+1].kind == tokString:
			c.value = toks[i+1].text
			i += 2
		default:
			return nil, errFilterSyntax
		}
		out = append(out, c)
	}
	return out, nil
}

type tokKind int

const (
	tokWord tokKind = iota
	tokString
	tokOpen
	tokClose
)

type filterToken struct {
	kind tokKind
	text string
}

func (t filterToken) isWord(w string) bool { return t.kind == tokWord && strings.EqualFold(t.text, w) }

func lex(s string) ([]filterToken, error) {
	var out []filterToken
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '(':
			out = append(out, filterToken{kind: tokOpen})
			i++
		case c == ')':
			out = append(out, filterToken{kind: tokClose})
			i++
		case c == '\'':
			var b strings.Builder
			i++
			for {
				if i >= len(s) {
					return nil, errFilterSyntax
				}
				if s[i] == '\'' {
					if i+1 < len(s) && s[i+1] == '\'' { // '' is an escaped quote
						b.WriteByte('\'')
						i += 2
						continue
					}
					i++
					break
				}
				b.WriteByte(s[i])
				i++
			}
			out = append(out, filterToken{kind: tokString, text: b.String()})
		case isWordByte(c):
			j := i
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			out = append(out, filterToken{kind: tokWord, text: s[i:j]})
			i = j
		default:
			return nil, errFilterSyntax
		}
	}
	return out, nil
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '/' || c == '.'
}

// parseTop parses $top: absent is 0 (no limit), otherwise a positive integer.
func parseTop(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, errInvalidTop(s)
	}
	return n, nil
}

// limit applies $top.
func limit[T any](items []T, top int) []T {
	if top > 0 && len(items) > top {
		return items[:top]
	}
	return items
}
