// Package output renders a command's result the way the Azure CLI does.
//
// The Azure CLI delegates output to knack (knack/output.py and
// knack/query.py): the command result is filtered by the global --query
// JMESPath expression and then printed in one of the -o/--output formats
// json, jsonc, yaml, yamlc, table, tsv or none. This package reproduces those
// formatters byte for byte for JSON-shaped data:
//
//   - json: json.dumps(indent=2, sort_keys=True, ensure_ascii=False).
//   - jsonc: the json text coloured like Pygments' JsonLexer through its
//     TerminalFormatter.
//   - yaml: yaml.safe_dump(default_flow_style=False, allow_unicode=True)
//     (PyYAML's emitter: sorted keys, indentless sequences in mappings,
//     80-column folding, YAML 1.1 quoting rules).
//   - yamlc: the yaml text coloured like Pygments' YamlLexer.
//   - table: knack's _TableOutput piped through tabulate's "simple" format
//     with number parsing disabled and wide-character support.
//   - tsv: knack's _TsvOutput.
//   - none: nothing.
//
// Like knack, a result that is null (or a query that evaluates to null)
// prints nothing in every format.
//
// Values are first normalised through encoding/json, so anything that
// json.Marshal accepts can be written. Struct fields keep their declaration
// order (which matters wherever knack keeps insertion order: table columns
// when --query or a table transformer is active); map keys are ordered the
// way json.Marshal orders them.
package output

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Format is an -o/--output value.
type Format string

// The output formats of the Azure CLI.
const (
	JSON  Format = "json"
	JSONC Format = "jsonc"
	Table Format = "table"
	TSV   Format = "tsv"
	YAML  Format = "yaml"
	YAMLC Format = "yamlc"
	None  Format = "none"
)

// formatChoices lists the formats in the order knack registers them
// (OutputProducer._FORMAT_DICT), which is the order argparse prints in its
// "invalid choice" message.
var formatChoices = []Format{JSON, JSONC, YAML, YAMLC, Table, TSV, None}

// Formats returns every valid format, in knack's order.
func Formats() []Format { return append([]Format(nil), formatChoices...) }

// InvalidChoiceError is returned by ParseFormat for an unknown format.
type InvalidChoiceError struct {
	// Value is the rejected value, lower-cased as knack does before
	// checking it.
	Value string
}

func (e *InvalidChoiceError) Error() string {
	quoted := make([]string, len(formatChoices))
	for i, c := range formatChoices {
		quoted[i] = pyRepr(string(c))
	}
	return fmt.Sprintf("argument --output/-o: invalid choice: %s (choose from %s)",
		pyRepr(e.Value), strings.Join(quoted, ", "))
}

// ParseFormat validates an -o/--output value. Like knack (type=str.lower)
// the value is case-insensitive.
func ParseFormat(s string) (Format, error) {
	v := strings.ToLower(s)
	for _, c := range formatChoices {
		if string(c) == v {
			return c, nil
		}
	}
	return "", &InvalidChoiceError{Value: v}
}

// Plain returns the uncoloured variant of f: json for jsonc, yaml for yamlc
// and f itself otherwise. knack's get_formatter makes this substitution when
// colour is disabled (stdout is not a terminal, or core.no_color is set).
func (f Format) Plain() Format {
	switch f {
	case JSONC:
		return JSON
	case YAMLC:
		return YAML
	}
	return f
}

// TableTransformer reshapes a command's result for -o table, like the
// table_transformer of an Azure CLI command. It receives the normalised
// result: map[string]any, []any, string, json.Number, bool or nil. Its
// return value is normalised again through encoding/json, so it may return
// Rows (columns in the given order), structs (columns in field order) or
// maps (columns sorted by key).
type TableTransformer func(any) any

// Option customises Write.
type Option func(*options)

type options struct {
	table TableTransformer
}

// WithTable sets the table transformer. As in knack it is applied only when
// the format is table and no query is given; with --query the table shows
// the query result as is.
func WithTable(t TableTransformer) Option {
	return func(o *options) { o.table = t }
}

// Field is one cell of a Row.
type Field struct {
	Key   string
	Value any
}

// Row is an object whose keys keep their order, like Python's OrderedDict.
// Table transformers return Rows (or []Row) to choose the column order.
type Row []Field

// MarshalJSON encodes r as a JSON object with its keys in order.
func (r Row) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range r {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(f.Key)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(f.Value)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// ErrTableUnavailable is knack's message when a result cannot be shown as a
// table (for instance when the table transformer fails). Write wraps the
// underlying cause with it.
var ErrTableUnavailable = errors.New("Table output unavailable. " +
	"Use the --query option to specify an appropriate query. " +
	"Use --debug for more info.")

// Write renders v in format f after applying q (nil for no query).
//
// v is anything json.Marshal accepts. Nothing is written when v, or the
// query result, is null, nor for -o none (the query still runs, so its
// errors are still reported). jsonc and yamlc are always coloured; callers
// use Format.Plain when stdout is not a terminal, as knack does. Errors are
// an *InvalidChoiceError for an unknown format, a JMESPath runtime error
// from the query, or ErrTableUnavailable (wrapping the cause) when the
// table transformer fails.
func Write(w io.Writer, v any, f Format, q *Query, opts ...Option) error {
	f, err := ParseFormat(string(f))
	if err != nil {
		return err
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("output: %w", err)
	}
	var result any
	var st *state
	if q != nil {
		st = newState(true)
		doc, err := st.decode(raw)
		if err != nil {
			return err
		}
		if result, err = q.search(doc); err != nil {
			return err
		}
		shadow := newState(true)
		shadow.markFloats = true
		if sdoc, err := shadow.decode(raw); err == nil {
			result = q.floatShadow(result, sdoc)
		}
		st.hashKeys = q.hashKeys
	} else {
		st = newState(false)
		if result, err = st.decode(raw); err != nil {
			return err
		}
	}
	// knack prints nothing at all for a None result.
	if result == nil {
		return nil
	}
	var out []byte
	switch f {
	case None:
		return nil
	case JSON, JSONC:
		out = renderJSON(st.finalize(result), f == JSONC)
	case YAML, YAMLC:
		out = renderYAML(st.finalize(result))
		if f == YAMLC {
			out = colorYAML(out)
		}
	case TSV:
		out = renderTSV(st.finalize(result))
	case Table:
		transformed := o.table != nil && q == nil
		if transformed {
			if st, result, err = transformTable(o.table, result); err != nil {
				return fmt.Errorf("%w: %w", ErrTableUnavailable, err)
			}
		}
		out = renderTable(st.finalize(result), q == nil && !transformed)
	}
	_, err = w.Write(out)
	return err
}

// transformTable runs a table transformer and normalises its result.
func transformTable(t TableTransformer, in any) (st *state, result any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("table transformer: %v", r)
		}
	}()
	raw, err := json.Marshal(t(in))
	if err != nil {
		return nil, nil, err
	}
	st = newState(false)
	result, err = st.decode(raw)
	return st, result, err
}
