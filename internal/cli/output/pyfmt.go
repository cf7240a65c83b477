// This file spells values the way Python's str() and repr() do, which is
// what knack's table and TSV output print.

package output

import (
	"fmt"
	"strconv"
	"strings"
)

// pyRepr is Python's repr() of a str.
func pyRepr(s string) string {
	quote := byte('\'')
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		quote = '"'
	}
	var b strings.Builder
	b.WriteByte(quote)
	for _, r := range s {
		switch {
		case r == rune(quote) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < ' ' || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x7f || strconv.IsPrint(r):
			b.WriteRune(r)
		case r <= 0xff:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
	}
	b.WriteByte(quote)
	return b.String()
}

// pyStr is Python's str() of a finalised value.
func pyStr(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return pyReprValue(v)
}

// pyReprValue is Python's repr() of a finalised value. Objects print as
// dicts; OrderedDicts use the Python 3.12+ spelling.
func pyReprValue(v any) string {
	switch t := v.(type) {
	case string:
		return pyRepr(t)
	case pyNum:
		return string(t)
	case bool:
		if t {
			return "True"
		}
		return "False"
	case nil:
		return "None"
	case []any:
		parts := make([]string, len(t))
		for i, e := range t {
			parts[i] = pyReprValue(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case *object:
		parts := make([]string, len(t.keys))
		for i, k := range t.keys {
			parts[i] = pyRepr(k) + ": " + pyReprValue(t.vals[i])
		}
		s := "{" + strings.Join(parts, ", ") + "}"
		if t.ordered {
			if len(parts) == 0 {
				return "OrderedDict()"
			}
			return "OrderedDict(" + s + ")"
		}
		return s
	}
	return fmt.Sprint(v)
}
