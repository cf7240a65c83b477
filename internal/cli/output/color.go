// This file holds the pieces of Pygments' TerminalFormatter that the jsonc
// and yamlc formats share: knack colours output with
// pygments.highlight(text, lexer, TerminalFormatter()).

package output

import "strings"

// ANSI sequences of the TerminalFormatter's light-background scheme.
const (
	ansiReset      = "\x1b[39;49;00m"
	ansiGray       = "\x1b[37m" // Whitespace
	ansiBlue       = "\x1b[34m" // Number, Keyword
	ansiBrightBlue = "\x1b[94m" // Name.Tag
	ansiYellow     = "\x1b[33m" // String
	ansiRed        = "\x1b[31m" // Name.Variable
	ansiBrightRed  = "\x1b[04m\x1b[91m"
)

// pygmentsInput applies Lexer.get_tokens' preprocessing: drop a BOM,
// normalise newlines, strip leading and trailing newlines and end with
// exactly one.
func pygmentsInput(text string) string {
	text = strings.TrimPrefix(text, "\ufeff")
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	text = strings.Trim(text, "\n")
	return text + "\n"
}

// writeToken writes one token like TerminalFormatter.format_unencoded: the
// colour is applied line by line (Python's splitlines) and newlines are
// left outside the escape sequences.
func writeToken(out *strings.Builder, color, value string) {
	for _, line := range splitLinesKeepEnds(value) {
		body, nl := strings.CutSuffix(line, "\n")
		body = strings.TrimRight(body, "\n")
		if color != "" {
			out.WriteString(color)
			out.WriteString(body)
			out.WriteString(ansiReset)
		} else {
			out.WriteString(body)
		}
		if nl {
			out.WriteByte('\n')
		}
	}
}

// splitLinesKeepEnds is Python's str.splitlines(keepends=True).
func splitLinesKeepEnds(s string) []string {
	var lines []string
	rs := []rune(s)
	start := 0
	for i := 0; i < len(rs); i++ {
		switch rs[i] {
		case '\r':
			if i+1 < len(rs) && rs[i+1] == '\n' {
				i++
			}
		case '\n', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029:
		default:
			continue
		}
		lines = append(lines, string(rs[start:i+1]))
		start = i + 1
	}
	if start < len(rs) {
		lines = append(lines, string(rs[start:]))
	}
	return lines
}

// splitLines is Python's str.splitlines().
func splitLines(s string) []string {
	lines := splitLinesKeepEnds(s)
	for i, l := range lines {
		if strings.HasSuffix(l, "\r\n") {
			lines[i] = l[:len(l)-2]
		} else if rs := []rune(l); isLineBreak(rs[len(rs)-1]) {
			lines[i] = string(rs[:len(rs)-1])
		}
	}
	return lines
}

func isLineBreak(r rune) bool {
	switch r {
	case '\n', '\r', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029:
		return true
	}
	return false
}
