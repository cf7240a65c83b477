// Round-trip check of the YAML emitter: what it writes must read back, with
// gopkg.in/yaml.v3, as the data that was written.

package output

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"

	"gopkg.in/yaml.v3"
)

// normalizeYAMLValue makes a yaml.v3 decoding comparable with a JSON one:
// numbers become float64 and maps map[string]any.
func normalizeYAMLValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = normalizeYAMLValue(e)
		}
		return t
	case []any:
		for i, e := range t {
			t[i] = normalizeYAMLValue(e)
		}
		return t
	case int:
		return float64(t)
	case uint64:
		return float64(t)
	case float64, string, bool, nil:
		return t
	}
	return v
}

func TestYAMLRoundTrip(t *testing.T) {
	spec := loadSpec(t, filepath.Join("testdata", "cases.json"))
	for name, input := range spec.Inputs {
		var want any
		if err := json.Unmarshal(input, &want); err != nil {
			t.Fatal(err)
		}
		if want == nil {
			continue // knack prints nothing for None
		}
		var buf bytes.Buffer
		if err := Write(&buf, input, YAML, nil); err != nil {
			t.Fatal(err)
		}
		var got any
		if err := yaml.Unmarshal(buf.Bytes(), &got); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, buf.String())
		}
		got = normalizeYAMLValue(got)
		// yaml.v3 reads the 20-digit integers into float64 too, so both
		// sides lose the same precision.
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: read back %#v, want %#v\n%s", name, got, want, buf.String())
		}
	}
}
