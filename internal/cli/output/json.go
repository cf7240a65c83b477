// This file implements -o json and -o jsonc, after knack's format_json
// (json.dumps with indent=2, sort_keys=True, ensure_ascii=False) and
// format_json_color (Pygments' JsonLexer with the TerminalFormatter).

package output

import (
	"fmt"
	"strings"
)

// renderJSON writes v as knack's json formatter does, coloured for jsonc.
func renderJSON(v any, color bool) []byte {
	var b strings.Builder
	writeJSON(&b, v, 0)
	b.WriteByte('\n')
	if color {
		return []byte(colorJSON(b.String()))
	}
	return []byte(b.String())
}

func writeJSON(b *strings.Builder, v any, level int) {
	switch t := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if t {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case pyNum:
		switch t {
		case "inf":
			b.WriteString("Infinity")
		case "-inf":
			b.WriteString("-Infinity")
		case "nan":
			b.WriteString("NaN")
		default:
			b.WriteString(string(t))
		}
	case string:
		writeJSONString(b, t)
	case []any:
		if len(t) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteByte('[')
		for i, e := range t {
			if i > 0 {
				b.WriteByte(',')
			}
			newline(b, level+1)
			writeJSON(b, e, level+1)
		}
		newline(b, level)
		b.WriteByte(']')
	case *object:
		if len(t.keys) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteByte('{')
		for n, i := range t.sortedKeys() {
			if n > 0 {
				b.WriteByte(',')
			}
			newline(b, level+1)
			writeJSONString(b, t.keys[i])
			b.WriteString(": ")
			writeJSON(b, t.vals[i], level+1)
		}
		newline(b, level)
		b.WriteByte('}')
	default:
		writeJSONString(b, fmt.Sprint(t))
	}
}

func newline(b *strings.Builder, level int) {
	b.WriteByte('\n')
	for range level {
		b.WriteString("  ")
	}
}

// writeJSONString quotes s like Python's json module with
// ensure_ascii=False: only '"', '\\' and control characters are escaped.
func writeJSONString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r < 0x20 {
				fmt.Fprintf(b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}

// colorJSON tokenises JSON text like Pygments' JsonLexer and colours the
// tokens like its TerminalFormatter: object keys bright blue, strings
// yellow, numbers and constants blue, whitespace grey, punctuation plain.
func colorJSON(text string) string {
	text = pygmentsInput(text)
	var out strings.Builder
	rs := []rune(text)
	type queued struct {
		color string
		text  string
	}
	var queue []queued // a string and the whitespace after it, until we know whether it is a key
	emit := func(color string, s string) {
		if queue != nil {
			queue = append(queue, queued{color, s})
			return
		}
		writeToken(&out, color, s)
	}
	flush := func(keyColor bool) {
		for i, q := range queue {
			c := q.color
			if keyColor && i == 0 {
				c = ansiBrightBlue
			}
			writeToken(&out, c, q.text)
		}
		queue = nil
	}
	i := 0
	for i < len(rs) {
		r := rs[i]
		start := i
		switch {
		case r == '"':
			i++
			for i < len(rs) {
				if rs[i] == '\\' {
					i += 2
					continue
				}
				if rs[i] == '"' {
					i++
					break
				}
				i++
			}
			if i > len(rs) {
				i = len(rs)
			}
			flush(false)
			queue = []queued{{ansiYellow, string(rs[start:i])}}
		case isJSONSpace(r):
			for i < len(rs) && isJSONSpace(rs[i]) {
				i++
			}
			emit(ansiGray, string(rs[start:i]))
		case r == ':':
			flush(true)
			i++
			writeToken(&out, "", ":")
		case r == 't' || r == 'f' || r == 'n':
			flush(false)
			for i < len(rs) && strings.ContainsRune("truefalsn", rs[i]) {
				i++
			}
			writeToken(&out, ansiBlue, string(rs[start:i]))
		case r == '-' || r >= '0' && r <= '9':
			flush(false)
			for i < len(rs) && strings.ContainsRune("-0123456789.eE+", rs[i]) {
				i++
			}
			writeToken(&out, ansiBlue, string(rs[start:i]))
		case strings.ContainsRune("{}[],", r):
			flush(false)
			for i < len(rs) && strings.ContainsRune("{}[],", rs[i]) {
				i++
			}
			writeToken(&out, "", string(rs[start:i]))
		default:
			flush(false)
			i++
			writeToken(&out, ansiBrightRed, string(r)) // Error token; never produced by renderJSON
		}
	}
	flush(false)
	return out.String()
}

func isJSONSpace(r rune) bool { return r == ' ' || r == '\n' || r == '\r' || r == '\t' }
