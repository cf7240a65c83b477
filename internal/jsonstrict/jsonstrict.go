// Package jsonstrict refuses JSON documents that name a member of an object
// twice. encoding/json keeps the last of repeated members and other parsers
// keep the first, so such a document means different things to different
// readers: whoever validates one reading (a registry checking a manifest's
// descriptors) vouches for a document another reader (a runtime, another
// registry) sees differently — the ambiguous-manifest class of
// CVE-2021-41190.
//
// Member names are compared as decoded ("\u0064igest" is "digest"). The
// document is first validated with json.Valid, then walked once without
// decoding anything but member names with escapes (encoding/json's token
// stream is ten times slower), recursing at most MaxDepth levels.
package jsonstrict

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxDepth is the deepest nesting of objects and arrays Check accepts.
// Manifests and image configs nest a few levels; nothing legitimate comes
// near it.
const MaxDepth = 1000

// Mode says which member names count as the same.
type Mode int

const (
	// Exact: names equal after unescaping.
	Exact Mode = iota
	// FoldCase: also names that differ only in case (Unicode simple case
	// folding). encoding/json matches member names to struct fields this
	// way, so {"digest":A,"Digest":B} decodes into a struct as B while a
	// case-sensitive reader sees A. Use it for documents decoded into Go
	// structs; it also refuses map keys that differ only in case (two
	// annotations "a" and "A"), which is the price of one rule for the
	// whole document.
	FoldCase
)

// DuplicateKeyError reports an object that names a member twice.
type DuplicateKeyError struct {
	// Path locates the object: "" for the top level, else member names
	// and array indexes such as "layers[0]" or "config.Labels".
	Path string
	// Key is the repeated name as it appears the second time; First is
	// the first spelling, which differs from Key only under FoldCase.
	Key, First string
}

func (e *DuplicateKeyError) Error() string {
	where := "the top-level object"
	if e.Path != "" {
		where = "the object at " + e.Path
	}
	if e.First != e.Key {
		return fmt.Sprintf("%s has members %s and %s, which differ only in case", where, strconv.Quote(e.First), strconv.Quote(e.Key))
	}
	return fmt.Sprintf("%s has the member %s more than once", where, strconv.Quote(e.Key))
}

// ErrTooDeep is a document nested deeper than MaxDepth.
var ErrTooDeep = fmt.Errorf("JSON nested deeper than %d levels", MaxDepth)

// Check reports the first object in data that names a member twice, as a
// *DuplicateKeyError; malformed JSON as encoding/json reports it (a
// *json.SyntaxError); and ErrTooDeep.
func Check(data []byte, mode Mode) error {
	if !json.Valid(data) {
		var raw json.RawMessage
		if err := json.Unmarshal(data, &raw); err != nil {
			return err
		}
		return errors.New("jsonstrict: invalid JSON")
	}
	s := scanner{data: data, mode: mode}
	return s.value(0)
}

// scanner walks a document json.Valid accepted, so it checks no syntax.
type scanner struct {
	data []byte
	pos  int
	mode Mode
	path []step // where the value being read is
}

// step is one level of a path: a member name, or an array index.
type step struct {
	name    string
	index   int
	element bool // index, not name
}

func (s *scanner) space() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\r', '\n':
			s.pos++
		default:
			return
		}
	}
}

func (s *scanner) value(depth int) error {
	s.space()
	switch s.data[s.pos] {
	case '{':
		if depth >= MaxDepth {
			return ErrTooDeep
		}
		return s.object(depth + 1)
	case '[':
		if depth >= MaxDepth {
			return ErrTooDeep
		}
		return s.array(depth + 1)
	case '"':
		s.str()
	default: // a number, true, false or null
		for s.pos < len(s.data) && !delimiter(s.data[s.pos]) {
			s.pos++
		}
	}
	return nil
}

// str skips a string and returns its raw content (between the quotes) and
// whether it has escapes.
func (s *scanner) str() ([]byte, bool) {
	s.pos++ // '"'
	start, escaped := s.pos, false
	for {
		switch s.data[s.pos] {
		case '\\':
			escaped = true
			s.pos += 2
		case '"':
			s.pos++
			return s.data[start : s.pos-1], escaped
		default:
			s.pos++
		}
	}
}

// smallObject is how many names an object may have before they are
// looked up in a map rather than a list.
const smallObject = 16

func (s *scanner) object(depth int) error {
	s.pos++ // '{'
	var (
		list  []string          // canonical names, while few
		index map[string]string // canonical → first spelling, when many
		first []string          // first spellings, parallel to list
	)
	s.space()
	if s.data[s.pos] == '}' {
		s.pos++
		return nil
	}
	for {
		s.space()
		raw, escaped := s.str()
		name := string(raw)
		if escaped {
			_ = json.Unmarshal(s.data[s.pos-len(raw)-2:s.pos], &name) // valid: json.Valid said so
		}
		canon := name
		if s.mode == FoldCase {
			canon = fold(name)
		}
		var seen string
		dup := false
		if index != nil {
			seen, dup = index[canon]
		} else if i := slices.Index(list, canon); i >= 0 {
			seen, dup = first[i], true
		}
		if dup {
			return &DuplicateKeyError{Path: s.where(), Key: name, First: seen}
		}
		if index == nil && len(list) < smallObject {
			list, first = append(list, canon), append(first, name)
		} else {
			if index == nil {
				index = make(map[string]string, 2*smallObject)
				for i, c := range list {
					index[c] = first[i]
				}
			}
			index[canon] = name
		}
		s.space()
		s.pos++ // ':'
		s.path = append(s.path, step{name: name})
		if err := s.value(depth); err != nil {
			return err
		}
		s.path = s.path[:len(s.path)-1]
		s.space()
		c := s.data[s.pos]
		s.pos++
		if c == '}' {
			return nil
		}
	}
}

func (s *scanner) array(depth int) error {
	s.pos++ // '['
	s.space()
	if s.data[s.pos] == ']' {
		s.pos++
		return nil
	}
	for i := 0; ; i++ {
		s.path = append(s.path, step{index: i, element: true})
		if err := s.value(depth); err != nil {
			return err
		}
		s.path = s.path[:len(s.path)-1]
		s.space()
		c := s.data[s.pos]
		s.pos++
		if c == ']' {
			return nil
		}
	}
}

// delimiter reports the bytes that can end a number or literal.
func delimiter(c byte) bool {
	switch c {
	case ',', '}', ']', ' ', '\t', '\r', '\n':
		return true
	}
	return false
}

// where spells the path of the object being read.
func (s *scanner) where() string {
	var b strings.Builder
	for _, st := range s.path {
		if !st.element {
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(st.name)
		} else {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(st.index))
			b.WriteByte(']')
		}
	}
	return b.String()
}

// fold maps every rune to the smallest rune of its simple case-folding
// orbit, so that fold(a) == fold(b) exactly when strings.EqualFold(a, b).
// ASCII letters map to upper case (the orbit of k also holds the Kelvin
// sign, U+212A, which is larger).
func fold(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToUpper(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		b.WriteRune(least)
	}
	return b.String()
}
