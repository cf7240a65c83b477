package cli

// This file parses a leaf command's arguments the way the Azure CLI does.
// az uses Python's argparse (through knack), and scripts depend on its
// grammar and messages: options take their value as the next word or after
// '=', list options (nargs='+') take every following word up to the next
// option, long options may be abbreviated to any unambiguous prefix, a
// missing required argument is reported as "the following arguments are
// required: --name/-n", and leftover words as "unrecognized arguments: ...".
// pflag follows none of these rules, so cobra is used for the command tree
// only and every leaf parses its own arguments here.

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

type argKind int

const (
	argValue    argKind = iota // one value
	argList                    // nargs='+': one or more values
	argListOpt                 // nargs='*': zero or more values
	argFlag                    // action='store_true'
	argTriState                // get_three_state_flag: nargs='?', true/false, bare means true
	argAppend                  // action='append': one value per occurrence, all kept
)

// argDef declares one argument of a command.
type argDef struct {
	dest     string
	options  []string // in az's order; the first is used in messages
	kind     argKind
	required bool
	choices  []string // canonical values; matched case-insensitively
	help     string
	group    string // help section; "" is "Arguments"
	hidden   bool
	// positional: filled, in declaration order, by the words that are
	// not options (options holds its help name, e.g. <SOURCE_LOCATION>).
	positional bool
	// choiceErr selects argparse's stock "invalid choice" message instead
	// of az's "is not a valid value" (knack's own global arguments).
	stockChoice bool
}

func (a *argDef) name() string { return strings.Join(a.options, "/") }

// args is the result of parsing.
type args struct {
	values map[string][]string
}

func (a *args) has(dest string) bool { _, ok := a.values[dest]; return ok }

func (a *args) str(dest string) string {
	v := a.values[dest]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

func (a *args) list(dest string) []string { return a.values[dest] }

func (a *args) flag(dest string) bool {
	v, ok := a.values[dest]
	return ok && (len(v) == 0 || strings.EqualFold(v[len(v)-1], "true"))
}

// optional returns a pointer to the value, or nil when it was not given.
func (a *args) optional(dest string) *string {
	if !a.has(dest) {
		return nil
	}
	s := a.str(dest)
	return &s
}

// usageError is a command-line mistake: az prints it and exits 2.
type usageError struct {
	msg string
	// recommendations are printed on their own lines after the error.
	recommendations []string
}

func (e *usageError) Error() string { return e.msg }

// helpRequested is returned by parse when -h/--help was seen.
type helpRequested struct{}

func (helpRequested) Error() string { return "help requested" }

var negativeNumber = regexp.MustCompile(`^-\d+$|^-\d*\.\d+$`)

// isOptionLike reports whether argparse would treat tok as an option
// string rather than a value.
func isOptionLike(tok string, known map[string]*argDef) bool {
	if len(tok) < 2 || tok[0] != '-' {
		return false
	}
	if _, ok := known[tok]; ok {
		return true
	}
	if negativeNumber.MatchString(tok) {
		return false
	}
	if strings.Contains(tok, " ") {
		return false
	}
	return true
}

// parseArgs parses tokens against defs. prog ("az group create") is used in
// messages. Values are canonicalised for choices.
func parseArgs(prog string, defs []*argDef, tokens []string) (*args, error) {
	known := map[string]*argDef{}
	for _, d := range defs {
		if d.positional {
			continue
		}
		for _, o := range d.options {
			known[o] = d
		}
	}
	res := &args{values: map[string][]string{}}
	var extras []string
	var positionals []*argDef
	for _, d := range defs {
		if d.positional {
			positionals = append(positionals, d)
		}
	}
	for i := 0; i < len(tokens); i++ {
		tok := tokens[i]
		if tok == "--" {
			extras = append(extras, tokens[i+1:]...)
			break
		}
		if !isOptionLike(tok, known) {
			if len(positionals) > 0 {
				res.values[positionals[0].dest] = []string{tok}
				positionals = positionals[1:]
				continue
			}
			extras = append(extras, tok)
			continue
		}
		def, explicit, hasExplicit, err := lookupOption(tok, known)
		if err != nil {
			return nil, err
		}
		if def == nil {
			extras = append(extras, tok)
			continue
		}
		if def.dest == "_help" {
			return nil, helpRequested{}
		}
		switch def.kind {
		case argFlag:
			if hasExplicit {
				return nil, &usageError{msg: fmt.Sprintf("argument %s: ignored explicit argument %s", def.name(), pyRepr(explicit))}
			}
			res.values[def.dest] = []string{}
		case argValue, argAppend:
			var v string
			switch {
			case hasExplicit:
				v = explicit
			case i+1 < len(tokens) && !isOptionLike(tokens[i+1], known):
				i++
				v = tokens[i]
			default:
				return nil, &usageError{msg: fmt.Sprintf("argument %s: expected one argument", def.name())}
			}
			cv, err := checkChoice(prog, def, v)
			if err != nil {
				return nil, err
			}
			if def.kind == argAppend {
				res.values[def.dest] = append(res.values[def.dest], cv)
			} else {
				res.values[def.dest] = []string{cv}
			}
		case argTriState:
			v := "true"
			switch {
			case hasExplicit:
				v = explicit
			case i+1 < len(tokens) && !isOptionLike(tokens[i+1], known):
				i++
				v = tokens[i]
			}
			cv, err := checkChoice(prog, def, v)
			if err != nil {
				return nil, err
			}
			res.values[def.dest] = []string{strings.ToLower(cv)}
		case argList, argListOpt:
			var vals []string
			if hasExplicit {
				vals = append(vals, explicit)
			} else {
				for i+1 < len(tokens) && !isOptionLike(tokens[i+1], known) && tokens[i+1] != "--" {
					i++
					vals = append(vals, tokens[i])
				}
			}
			if len(vals) == 0 && def.kind == argList {
				return nil, &usageError{msg: fmt.Sprintf("argument %s: expected at least one argument", def.name())}
			}
			for j, v := range vals {
				cv, err := checkChoice(prog, def, v)
				if err != nil {
					return nil, err
				}
				vals[j] = cv
			}
			if vals == nil {
				vals = []string{}
			}
			res.values[def.dest] = vals
		}
	}
	var missing []string
	for _, d := range defs {
		if d.required && !res.has(d.dest) {
			missing = append(missing, d.name())
		}
	}
	if len(missing) > 0 {
		return nil, &usageError{msg: "the following arguments are required: " + strings.Join(missing, ", ")}
	}
	if len(extras) > 0 {
		return nil, &usageError{msg: "unrecognized arguments: " + strings.Join(extras, " ")}
	}
	return res, nil
}

// lookupOption finds the option tok names, splitting an explicit value
// ("--name=x", "-nx") and resolving unambiguous prefixes of long options.
// A nil def means the option is unknown.
func lookupOption(tok string, known map[string]*argDef) (def *argDef, explicit string, hasExplicit bool, err error) {
	if d, ok := known[tok]; ok {
		return d, "", false, nil
	}
	name := tok
	if i := strings.IndexByte(tok, '='); i >= 0 {
		name, explicit, hasExplicit = tok[:i], tok[i+1:], true
		if d, ok := known[name]; ok {
			return d, explicit, true, nil
		}
	}
	if strings.HasPrefix(name, "--") {
		var matches []string
		for o := range known {
			if strings.HasPrefix(o, name) {
				matches = append(matches, o)
			}
		}
		sort.Strings(matches)
		switch len(matches) {
		case 0:
			return nil, "", false, nil
		case 1:
			return known[matches[0]], explicit, hasExplicit, nil
		default:
			// Several spellings of one argument are not ambiguous.
			first := known[matches[0]]
			same := true
			for _, m := range matches[1:] {
				if known[m] != first {
					same = false
				}
			}
			if same {
				return first, explicit, hasExplicit, nil
			}
			return nil, "", false, &usageError{msg: fmt.Sprintf("ambiguous option: %s could match %s", name, strings.Join(matches, ", "))}
		}
	}
	// A single-dash option with its value attached: -nvalue.
	if !hasExplicit && len(tok) > 2 && tok[1] != '-' {
		if d, ok := known[tok[:2]]; ok {
			return d, tok[2:], true, nil
		}
	}
	return nil, "", false, nil
}

// checkChoice validates v against def.choices (case-insensitively) and
// returns the canonical spelling.
func checkChoice(prog string, def *argDef, v string) (string, error) {
	if len(def.choices) == 0 {
		return v, nil
	}
	for _, c := range def.choices {
		if strings.EqualFold(c, v) {
			return c, nil
		}
	}
	if def.stockChoice {
		quoted := make([]string, len(def.choices))
		for i, c := range def.choices {
			quoted[i] = pyRepr(c)
		}
		return "", &usageError{msg: fmt.Sprintf("argument %s: invalid choice: %s (choose from %s)", def.name(), pyRepr(strings.ToLower(v)), strings.Join(quoted, ", "))}
	}
	e := &usageError{msg: fmt.Sprintf("%s: '%s' is not a valid value for '%s'. Allowed values: %s.", prog, v, def.options[0], strings.Join(def.choices, ", "))}
	if m := closeMatch(v, def.choices); m != "" {
		e.recommendations = append(e.recommendations, fmt.Sprintf("Did you mean '%s' ?", m))
	}
	return "", e
}

// pyRepr quotes a string the way Python's repr() does for simple strings.
func pyRepr(s string) string {
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		return `"` + s + `"`
	}
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", `\'`) + "'"
}

// closeMatch is difflib.get_close_matches(word, choices, n=1, cutoff=0.7).
func closeMatch(word string, choices []string) string {
	best, bestScore := "", 0.7
	for _, c := range choices {
		if s := similarity(word, c); s >= bestScore && (best == "" || s > bestScore) {
			best, bestScore = c, s
		}
	}
	return best
}

// similarity is difflib.SequenceMatcher(None, a, b).ratio(): twice the
// number of matched characters (longest matching blocks, recursively)
// over the total length.
func similarity(a, b string) float64 {
	if len(a)+len(b) == 0 {
		return 1
	}
	return 2 * float64(matchedChars(a, b)) / float64(len(a)+len(b))
}

func matchedChars(a, b string) int {
	if a == "" || b == "" {
		return 0
	}
	// Longest common substring, leftmost in a.
	bestI, bestJ, bestN := 0, 0, 0
	for i := 0; i < len(a); i++ {
		for j := 0; j < len(b); j++ {
			n := 0
			for i+n < len(a) && j+n < len(b) && a[i+n] == b[j+n] {
				n++
			}
			if n > bestN {
				bestI, bestJ, bestN = i, j, n
			}
		}
	}
	if bestN == 0 {
		return 0
	}
	return bestN + matchedChars(a[:bestI], b[:bestJ]) + matchedChars(a[bestI+bestN:], b[bestJ+bestN:])
}
