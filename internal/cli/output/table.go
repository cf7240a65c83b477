// This file implements -o table: knack's _TableOutput, which turns the
// result into rows of scalar columns, rendered by tabulate(rows,
// headers="keys", tablefmt="simple", disable_numparse=True).

package output

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// tableSkipKeys are never shown as columns (_TableOutput.SKIP_KEYS).
var tableSkipKeys = map[string]bool{"id": true, "type": true, "etag": true}

// tableRow is an ordered set of columns.
type tableRow struct {
	headers []string
	vals    []any
}

func (r *tableRow) set(h string, v any) {
	for i, k := range r.headers {
		if k == h {
			r.vals[i] = v
			return
		}
	}
	r.headers = append(r.headers, h)
	r.vals = append(r.vals, v)
}

// autoTableRow is _TableOutput._auto_table_item: an object keeps its scalar,
// non-null fields (except id, type and etag) under capitalised names, a list
// becomes Column1..N and anything else becomes a Result column.
func autoTableRow(item any, sortKeys bool) *tableRow {
	r := &tableRow{}
	switch t := item.(type) {
	case *object:
		idx := make([]int, len(t.keys))
		if sortKeys {
			idx = t.sortedKeys()
		} else {
			for i := range idx {
				idx[i] = i
			}
		}
		for _, i := range idx {
			k, v := t.keys[i], t.vals[i]
			if tableSkipKeys[k] {
				continue
			}
			switch v.(type) {
			case nil, []any, *object:
				continue
			}
			r.set(capitalizeFirst(k), v)
		}
	case []any:
		for i, v := range t {
			r.set("Column"+strconv.Itoa(i+1), v)
		}
	default:
		r.set("Result", t)
	}
	return r
}

func capitalizeFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return strings.ToUpper(string(r)) + s[n:]
}

// renderTable is format_table after the transformer step; sortKeys is set
// when neither a query nor a table transformer is active.
func renderTable(v any, sortKeys bool) []byte {
	items, ok := v.([]any)
	if !ok {
		items = []any{v}
	}
	rows := make([]*tableRow, len(items))
	for i, item := range items {
		rows[i] = autoTableRow(item, sortKeys)
	}
	if len(rows) == 0 {
		return []byte("\n")
	}
	return []byte(tabulate(rows) + "\n")
}

var (
	invisibleCodes     = regexp.MustCompile(`\x1b\[\d+[;\d]*m|\x1b\[\d*;\d*;\d*m|\x1b\]8;;(.*?)\x1b\\`)
	invisibleCodesLink = regexp.MustCompile(`\x1b]8;[a-zA-Z0-9:]*;[^\x1b]+\x1b\\([^\x1b]+)\x1b]8;;\x1b\\`)
	multilineCodes     = regexp.MustCompile(`\r|\n|\r\n`)
	lineSplit          = regexp.MustCompile(`[\r\n]`)
)

func stripInvisible(s string) string {
	return invisibleCodes.ReplaceAllString(invisibleCodesLink.ReplaceAllString(s, "$1"), "")
}

// tabulate renders rows of dicts in tabulate's "simple" format with
// headers="keys", left-aligned text columns (number parsing is disabled),
// MIN_PADDING 2 and wcwidth-based widths.
func tabulate(rows []*tableRow) string {
	// Headers are the keys in order of first appearance.
	var headers []string
	col := map[string]int{}
	for _, r := range rows {
		for _, h := range r.headers {
			if _, ok := col[h]; !ok {
				col[h] = len(headers)
				headers = append(headers, h)
			}
		}
	}
	cells := make([][]any, len(rows))
	for i, r := range rows {
		cells[i] = make([]any, len(headers))
		for j, h := range r.headers {
			cells[i][col[h]] = r.vals[j]
		}
	}
	if len(headers) == 0 {
		return ""
	}

	// Like tabulate, look for colour codes and line breaks in the
	// tab-joined text of the whole table.
	parts := append([]string(nil), headers...)
	for _, r := range cells {
		for _, c := range r {
			parts = append(parts, pyStr(c))
		}
	}
	plain := strings.Join(parts, "\t")
	hasInvisible := invisibleCodes.MatchString(plain) || invisibleCodesLink.MatchString(plain)
	multiline := strings.ContainsAny(plain, "\r\n")

	lineWidth := stringWidth
	if hasInvisible {
		lineWidth = func(s string) int { return stringWidth(stripInvisible(s)) }
	}
	width := lineWidth
	if multiline {
		width = func(s string) int {
			m := 0
			for i, l := range lineSplit.Split(s, -1) {
				if w := lineWidth(l); i == 0 || w > m {
					m = w
				}
			}
			return m
		}
	}

	// Format and align each column.
	ncols := len(headers)
	colWidths := make([]int, ncols)
	columns := make([][]string, ncols)
	for j := 0; j < ncols; j++ {
		strs := make([]string, len(cells))
		for i := range cells {
			if cells[i][j] != nil {
				strs[i] = strings.TrimFunc(pyStr(cells[i][j]), pyIsSpace)
			}
		}
		minWidth := width(headers[j]) + 2
		columns[j] = alignLeft(strs, minWidth, lineWidth, multiline)
		w := minWidth
		for _, c := range columns[j] {
			w = max(w, width(c))
		}
		colWidths[j] = w
	}
	paddedHeaders := make([]string, ncols)
	for j, h := range headers {
		if multiline {
			parts := multilineCodes.Split(h, -1)
			for k, p := range parts {
				parts[k] = padRight(p, colWidths[j]+utf8.RuneCountInString(p)-width(p))
			}
			paddedHeaders[j] = strings.Join(parts, "\n")
		} else {
			paddedHeaders[j] = padRight(h, colWidths[j]+utf8.RuneCountInString(h)-width(h))
		}
	}

	var lines []string
	appendRow := func(cs []string) {
		if !multiline {
			lines = append(lines, simpleRow(cs))
			return
		}
		cellLines := make([][]string, len(cs))
		n := 0
		for j, c := range cs {
			cellLines[j] = splitLines(c)
			n = max(n, len(cellLines[j]))
		}
		for j := range cellLines {
			for len(cellLines[j]) < n {
				cellLines[j] = append(cellLines[j], strings.Repeat(" ", max(colWidths[j], 0)))
			}
		}
		for k := 0; k < n; k++ {
			line := make([]string, len(cs))
			for j := range cs {
				line[j] = cellLines[j][k]
			}
			lines = append(lines, simpleRow(line))
		}
	}
	appendRow(paddedHeaders)
	dashes := make([]string, ncols)
	for j, w := range colWidths {
		dashes[j] = strings.Repeat("-", max(w, 0))
	}
	lines = append(lines, simpleRow(dashes))
	for i := range cells {
		row := make([]string, ncols)
		for j := range row {
			row[j] = columns[j][i]
		}
		appendRow(row)
	}
	return strings.Join(lines, "\n")
}

// alignLeft is tabulate's _align_column for left alignment with
// wide-character support: each cell is padded with spaces so that its
// display width reaches the column width.
func alignLeft(strs []string, minWidth int, lineWidth func(string) int, multiline bool) []string {
	maxWidth := minWidth
	widths := make([][]int, len(strs))
	for i, s := range strs {
		if multiline {
			for _, l := range lineSplit.Split(s, -1) {
				widths[i] = append(widths[i], lineWidth(l))
			}
		} else {
			widths[i] = []int{lineWidth(s)}
		}
		for _, w := range widths[i] {
			maxWidth = max(maxWidth, w)
		}
	}
	out := make([]string, len(strs))
	for i, s := range strs {
		if !multiline {
			out[i] = padRight(s, maxWidth-(widths[i][0]-utf8.RuneCountInString(s)))
			continue
		}
		lines := splitLines(s)
		if len(lines) == 0 {
			out[i] = ""
			continue
		}
		lens := lineSplit.Split(s, -1)
		var padded []string
		for k := 0; k < len(lines) && k < len(widths[i]); k++ {
			target := maxWidth - (widths[i][k] - utf8.RuneCountInString(lens[k]))
			padded = append(padded, padRight(lines[k], target))
		}
		out[i] = strings.Join(padded, "\n")
	}
	return out
}

// padRight is Python's "{0:<%ds}".format(s): s padded with spaces to n code
// points.
func padRight(s string, n int) string {
	if c := utf8.RuneCountInString(s); c < n {
		return s + strings.Repeat(" ", n-c)
	}
	return s
}

// simpleRow joins cells with two spaces and strips trailing whitespace
// (tabulate's _build_simple_row).
func simpleRow(cells []string) string {
	return strings.TrimRightFunc(strings.Join(cells, "  "), pyIsSpace)
}

// pyIsSpace is Python's str.isspace for one character.
func pyIsSpace(r rune) bool {
	return unicode.IsSpace(r) || r >= 0x1c && r <= 0x1f
}
