package graph

import (
	"strings"
)

// The OData $filter subset Cerulean understands: the forms az sends.
//
//	filter  = conj
//	conj    = term { " and " term }
//	term    = "(" conj ")"
//	        | "startswith(" prop "," string ")" [ " eq true" ]
//	        | prop "/any(" var ":" var " eq " string ")"
//	        | prop " eq " string
//	string  = "'" { char | "''" } "'"
//
// Keywords and property names match case-insensitively; whitespace may
// surround every token. Anything else is an unsupported query (a known
// OData construct Cerulean does not evaluate, such as "or" or "ne") or a
// syntax error. parseFilterValidOnly also takes " or " between terms: it
// checks a filter that nothing can match (see users.go), so how its
// clauses combine does not matter.

// maxFilterLen and maxFilterDepth bound the work done on a $filter.
const (
	maxFilterLen   = 4096
	maxFilterDepth = 8
)

// Filter operators.
const (
	opEq         = "eq"
	opStartsWith = "startswith"
	opAny        = "any" // prop/any(c:c eq value)
)

// clause is one comparison of a conjunction.
type clause struct {
	prop  string // as written
	op    string
	value string
}

// filterError is a $filter the parser refuses; unsupported tells a known
// but unevaluated OData construct from a syntax error.
type filterError struct {
	pos         int
	unsupported bool
	what        string
}

func (e *filterError) Error() string { return e.what }

type filterParser struct {
	s   string
	pos int
	or  bool // "or" joins terms as "and" does
}

// parseFilter parses a $filter into the clauses of one conjunction.
func parseFilter(s string) ([]clause, error) {
	return parse(&filterParser{s: s})
}

// parseFilterValidOnly parses a $filter whose clauses may also be joined
// by "or", and returns them all, however they combine.
func parseFilterValidOnly(s string) ([]clause, error) {
	return parse(&filterParser{s: s, or: true})
}

func parse(p *filterParser) ([]clause, error) {
	if len(p.s) > maxFilterLen {
		return nil, &filterError{pos: maxFilterLen, what: "the filter is too long"}
	}
	cs, err := p.conj(0)
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.pos < len(p.s) {
		return nil, p.syntax()
	}
	return cs, nil
}

func (p *filterParser) conj(depth int) ([]clause, error) {
	var out []clause
	for {
		cs, err := p.term(depth)
		if err != nil {
			return nil, err
		}
		out = append(out, cs...)
		save := p.pos
		if p.ws() == 0 {
			return out, nil
		}
		w := p.word()
		lw := strings.ToLower(w)
		if lw == "and" || lw == "or" && p.or {
			if p.ws() == 0 {
				return nil, p.syntax()
			}
			continue
		}
		switch lw {
		case "or", "not", "ne", "gt", "ge", "lt", "le", "in", "has":
			return nil, &filterError{pos: save, unsupported: true, what: "operator '" + w + "' is not supported"}
		}
		p.pos = save
		return out, nil
	}
}

func (p *filterParser) term(depth int) ([]clause, error) {
	if depth >= maxFilterDepth {
		return nil, &filterError{pos: p.pos, what: "the filter is nested too deeply"}
	}
	p.ws()
	if p.eat('(') {
		cs, err := p.conj(depth + 1)
		if err != nil {
			return nil, err
		}
		p.ws()
		if !p.eat(')') {
			return nil, p.syntax()
		}
		return cs, nil
	}
	start := p.pos
	name := p.word()
	if name == "" {
		return nil, p.syntax()
	}
	p.ws()
	switch {
	case p.peek('('):
		return p.function(start, name)
	case p.peek('/'):
		return p.lambda(name)
	}
	op := p.word()
	switch strings.ToLower(op) {
	case opEq:
	case "ne", "gt", "ge", "lt", "le", "in", "has":
		return nil, &filterError{pos: start, unsupported: true, what: "operator '" + op + "' is not supported"}
	default:
		return nil, p.syntax()
	}
	p.ws()
	v, err := p.str()
	if err != nil {
		return nil, err
	}
	return []clause{{prop: name, op: opEq, value: v}}, nil
}

// function parses startswith(prop,'x') with an optional "eq true".
func (p *filterParser) function(start int, name string) ([]clause, error) {
	if !strings.EqualFold(name, opStartsWith) {
		return nil, &filterError{pos: start, unsupported: true, what: "function '" + name + "' is not supported"}
	}
	p.eat('(')
	p.ws()
	prop := p.word()
	if prop == "" {
		return nil, p.syntax()
	}
	p.ws()
	if !p.eat(',') {
		return nil, p.syntax()
	}
	p.ws()
	v, err := p.str()
	if err != nil {
		return nil, err
	}
	p.ws()
	if !p.eat(')') {
		return nil, p.syntax()
	}
	save := p.pos
	if p.ws() > 0 && strings.EqualFold(p.word(), opEq) && p.ws() > 0 && strings.EqualFold(p.word(), "true") {
		return []clause{{prop: prop, op: opStartsWith, value: v}}, nil
	}
	p.pos = save
	return []clause{{prop: prop, op: opStartsWith, value: v}}, nil
}

// lambda parses prop/any(c:c eq 'x').
func (p *filterParser) lambda(name string) ([]clause, error) {
	p.eat('/')
	start := p.pos
	fn := p.word()
	if !strings.EqualFold(fn, opAny) {
		if fn == "" {
			return nil, p.syntax()
		}
		return nil, &filterError{pos: start, unsupported: true, what: "lambda operator '" + fn + "' is not supported"}
	}
	p.ws()
	if !p.eat('(') {
		return nil, p.syntax()
	}
	p.ws()
	v1 := p.word()
	p.ws()
	if v1 == "" || !p.eat(':') {
		return nil, p.syntax()
	}
	p.ws()
	v2 := p.word()
	if v2 != v1 {
		return nil, p.syntax()
	}
	if p.ws() == 0 {
		return nil, p.syntax()
	}
	if op := p.word(); !strings.EqualFold(op, opEq) {
		if op == "" {
			return nil, p.syntax()
		}
		return nil, &filterError{pos: p.pos, unsupported: true, what: "operator '" + op + "' is not supported"}
	}
	p.ws()
	v, err := p.str()
	if err != nil {
		return nil, err
	}
	p.ws()
	if !p.eat(')') {
		return nil, p.syntax()
	}
	return []clause{{prop: name, op: opAny, value: v}}, nil
}

// str parses a single-quoted literal, in which a doubled quote stands for one.
func (p *filterParser) str() (string, error) {
	if !p.eat('\'') {
		return "", p.syntax()
	}
	var b strings.Builder
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		p.pos++
		if c != '\'' {
			b.WriteByte(c)
			continue
		}
		if p.peek('\'') {
			p.pos++
			b.WriteByte('\'')
			continue
		}
		return b.String(), nil
	}
	return "", &filterError{pos: p.pos, what: "unterminated string literal"}
}

// word reads an identifier: letters, digits and '_'.
func (p *filterParser) word() string {
	start := p.pos
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			break
		}
		p.pos++
	}
	return p.s[start:p.pos]
}

// ws skips whitespace and reports how much it skipped.
func (p *filterParser) ws() int {
	start := p.pos
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t') {
		p.pos++
	}
	return p.pos - start
}

func (p *filterParser) peek(c byte) bool { return p.pos < len(p.s) && p.s[p.pos] == c }

func (p *filterParser) eat(c byte) bool {
	if p.peek(c) {
		p.pos++
		return true
	}
	return false
}

func (p *filterParser) syntax() error {
	return &filterError{pos: p.pos, what: "syntax error"}
}
