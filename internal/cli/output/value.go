// This file normalises results into the small data model the formatters
// work on, keeping the key-order information knack relies on.
//
// Python's knack sees plain dicts (insertion ordered), OrderedDicts (built by
// JMESPath multi-select hashes and by table transformers), lists, str, int,
// float, bool and None. Here decoded JSON objects are plain
// map[string]any values (so that go-jmespath can search them) and a side
// table, keyed by map identity, remembers each object's document order.
// finalize then turns the tree into *object values that carry their key
// order and whether they behave like an OrderedDict.

package output

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// object is a finalised JSON object.
type object struct {
	keys []string
	vals []any
	// ordered marks an OrderedDict: knack's TSV output keeps its key order
	// instead of sorting it.
	ordered bool
}

// sortedKeys returns the keys in code point order (Python's sorted()).
func (o *object) sortedKeys() []int {
	idx := make([]int, len(o.keys))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return o.keys[idx[a]] < o.keys[idx[b]] })
	return idx
}

// pyNum is a number, spelled the way Python's repr() spells the int or
// float that json.loads would have produced.
type pyNum string

// isFloat reports whether n stands for a Python float.
func (n pyNum) isFloat() bool { return strings.ContainsAny(string(n), ".ein") }

// state carries the order and number bookkeeping of one Write call.
type state struct {
	// order records the document key order of every decoded object.
	order map[uintptr][]string
	// floats makes decode produce float64 numbers (what go-jmespath
	// needs) instead of json.Number.
	floats bool
	// markFloats makes decode produce floatLit for integral floats such as
	// 1.0 (see floatShadow).
	markFloats bool
	// literals maps a float64 produced by decode back to the number's
	// text, or to "" when several different texts share the value. It
	// keeps ints exact past 2^53 and large floats in float notation.
	literals map[float64]string
	// hashKeys are the key lists of the query's multi-select hashes.
	hashKeys [][]string
}

func newState(floats bool) *state {
	return &state{order: map[uintptr][]string{}, floats: floats, literals: map[float64]string{}}
}

func mapID(m map[string]any) uintptr { return reflect.ValueOf(m).Pointer() }

// decode parses JSON text, recording object key order.
func (st *state) decode(raw []byte) (any, error) {
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	v, err := st.decodeValue(dec)
	if err != nil {
		return nil, fmt.Errorf("output: %w", err)
	}
	return v, nil
}

func (st *state) decodeValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			m := map[string]any{}
			var keys []string
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, errors.New("invalid object key")
				}
				v, err := st.decodeValue(dec)
				if err != nil {
					return nil, err
				}
				if _, dup := m[k]; !dup {
					keys = append(keys, k)
				}
				m[k] = v
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			st.order[mapID(m)] = keys
			return m, nil
		case '[':
			l := []any{}
			for dec.More() {
				v, err := st.decodeValue(dec)
				if err != nil {
					return nil, err
				}
				l = append(l, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return l, nil
		}
		return nil, fmt.Errorf("unexpected delimiter %v", t)
	case json.Number:
		if !st.floats {
			return t, nil
		}
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return nil, err
		}
		text := string(numberRepr(t))
		if st.markFloats && pyNum(text).isFloat() && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return floatLit(f), nil
		}
		if pyNum(text).isFloat() && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			// An integral float such as 3.0 is indistinguishable from
			// the int a function like length() computes; prefer the int.
			return f, nil
		}
		if prev, seen := st.literals[f]; seen && prev != text {
			st.literals[f] = ""
		} else if !seen {
			st.literals[f] = text
		}
		return f, nil
	default: // string, bool, nil
		return t, nil
	}
}

// finalize converts a decoded (and possibly queried) tree into the
// formatters' model: *object, []any, string, pyNum, bool and nil.
func (st *state) finalize(v any) any {
	switch t := v.(type) {
	case map[string]any:
		o := &object{}
		if keys, ok := st.order[mapID(t)]; ok {
			o.keys = keys
		} else if keys := st.hashOrder(t); keys != nil {
			o.keys, o.ordered = keys, true
		} else {
			for k := range t {
				o.keys = append(o.keys, k)
			}
			sort.Strings(o.keys)
		}
		o.vals = make([]any, len(o.keys))
		for i, k := range o.keys {
			o.vals[i] = st.finalize(t[k])
		}
		return o
	case []any:
		l := make([]any, len(t))
		for i, e := range t {
			l[i] = st.finalize(e)
		}
		return l
	case json.Number:
		return numberRepr(t)
	case float64:
		return st.floatRepr(t)
	case floatLit:
		return pyNum(pyFloat(float64(t)))
	case int:
		return pyNum(strconv.Itoa(t))
	case string, bool, nil:
		return t
	default:
		// go-jmespath only yields JSON types; keep anything else visible.
		return fmt.Sprint(t)
	}
}

// hashOrder finds the multi-select hash that built m: a map that is not in
// the input document was created by the query, and knack builds those as
// OrderedDicts in the expression's key order.
func (st *state) hashOrder(m map[string]any) []string {
	for _, keys := range st.hashKeys {
		if len(keys) != len(m) {
			continue
		}
		all := true
		for _, k := range keys {
			if _, ok := m[k]; !ok {
				all = false
				break
			}
		}
		if all {
			return keys
		}
	}
	return nil
}

// floatRepr spells a query result number. go-jmespath computes with
// float64, so the int/float distinction Python keeps is recovered: numbers
// taken unchanged from the input keep their original spelling, and other
// integral values print as ints (as length(), sum() of ints and the like
// return in Python). An integral float such as 2.0 that the query takes
// unchanged from the input is a floatLit instead (Query.floatShadow).
func (st *state) floatRepr(f float64) pyNum {
	if text := st.literals[f]; text != "" {
		return pyNum(text)
	}
	if f == 0 && math.Signbit(f) {
		return "-0.0"
	}
	if f == math.Trunc(f) && math.Abs(f) < 1<<63 {
		return pyNum(strconv.FormatFloat(f, 'f', -1, 64))
	}
	return pyNum(pyFloat(f))
}

// numberRepr spells a JSON number the way Python prints the value that
// json.loads returns for it: integers exactly, anything with a fraction or
// an exponent as a float repr.
func numberRepr(n json.Number) pyNum {
	s := string(n)
	if !strings.ContainsAny(s, ".eE") {
		if i, ok := new(big.Int).SetString(s, 10); ok {
			return pyNum(i.String())
		}
	}
	f, _ := strconv.ParseFloat(s, 64) // ±Inf on overflow, as Python
	return pyNum(pyFloat(f))
}

// pyFloat is Python's repr(float): the shortest round-tripping digits, in
// positional notation when the decimal exponent is in [-4, 16) (with ".0"
// appended to integral values) and in scientific notation otherwise.
func pyFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	if f == 0 {
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	exp := int(math.Floor(math.Log10(math.Abs(f))))
	// Log10 can be off by one near powers of ten; use the digits instead.
	sci := strconv.FormatFloat(f, 'e', -1, 64)
	if i := strings.LastIndexByte(sci, 'e'); i >= 0 {
		if e, err := strconv.Atoi(sci[i+1:]); err == nil {
			exp = e
		}
	}
	if exp < -4 || exp >= 16 {
		return sci
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsRune(s, '.') {
		s += ".0"
	}
	return s
}
