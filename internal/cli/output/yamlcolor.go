// This file implements the colouring of -o yamlc: knack's format_yaml_color
// runs the yaml text through Pygments' YamlLexer and TerminalFormatter.
// yamlLexer ports the lexer states (pygments/lexers/data.py) that PyYAML's
// block output reaches; the directive and block-scalar states, which the
// emitter never produces, are left out.

package output

import (
	"strings"
	"unicode"
)

// Colours of the token types the YAML lexer produces.
const (
	colNone      = ""                      // Punctuation, Literal.Scalar.Plain, Name.Label, Text
	colTag       = ansiBrightBlue          // Name.Tag
	colSpace     = ansiGray                // Whitespace, Comment
	colString    = ansiYellow              // String, String.Escape
	colVariable  = ansiRed                 // Name.Variable
	colNamespace = "\x1b[04m" + "\x1b[36m" // Name.Namespace: _cyan_
	colType      = "\x1b[36m"              // Keyword.Type: cyan
	colError     = ansiBrightRed           // Error: _brightred_
)

func colorYAML(b []byte) []byte {
	lx := &yamlLexer{text: []rune(pygmentsInput(string(b))), stack: []string{"root"}, indent: -1}
	for lx.pos < len(lx.text) {
		if !lx.step() {
			// No rule matched: a newline resets the lexer to root, anything
			// else is an error token.
			if lx.text[lx.pos] == '\n' {
				lx.stack = []string{"root"}
				lx.tok(colNone, lx.pos, lx.pos+1)
			} else {
				lx.tok(colError, lx.pos, lx.pos+1)
			}
		}
	}
	return []byte(lx.out.String())
}

// yamlLexer is Pygments' ExtendedRegexLexer state for YamlLexer, with the
// indentation bookkeeping of YamlLexerContext.
type yamlLexer struct {
	text  []rune
	pos   int
	stack []string
	out   strings.Builder

	indentStack []int
	indent      int
	nextIndent  int
}

// tok emits text[from:to] as one token and moves past it.
func (lx *yamlLexer) tok(color string, from, to int) {
	if to > from {
		writeToken(&lx.out, color, string(lx.text[from:to]))
	}
	lx.pos = to
}

func (lx *yamlLexer) push(states ...string) { lx.stack = append(lx.stack, states...) }

func (lx *yamlLexer) pop(n int) {
	if n >= len(lx.stack) {
		lx.stack = lx.stack[:1]
		return
	}
	lx.stack = lx.stack[:len(lx.stack)-n]
}

func (lx *yamlLexer) at(p int) rune {
	if p < len(lx.text) {
		return lx.text[p]
	}
	return -1
}

// lineEnd is Python's multi-line "$"; lineStart is "^".
func (lx *yamlLexer) lineEnd(p int) bool   { return p >= len(lx.text) || lx.text[p] == '\n' }
func (lx *yamlLexer) lineStart(p int) bool { return p == 0 || lx.text[p-1] == '\n' }

// span returns the end of the run of characters matching ok from p.
func (lx *yamlLexer) span(p int, ok func(rune) bool) int {
	for p < len(lx.text) && ok(lx.text[p]) {
		p++
	}
	return p
}

func isSpaceChar(r rune) bool   { return r == ' ' }
func isNewlineChar(r rune) bool { return r == '\n' }
func pyWord(r rune) bool        { return r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r) }

func (lx *yamlLexer) hasPrefix(p int, s string) bool {
	return strings.HasPrefix(string(lx.text[p:min(p+len(s), len(lx.text))]), s)
}

// saveIndent is YamlLexer.save_indent.
func (lx *yamlLexer) saveIndent(from, to int, start bool) {
	if start {
		lx.nextIndent = to - from
		if lx.nextIndent < lx.indent {
			for lx.nextIndent < lx.indent {
				lx.indent = lx.indentStack[len(lx.indentStack)-1]
				lx.indentStack = lx.indentStack[:len(lx.indentStack)-1]
			}
			if lx.nextIndent > lx.indent {
				lx.tok(colSpace, from, from+lx.indent)
				lx.tok(colSpace, from+lx.indent, to) // Whitespace.Error
				return
			}
		}
	} else {
		lx.nextIndent += to - from
	}
	lx.tok(colSpace, from, to)
}

// setIndent is YamlLexer.set_indent.
func (lx *yamlLexer) setIndent(color string, from, to int, implicit bool) {
	if lx.indent < lx.nextIndent {
		lx.indentStack = append(lx.indentStack, lx.indent)
		lx.indent = lx.nextIndent
	}
	if !implicit {
		lx.nextIndent += to - from
	}
	lx.tok(color, from, to)
}

// indicatorAt matches `[?:-](?=[ ]|$)`.
func (lx *yamlLexer) indicatorAt(p int) bool {
	c := lx.at(p)
	return (c == '?' || c == ':' || c == '-') && (lx.at(p+1) == ' ' || lx.lineEnd(p+1))
}

// plainStart is the look-ahead that opens a plain scalar: a character that
// is neither whitespace nor one of the given indicators.
func plainStart(c rune, indicators string) bool {
	return c != -1 && !pyIsSpace(c) && !strings.ContainsRune(indicators, c)
}

// step applies the first matching rule of the current state and reports
// whether one matched.
func (lx *yamlLexer) step() bool {
	p := lx.pos
	c := lx.at(p)
	sp := lx.span(p, isSpaceChar) // end of the spaces at p
	switch state := lx.stack[len(lx.stack)-1]; state {
	case "root":
		switch {
		case sp > p && (lx.at(sp) == '#' || lx.lineEnd(sp)):
			lx.tok(colSpace, p, sp)
		case c == '\n':
			lx.tok(colSpace, p, lx.span(p, isNewlineChar))
		case c == '#':
			lx.comment()
		case lx.lineStart(p) && (lx.hasPrefix(p, "---") || lx.hasPrefix(p, "...")) &&
			(lx.at(p+3) == ' ' || lx.lineEnd(p+3)):
			lx.indentStack, lx.indent, lx.nextIndent = nil, -1, 0
			lx.tok(colNamespace, p, p+3)
			lx.push("block-line")
		case !lx.lineEnd(sp) && !pyIsSpace(lx.at(sp)):
			lx.saveIndent(p, sp, true)
			lx.push("block-line", "indentation")
		default:
			return false
		}
	case "indentation":
		switch {
		case lx.lineEnd(sp):
			lx.tok(colSpace, p, sp)
			lx.pop(2)
		case sp > p && lx.indicatorAt(sp):
			lx.saveIndent(p, sp, false)
		case lx.indicatorAt(p):
			lx.setIndent(colNone, p, p+1, false)
		default:
			lx.saveIndent(p, sp, false)
			lx.pop(1)
		}
	case "block-line":
		switch {
		case lx.at(sp) == '#' || lx.lineEnd(sp):
			lx.tok(colSpace, p, sp)
			lx.pop(1)
		case sp > p:
			lx.tok(colSpace, p, sp)
		case lx.blockKey():
		case lx.descriptor():
		case c == ':' && (lx.at(p+1) == ' ' || lx.lineEnd(p+1)):
			lx.setIndent(colNone, p, p+1, true)
		case lx.flowNode():
		case plainStart(c, "?:,[]{}#&*!|>'\"%@`-") ||
			strings.ContainsRune("?:-", c) && lx.at(p+1) != -1 && !pyIsSpace(lx.at(p+1)):
			lx.push("plain-scalar-in-block-context")
		default:
			return false
		}
	case "flow-sequence", "flow-mapping":
		switch {
		case state == "flow-mapping" && lx.flowKey():
		case sp > p:
			lx.tok(colSpace, p, sp)
		case c == '\n':
			lx.tok(colSpace, p, lx.span(p, isNewlineChar))
		case c == '#':
			lx.comment()
		case c == '?' || c == ':' || c == ',':
			lx.tok(colNone, p, p+1)
		case lx.descriptor():
		case lx.flowNode():
		case plainStart(c, "?:,[]{}#&*!|>'\"%@`"):
			lx.push("plain-scalar-in-flow-context")
		case state == "flow-sequence" && c == ']', state == "flow-mapping" && c == '}':
			lx.tok(colNone, p, p+1)
			lx.pop(1)
		default:
			return false
		}
	case "single-quoted-scalar", "double-quoted-scalar":
		double := state == "double-quoted-scalar"
		quote := '\''
		if double {
			quote = '"'
		}
		switch {
		case sp > p && lx.lineStart(p):
			lx.tok(colSpace, p, sp)
		case sp > p && lx.lineEnd(sp):
			lx.tok(colSpace, p, sp)
		case c == '\n':
			lx.tok(colSpace, p, lx.span(p, isNewlineChar))
		case sp > p:
			lx.tok(colVariable, p, sp)
		case !double && c == '\'' && lx.at(p+1) == '\'':
			lx.tok(colString, p, p+2)
		case double && c == '\\' && lx.at(p+1) != -1 && strings.ContainsRune("0abt\tn\nvfre \"\\N_LP", lx.at(p+1)):
			lx.tok(colString, p, p+2)
		case double && c == '\\' && lx.hexEscape():
		case c != -1 && !pyIsSpace(c) && c != quote && !(double && c == '\\'):
			e := lx.span(p, func(r rune) bool { return !pyIsSpace(r) && r != quote && !(double && r == '\\') })
			lx.tok(colString, p, e)
		case c == quote:
			lx.tok(colString, p, p+1)
			lx.pop(1)
		default:
			return false
		}
	case "plain-scalar-in-block-context":
		switch {
		case lx.at(sp) == ':' && (lx.at(sp+1) == ' ' || lx.lineEnd(sp+1)):
			lx.tok(colSpace, p, sp)
			lx.pop(1)
		case sp > p && lx.at(sp) == '#':
			lx.tok(colSpace, p, sp)
			lx.pop(1)
		case sp > p && lx.lineEnd(sp):
			lx.tok(colSpace, p, sp)
		case c == '\n':
			lx.tok(colSpace, p, lx.span(p, isNewlineChar))
			lx.push("plain-scalar-in-block-context-new-line")
		case sp > p:
			lx.tok(colNone, p, sp)
		default:
			e := p
			for e < len(lx.text) {
				r := lx.text[e]
				if r == ':' && (e+1 >= len(lx.text) || !pyIsSpace(lx.text[e+1])) || r != ':' && !pyIsSpace(r) {
					e++
					continue
				}
				break
			}
			if e == p {
				return false
			}
			lx.tok(colNone, p, e)
		}
	case "plain-scalar-in-block-context-new-line":
		switch {
		case sp > p && lx.lineStart(p) && lx.lineEnd(sp):
			lx.tok(colSpace, p, sp)
		case c == '\n':
			lx.tok(colSpace, p, lx.span(p, isNewlineChar))
		case lx.lineStart(p) && (lx.hasPrefix(p, "---") || lx.hasPrefix(p, "...")):
			lx.pop(3)
		case lx.lineStart(p):
			// parse_plain_scalar_indent
			if sp-p <= lx.indent {
				lx.pop(3)
				return true
			}
			if sp > p {
				lx.tok(colSpace, p, sp)
			}
			lx.pop(1)
		default:
			return false
		}
	case "plain-scalar-in-flow-context":
		const stops = ",:?[]{}"
		switch {
		case strings.ContainsRune(stops, lx.at(sp)) && lx.at(sp) != -1:
			lx.tok(colSpace, p, sp)
			lx.pop(1)
		case sp > p && lx.at(sp) == '#':
			lx.tok(colSpace, p, sp)
			lx.pop(1)
		case sp > p && (lx.lineStart(p) || lx.lineEnd(sp)):
			lx.tok(colSpace, p, sp)
		case c == '\n':
			lx.tok(colSpace, p, lx.span(p, isNewlineChar))
		case sp > p:
			lx.tok(colVariable, p, sp)
		default:
			e := lx.span(p, func(r rune) bool { return !pyIsSpace(r) && !strings.ContainsRune(stops, r) })
			if e == p {
				return false
			}
			lx.tok(colVariable, p, e)
		}
	default:
		return false
	}
	return true
}

// comment matches `#[^\n]*` (Comment.Single).
func (lx *yamlLexer) comment() {
	lx.tok(colSpace, lx.pos, lx.span(lx.pos, func(r rune) bool { return r != '\n' }))
}

// blockKey matches `([^#,?\[\]{}"'\n]+)(:)(?=[ ]|$)`: the key is the
// longest prefix of the run that is followed by such a colon.
func (lx *yamlLexer) blockKey() bool {
	p := lx.pos
	e := lx.span(p, func(r rune) bool { return !strings.ContainsRune("#,?[]{}\"'\n", r) })
	for j := e - 1; j > p; j-- {
		if lx.text[j] == ':' && (lx.at(j+1) == ' ' || lx.lineEnd(j+1)) {
			lx.tok(colTag, p, j)
			lx.setIndent(colNone, j, j+1, true)
			return true
		}
	}
	return false
}

// flowKey matches `([^,:?\[\]{}"'\n]+)(:)(?=[ ]|$)`.
func (lx *yamlLexer) flowKey() bool {
	p := lx.pos
	e := lx.span(p, func(r rune) bool { return !strings.ContainsRune(",:?[]{}\"'\n", r) })
	if e > p && lx.at(e) == ':' && (lx.at(e+1) == ' ' || lx.lineEnd(e+1)) {
		lx.tok(colTag, p, e)
		lx.tok(colNone, e, e+1)
		return true
	}
	return false
}

func tagChar(r rune) bool    { return pyWord(r) || strings.ContainsRune("#;/?:@&=+$,.!~*'()[]%-", r) }
func anchorChar(r rune) bool { return pyWord(r) || r == '-' }

// descriptor matches tags, anchors and aliases.
func (lx *yamlLexer) descriptor() bool {
	p := lx.pos
	switch lx.at(p) {
	case '!':
		if lx.at(p+1) == '<' {
			if e := lx.span(p+2, tagChar); e > p+2 && lx.at(e) == '>' {
				lx.tok(colType, p, e+1)
				return true
			}
		}
		lx.tok(colType, p, lx.span(p+1, tagChar))
		return true
	case '&':
		if e := lx.span(p+1, anchorChar); e > p+1 {
			lx.tok(colNone, p, e)
			return true
		}
	case '*':
		if e := lx.span(p+1, anchorChar); e > p+1 {
			lx.tok(colVariable, p, e)
			return true
		}
	}
	return false
}

// flowNode opens a flow collection or a quoted scalar.
func (lx *yamlLexer) flowNode() bool {
	p := lx.pos
	switch lx.at(p) {
	case '[':
		lx.tok(colNone, p, p+1)
		lx.push("flow-sequence")
	case '{':
		lx.tok(colNone, p, p+1)
		lx.push("flow-mapping")
	case '\'':
		lx.tok(colString, p, p+1)
		lx.push("single-quoted-scalar")
	case '"':
		lx.tok(colString, p, p+1)
		lx.push("double-quoted-scalar")
	default:
		return false
	}
	return true
}

// hexEscape matches `\\(?:x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8})`.
func (lx *yamlLexer) hexEscape() bool {
	p := lx.pos
	n := map[rune]int{'x': 2, 'u': 4, 'U': 8}[lx.at(p+1)]
	if n == 0 {
		return false
	}
	for i := 0; i < n; i++ {
		if !strings.ContainsRune("0123456789abcdefABCDEF", lx.at(p+2+i)) || lx.at(p+2+i) == -1 {
			return false
		}
	}
	lx.tok(colString, p, p+2+n)
	return true
}
