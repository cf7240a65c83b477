// This file implements -o yaml: knack's format_yaml, which is
// yaml.safe_dump(result, default_flow_style=False, allow_unicode=True).
// The emitter below follows PyYAML's (yaml/emitter.py) for the node kinds
// JSON data produces, so that quoting, indentation and line folding match.

package output

import (
	"fmt"
	"regexp"
	"strings"
)

const (
	yamlBestIndent = 2
	yamlBestWidth  = 80
)

// renderYAML dumps v as PyYAML's safe_dump does.
func renderYAML(v any) []byte {
	e := &yamlEmitter{indent: -1, whitespace: true, indention: true}
	e.node(v, true, false, false, false)
	// Document end, then stream end.
	e.writeIndent()
	if e.openEnded {
		e.writeIndicator("...", true, false, false)
		e.writeIndent()
	}
	return []byte(e.out.String())
}

// yamlEmitter holds the emitter state of PyYAML's Emitter. An indent of -1
// stands for Python's None.
type yamlEmitter struct {
	out       strings.Builder
	indent    int
	indents   []int
	flowLevel int

	rootCtx, seqCtx, mapCtx, simpleKeyCtx bool

	column     int
	whitespace bool
	indention  bool
	openEnded  bool
}

func (e *yamlEmitter) node(v any, root, seq, mapping, simpleKey bool) {
	e.rootCtx, e.seqCtx, e.mapCtx, e.simpleKeyCtx = root, seq, mapping, simpleKey
	switch t := v.(type) {
	case []any:
		if e.flowLevel > 0 || len(t) == 0 {
			e.writeIndicator("[", true, true, false)
			e.flowLevel++
			e.increaseIndent(true, false)
			e.indent = e.popIndent()
			e.flowLevel--
			e.writeIndicator("]", false, false, false)
			return
		}
		indentless := e.mapCtx && !e.indention
		e.increaseIndent(false, indentless)
		for _, item := range t {
			e.writeIndent()
			e.writeIndicator("-", true, false, true)
			e.node(item, false, true, false, false)
		}
		e.indent = e.popIndent()
	case *object:
		if e.flowLevel > 0 || len(t.keys) == 0 {
			e.writeIndicator("{", true, true, false)
			e.flowLevel++
			e.increaseIndent(true, false)
			e.indent = e.popIndent()
			e.flowLevel--
			e.writeIndicator("}", false, false, false)
			return
		}
		e.increaseIndent(false, false)
		for _, i := range t.sortedKeys() {
			key := t.keys[i]
			e.writeIndent()
			if e.checkSimpleKey(key) {
				e.node(key, false, false, true, true)
				e.writeIndicator(":", false, false, false)
			} else {
				e.writeIndicator("?", true, false, true)
				e.node(key, false, false, true, false)
				e.writeIndent()
				e.writeIndicator(":", true, false, true)
			}
			e.node(t.vals[i], false, false, true, false)
		}
		e.indent = e.popIndent()
	default:
		text, implicit := yamlScalar(t)
		e.scalar(text, implicit)
	}
}

// yamlScalar is SafeRepresenter's spelling of a scalar, and whether the
// resolver would read it back with the same tag when written plain.
func yamlScalar(v any) (string, bool) {
	switch t := v.(type) {
	case nil:
		return "null", true
	case bool:
		if t {
			return "true", true
		}
		return "false", true
	case pyNum:
		s := string(t)
		if !t.isFloat() {
			return s, true
		}
		switch s {
		case "inf":
			return ".inf", true
		case "-inf":
			return "-.inf", true
		case "nan":
			return ".nan", true
		}
		s = strings.ToLower(s)
		if !strings.Contains(s, ".") && strings.Contains(s, "e") {
			s = strings.Replace(s, "e", ".0e", 1)
		}
		return s, true
	case string:
		return t, !resolvesImplicitly(t)
	}
	return fmt.Sprint(v), false
}

// PyYAML's implicit resolvers (yaml/resolver.py), keyed by the first
// characters they apply to.
var (
	yamlBool      = regexp.MustCompile(`^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$`)
	yamlFloat     = regexp.MustCompile(`^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$`)
	yamlInt       = regexp.MustCompile(`^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$`)
	yamlMerge     = regexp.MustCompile(`^(?:<<)$`)
	yamlNull      = regexp.MustCompile(`^(?:~|null|Null|NULL|)$`)
	yamlTimestamp = regexp.MustCompile(`^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$`)
	yamlValue     = regexp.MustCompile(`^(?:=)$`)
	yamlYAML      = regexp.MustCompile(`^(?:!|&|\*)$`)

	yamlResolvers = []struct {
		first string
		re    *regexp.Regexp
	}{
		{"yYnNtTfFoO", yamlBool},
		{"-+0123456789.", yamlFloat},
		{"-+0123456789", yamlInt},
		{"<", yamlMerge},
		{"~nN", yamlNull},
		{"0123456789", yamlTimestamp},
		{"=", yamlValue},
		{"!&*", yamlYAML},
	}
)

// resolvesImplicitly reports whether a plain scalar s would be read as
// something other than a string, in which case PyYAML quotes it.
func resolvesImplicitly(s string) bool {
	if s == "" {
		return true // the null resolver matches the empty string
	}
	first := []rune(s)[0]
	for _, r := range yamlResolvers {
		if strings.ContainsRune(r.first, first) && r.re.MatchString(s) {
			return true
		}
	}
	return false
}

func (e *yamlEmitter) increaseIndent(flow, indentless bool) {
	e.indents = append(e.indents, e.indent)
	if e.indent < 0 {
		if flow {
			e.indent = yamlBestIndent
		} else {
			e.indent = 0
		}
	} else if !indentless {
		e.indent += yamlBestIndent
	}
}

func (e *yamlEmitter) popIndent() int {
	i := e.indents[len(e.indents)-1]
	e.indents = e.indents[:len(e.indents)-1]
	return i
}

// scalarAnalysis is PyYAML's ScalarAnalysis.
type scalarAnalysis struct {
	empty, multiline                                   bool
	allowFlowPlain, allowBlockPlain, allowSingleQuoted bool
}

func isYAMLBreak(r rune) bool { return r == '\n' || r == 0x85 || r == 0x2028 || r == 0x2029 }

func isYAMLSpaceOrBreak(r rune) bool {
	return r == 0 || r == ' ' || r == '\t' || r == '\r' || isYAMLBreak(r)
}

// analyzeScalar is Emitter.analyze_scalar with allow_unicode=True.
func analyzeScalar(s []rune) scalarAnalysis {
	if len(s) == 0 {
		return scalarAnalysis{empty: true, allowBlockPlain: true, allowSingleQuoted: true}
	}
	var blockIndicators, flowIndicators, lineBreaks, special bool
	var leadingSpace, leadingBreak, trailingSpace, trailingBreak, breakSpace, spaceBreak bool
	if strings.HasPrefix(string(s), "---") || strings.HasPrefix(string(s), "...") {
		blockIndicators, flowIndicators = true, true
	}
	precededByWhitespace := true
	followedByWhitespace := len(s) == 1 || isYAMLSpaceOrBreak(s[1])
	previousSpace, previousBreak := false, false
	for i, ch := range s {
		if i == 0 {
			if strings.ContainsRune("#,[]{}&*!|>'\"%@`", ch) {
				flowIndicators, blockIndicators = true, true
			}
			if ch == '?' || ch == ':' {
				flowIndicators = true
				if followedByWhitespace {
					blockIndicators = true
				}
			}
			if ch == '-' && followedByWhitespace {
				flowIndicators, blockIndicators = true, true
			}
		} else {
			if strings.ContainsRune(",?[]{}", ch) {
				flowIndicators = true
			}
			if ch == ':' {
				flowIndicators = true
				if followedByWhitespace {
					blockIndicators = true
				}
			}
			if ch == '#' && precededByWhitespace {
				flowIndicators, blockIndicators = true, true
			}
		}
		if isYAMLBreak(ch) {
			lineBreaks = true
		}
		if !(ch == '\n' || ch >= 0x20 && ch <= 0x7E) {
			printable := (ch == 0x85 || ch >= 0xA0 && ch <= 0xD7FF || ch >= 0xE000 && ch <= 0xFFFD ||
				ch >= 0x10000 && ch < 0x10FFFF) && ch != 0xFEFF
			if !printable {
				special = true
			}
		}
		switch {
		case ch == ' ':
			if i == 0 {
				leadingSpace = true
			}
			if i == len(s)-1 {
				trailingSpace = true
			}
			if previousBreak {
				breakSpace = true
			}
			previousSpace, previousBreak = true, false
		case isYAMLBreak(ch):
			if i == 0 {
				leadingBreak = true
			}
			if i == len(s)-1 {
				trailingBreak = true
			}
			if previousSpace {
				spaceBreak = true
			}
			previousSpace, previousBreak = false, true
		default:
			previousSpace, previousBreak = false, false
		}
		precededByWhitespace = isYAMLSpaceOrBreak(ch)
		followedByWhitespace = i+2 >= len(s) || isYAMLSpaceOrBreak(s[i+2])
	}
	a := scalarAnalysis{multiline: lineBreaks, allowFlowPlain: true, allowBlockPlain: true, allowSingleQuoted: true}
	if leadingSpace || leadingBreak || trailingSpace || trailingBreak {
		a.allowFlowPlain, a.allowBlockPlain = false, false
	}
	if breakSpace {
		a.allowFlowPlain, a.allowBlockPlain, a.allowSingleQuoted = false, false, false
	}
	if spaceBreak || special {
		a.allowFlowPlain, a.allowBlockPlain, a.allowSingleQuoted = false, false, false
	}
	if lineBreaks {
		a.allowFlowPlain, a.allowBlockPlain = false, false
	}
	if flowIndicators {
		a.allowFlowPlain = false
	}
	if blockIndicators {
		a.allowBlockPlain = false
	}
	return a
}

// checkSimpleKey is Emitter.check_simple_key for a string key: the "!!str"
// tag the serializer attaches counts towards the 128 limit.
func (e *yamlEmitter) checkSimpleKey(key string) bool {
	s := []rune(key)
	a := analyzeScalar(s)
	return len("!!str")+len(s) < 128 && !a.empty && !a.multiline
}

func (e *yamlEmitter) scalar(text string, implicit bool) {
	s := []rune(text)
	a := analyzeScalar(s)
	// choose_scalar_style
	style := byte('"')
	if implicit && !(e.simpleKeyCtx && (a.empty || a.multiline)) &&
		(e.flowLevel > 0 && a.allowFlowPlain || e.flowLevel == 0 && a.allowBlockPlain) {
		style = 0
	} else if a.allowSingleQuoted && !(e.simpleKeyCtx && a.multiline) {
		style = '\''
	}
	e.increaseIndent(true, false)
	split := !e.simpleKeyCtx
	switch style {
	case '"':
		e.writeDoubleQuoted(s, split)
	case '\'':
		e.writeSingleQuoted(s, split)
	default:
		e.writePlain(s, split)
	}
	e.indent = e.popIndent()
}

func (e *yamlEmitter) write(s []rune) {
	e.column += len(s)
	e.out.WriteString(string(s))
}

func (e *yamlEmitter) writeIndicator(indicator string, needWhitespace, whitespace, indention bool) {
	data := indicator
	if !e.whitespace && needWhitespace {
		data = " " + indicator
	}
	e.whitespace = whitespace
	e.indention = e.indention && indention
	e.openEnded = false
	e.write([]rune(data))
}

func (e *yamlEmitter) writeIndent() {
	indent := max(e.indent, 0)
	if !e.indention || e.column > indent || (e.column == indent && !e.whitespace) {
		e.writeLineBreak('\n')
	}
	if e.column < indent {
		e.whitespace = true
		e.out.WriteString(strings.Repeat(" ", indent-e.column))
		e.column = indent
	}
}

func (e *yamlEmitter) writeLineBreak(br rune) {
	e.whitespace = true
	e.indention = true
	e.column = 0
	e.out.WriteRune(br)
}

func (e *yamlEmitter) writePlain(text []rune, split bool) {
	if e.rootCtx {
		e.openEnded = true
	}
	if len(text) == 0 {
		return
	}
	if !e.whitespace {
		e.write([]rune{' '})
	}
	e.whitespace = false
	e.indention = false
	spaces, breaks := false, false
	start := 0
	for end := 0; end <= len(text); end++ {
		var ch rune = -1
		if end < len(text) {
			ch = text[end]
		}
		switch {
		case spaces:
			if ch != ' ' {
				if start+1 == end && e.column > yamlBestWidth && split {
					e.writeIndent()
					e.whitespace = false
					e.indention = false
				} else {
					e.write(text[start:end])
				}
				start = end
			}
		case breaks:
			if !isYAMLBreak(ch) {
				if text[start] == '\n' {
					e.writeLineBreak('\n')
				}
				for _, br := range text[start:end] {
					e.writeLineBreak(br)
				}
				e.writeIndent()
				e.whitespace = false
				e.indention = false
				start = end
			}
		default:
			if ch == -1 || ch == ' ' || isYAMLBreak(ch) {
				e.write(text[start:end])
				start = end
			}
		}
		if ch != -1 {
			spaces = ch == ' '
			breaks = isYAMLBreak(ch)
		}
	}
}

func (e *yamlEmitter) writeSingleQuoted(text []rune, split bool) {
	e.writeIndicator("'", true, false, false)
	spaces, breaks := false, false
	start := 0
	for end := 0; end <= len(text); end++ {
		var ch rune = -1
		if end < len(text) {
			ch = text[end]
		}
		switch {
		case spaces:
			if ch != ' ' {
				if start+1 == end && e.column > yamlBestWidth && split && start != 0 && end != len(text) {
					e.writeIndent()
				} else {
					e.write(text[start:end])
				}
				start = end
			}
		case breaks:
			if ch == -1 || !isYAMLBreak(ch) {
				if text[start] == '\n' {
					e.writeLineBreak('\n')
				}
				for _, br := range text[start:end] {
					e.writeLineBreak(br)
				}
				e.writeIndent()
				start = end
			}
		default:
			if ch == -1 || ch == ' ' || isYAMLBreak(ch) || ch == '\'' {
				if start < end {
					e.write(text[start:end])
					start = end
				}
			}
		}
		if ch == '\'' {
			e.write([]rune("''"))
			start = end + 1
		}
		if ch != -1 {
			spaces = ch == ' '
			breaks = isYAMLBreak(ch)
		}
	}
	e.writeIndicator("'", false, false, false)
}

var yamlEscapes = map[rune]string{
	0: "0", 0x07: "a", 0x08: "b", 0x09: "t", 0x0A: "n", 0x0B: "v", 0x0C: "f",
	0x0D: "r", 0x1B: "e", '"': "\"", '\\': "\\", 0x85: "N", 0xA0: "_",
	0x2028: "L", 0x2029: "P",
}

func (e *yamlEmitter) writeDoubleQuoted(text []rune, split bool) {
	e.writeIndicator("\"", true, false, false)
	start := 0
	for end := 0; end <= len(text); end++ {
		var ch rune = -1
		if end < len(text) {
			ch = text[end]
		}
		if ch == -1 || strings.ContainsRune("\"\\\u0085\u2028\u2029\uFEFF", ch) ||
			!(ch >= 0x20 && ch <= 0x7E || ch >= 0xA0 && ch <= 0xD7FF || ch >= 0xE000 && ch <= 0xFFFD) {
			if start < end {
				e.write(text[start:end])
				start = end
			}
			if ch != -1 {
				var data string
				if esc, ok := yamlEscapes[ch]; ok {
					data = "\\" + esc
				} else if ch <= 0xFF {
					data = fmt.Sprintf("\\x%02X", ch)
				} else if ch <= 0xFFFF {
					data = fmt.Sprintf("\\u%04X", ch)
				} else {
					data = fmt.Sprintf("\\U%08X", ch)
				}
				e.write([]rune(data))
				start = end + 1
			}
		}
		if end > 0 && end < len(text)-1 && (ch == ' ' || start >= end) &&
			e.column+(end-start) > yamlBestWidth && split {
			data := append(append([]rune{}, text[start:end]...), '\\')
			if start < end {
				start = end
			}
			e.write(data)
			e.writeIndent()
			e.whitespace = false
			e.indention = false
			if text[start] == ' ' {
				e.write([]rune{'\\'})
			}
		}
	}
	e.writeIndicator("\"", false, false, false)
}
