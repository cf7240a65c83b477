package task

import (
	"fmt"
	"strings"
)

// splitShell splits a command line into words with the POSIX shell's
// quoting rules (no expansion): blanks separate words, single quotes keep
// everything, double quotes keep everything but \" \\ \$ \` and a
// backslash-newline, a backslash outside quotes keeps the next character.
func splitShell(s string) ([]string, error) {
	var (
		words []string
		cur   strings.Builder
		in    bool // a word has started (possibly empty: "")
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case ' ', '\t', '\n', '\r':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		case '\\':
			in = true
			if i+1 < len(s) {
				i++
				if s[i] != '\n' {
					cur.WriteByte(s[i])
				}
			}
		case '\'':
			in = true
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unterminated single quote")
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
		case '"':
			in = true
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`\n", s[i+1]) >= 0 {
					i++
					if s[i] == '\n' {
						continue
					}
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, fmt.Errorf("unterminated double quote")
			}
		default:
			in = true
			cur.WriteByte(c)
		}
	}
	if in {
		words = append(words, cur.String())
	}
	return words, nil
}
