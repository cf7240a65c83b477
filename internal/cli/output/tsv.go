// This file implements -o tsv, after knack's _TsvOutput.

package output

import "strconv"

// renderTSV writes one line per item of a list result (a non-list result is
// a one-item list). An object item prints its values tab-separated, in key
// order for an OrderedDict and sorted by key otherwise; a list item prints
// its elements. Inside a row a nested list prints as its length and a nested
// object as an empty field; other values print as Python's str() (so null is
// "None" and booleans are "True"/"False"), except that a boolean that is
// itself a row prints in lower case.
func renderTSV(v any) []byte {
	items, ok := v.([]any)
	if !ok {
		items = []any{v}
	}
	var b []byte
	for _, item := range items {
		switch t := item.(type) {
		case *object:
			idx := make([]int, len(t.keys))
			if t.ordered {
				for i := range idx {
					idx[i] = i
				}
			} else {
				idx = t.sortedKeys()
			}
			for n, i := range idx {
				if n > 0 {
					b = append(b, '\t')
				}
				b = appendTSVField(b, t.vals[i])
			}
		case []any:
			for n, e := range t {
				if n > 0 {
					b = append(b, '\t')
				}
				b = appendTSVField(b, e)
			}
		case bool:
			b = strconv.AppendBool(b, t)
		default:
			b = appendTSVField(b, t)
		}
		b = append(b, '\n')
	}
	return b
}

func appendTSVField(b []byte, v any) []byte {
	switch t := v.(type) {
	case []any:
		return strconv.AppendInt(b, int64(len(t)), 10)
	case *object:
		return b
	}
	return append(b, pyStr(v)...)
}
