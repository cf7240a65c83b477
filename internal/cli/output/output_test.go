// Golden-file tests: every case of testdata/cases.json is rendered in every
// format and compared with testdata/golden/<case>.<format>. The golden
// files were checked against knack itself with testdata/knackref.py.
// Run `go test -update` to rewrite them.

package output

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

type testCase struct {
	Name        string `json:"name"`
	Input       string `json:"input"`
	Query       string `json:"query"`
	Transformer string `json:"transformer"`
}

type testSpec struct {
	Inputs map[string]json.RawMessage `json:"inputs"`
	Cases  []testCase                 `json:"cases"`
}

func groupRow(v any) Row {
	g := v.(map[string]any)
	return Row{
		{"Name", g["name"]},
		{"Location", g["location"]},
		{"Status", g["properties"].(map[string]any)["provisioningState"]},
	}
}

var transformers = map[string]TableTransformer{
	"group_list": func(v any) any {
		var rows []Row
		for _, g := range v.([]any) {
			rows = append(rows, groupRow(g))
		}
		return rows
	},
	"group_show": func(v any) any { return groupRow(v) },
}

func loadSpec(t *testing.T, path string) testSpec {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var spec testSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatal(err)
	}
	return spec
}

// render runs Write the way the CLI would for one case.
func render(tc testCase, input json.RawMessage, f Format) []byte {
	var q *Query
	if tc.Query != "" {
		var err error
		if q, err = CompileQuery(tc.Query); err != nil {
			return []byte("error: " + err.Error() + "\n")
		}
	}
	var opts []Option
	if tc.Transformer != "" {
		opts = append(opts, WithTable(transformers[tc.Transformer]))
	}
	var buf bytes.Buffer
	if err := Write(&buf, input, f, q, opts...); err != nil {
		return []byte("error: " + err.Error() + "\n")
	}
	return buf.Bytes()
}

func TestGolden(t *testing.T) {
	spec := loadSpec(t, filepath.Join("testdata", "cases.json"))
	dir := filepath.Join("testdata", "golden")
	if *update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range spec.Cases {
		input, ok := spec.Inputs[tc.Input]
		if !ok {
			t.Fatalf("case %s: no input %q", tc.Name, tc.Input)
		}
		for _, f := range Formats() {
			t.Run(tc.Name+"."+string(f), func(t *testing.T) {
				got := render(tc, input, f)
				path := filepath.Join(dir, tc.Name+"."+string(f))
				if *update {
					if err := os.WriteFile(path, got, 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test -update)", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("output differs from %s\n got: %q\nwant: %q", path, got, want)
				}
			})
		}
	}
}

// TestReference renders another cases file into a directory, for comparison
// with testdata/knackref.py's rendering of the same file. It only runs when
// KNACKREF_CASES and KNACKREF_OUT are set.
func TestReference(t *testing.T) {
	cases, out := os.Getenv("KNACKREF_CASES"), os.Getenv("KNACKREF_OUT")
	if cases == "" || out == "" {
		t.Skip("KNACKREF_CASES and KNACKREF_OUT are not set")
	}
	spec := loadSpec(t, cases)
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range spec.Cases {
		for _, f := range Formats() {
			got := render(tc, spec.Inputs[tc.Input], f)
			if err := os.WriteFile(filepath.Join(out, tc.Name+"."+string(f)), got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestParseFormat(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Format
		err  string
	}{
		{in: "json", want: JSON},
		{in: "JSONC", want: JSONC},
		{in: "Table", want: Table},
		{in: "tsv", want: TSV},
		{in: "yaml", want: YAML},
		{in: "yamlc", want: YAMLC},
		{in: "none", want: None},
		{in: "xml", err: "argument --output/-o: invalid choice: 'xml' (choose from 'json', 'jsonc', 'yaml', 'yamlc', 'table', 'tsv', 'none')"},
		{in: "", err: "argument --output/-o: invalid choice: '' (choose from 'json', 'jsonc', 'yaml', 'yamlc', 'table', 'tsv', 'none')"},
	} {
		got, err := ParseFormat(tc.in)
		if tc.err != "" {
			var ice *InvalidChoiceError
			if err == nil || err.Error() != tc.err || !errors.As(err, &ice) {
				t.Errorf("ParseFormat(%q) error = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestPlain(t *testing.T) {
	for in, want := range map[Format]Format{JSONC: JSON, YAMLC: YAML, JSON: JSON, Table: Table, None: None} {
		if got := in.Plain(); got != want {
			t.Errorf("%s.Plain() = %s, want %s", in, got, want)
		}
	}
}

func TestCompileQueryError(t *testing.T) {
	for expr, want := range map[string]string{
		"[?name=='x'": `argument --query: invalid jmespath_type value: "[?name=='x'"`,
		"foo[":        `argument --query: invalid jmespath_type value: 'foo['`,
		`a."b`:        `argument --query: invalid jmespath_type value: 'a."b'`,
	} {
		_, err := CompileQuery(expr)
		var qe *QueryError
		if err == nil || err.Error() != want || !errors.As(err, &qe) || qe.Unwrap() == nil {
			t.Errorf("CompileQuery(%q) error = %v, want %q", expr, err, want)
		}
	}
	q, err := CompileQuery("[0].name")
	if err != nil || q.String() != "[0].name" {
		t.Fatalf("CompileQuery = %v, %v", q, err)
	}
}

type vm struct {
	Name     string            `json:"name"`
	Location string            `json:"location"`
	Cores    int               `json:"cores"`
	Tags     map[string]string `json:"tags"`
}

// Go values are normalised through encoding/json: struct fields keep their
// order where knack keeps insertion order (table under --query), and are
// sorted where knack sorts.
func TestGoValues(t *testing.T) {
	vms := []vm{{Name: "b", Location: "x", Cores: 2, Tags: map[string]string{"z": "1", "a": "2"}}, {Name: "a", Location: "y", Cores: 8}}
	all, _ := CompileQuery("[]")
	for _, tc := range []struct {
		f    Format
		q    *Query
		want string
	}{
		{JSON, nil, "[\n  {\n    \"cores\": 2,\n    \"location\": \"x\",\n    \"name\": \"b\",\n    \"tags\": {\n      \"a\": \"2\",\n      \"z\": \"1\"\n    }\n  },\n  {\n    \"cores\": 8,\n    \"location\": \"y\",\n    \"name\": \"a\",\n    \"tags\": null\n  }\n]\n"},
		{Table, nil, "Cores    Location    Name\n-------  ----------  ------\n2        x           b\n8        y           a\n"},
		{Table, all, "Name    Location    Cores\n------  ----------  -------\nb       x           2\na       y           8\n"},
		{TSV, all, "2\tx\tb\t\n8\ty\ta\tNone\n"},
	} {
		var buf bytes.Buffer
		if err := Write(&buf, vms, tc.f, tc.q); err != nil {
			t.Fatal(err)
		}
		if buf.String() != tc.want {
			t.Errorf("%s: got %q, want %q", tc.f, buf.String(), tc.want)
		}
	}
}

func TestWriteErrors(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, 1, Format("xml"), nil); err == nil {
		t.Error("Write with an unknown format succeeded")
	}
	if err := Write(&buf, make(chan int), JSON, nil); err == nil {
		t.Error("Write of an unmarshalable value succeeded")
	}
	boom := WithTable(func(any) any { panic("missing key") })
	err := Write(&buf, map[string]any{"a": 1}, Table, nil, boom)
	if !errors.Is(err, ErrTableUnavailable) {
		t.Errorf("failing transformer: error = %v, want ErrTableUnavailable", err)
	}
	// The transformer is not used with a query, nor for other formats.
	q, _ := CompileQuery("a")
	for _, f := range []Format{JSON, TSV} {
		buf.Reset()
		if err := Write(&buf, map[string]any{"a": 1}, f, nil, boom); err != nil || buf.String() != "{\n  \"a\": 1\n}\n" && buf.String() != "1\n" {
			t.Errorf("%s with transformer: %q, %v", f, buf.String(), err)
		}
	}
	buf.Reset()
	if err := Write(&buf, map[string]any{"a": 1}, Table, q, boom); err != nil || buf.String() != "Result\n--------\n1\n" {
		t.Errorf("table with query and transformer: %q, %v", buf.String(), err)
	}
	if buf.Len() == 0 {
		t.Error("no output")
	}
	if buf.Reset(); Write(&buf, nil, JSON, nil) != nil || buf.Len() != 0 {
		t.Errorf("null result printed %q", buf.String())
	}
	if buf.Reset(); Write(&buf, map[string]any{"a": 1}, None, nil) != nil || buf.Len() != 0 {
		t.Errorf("-o none printed %q", buf.String())
	}
}

func TestPyFloat(t *testing.T) {
	for f, want := range map[float64]string{
		0: "0.0", 1: "1.0", -2.5: "-2.5", 0.1: "0.1", 1e16: "1e+16", 1e15: "1000000000000000.0",
		1234567890123456.7: "1234567890123456.8", 0.0001: "0.0001", 0.00001: "1e-05", 1.5e300: "1.5e+300",
		123456789012345678: "1.2345678901234568e+17",
	} {
		if got := pyFloat(f); got != want {
			t.Errorf("pyFloat(%v) = %q, want %q", f, got, want)
		}
	}
}

// go-jmespath computes with float64. Integral results print as Python ints
// (length() is an int in Python), but an integral float such as 3.0 taken
// unchanged from the input stays a float, as in Python (az prints a
// container's cpu 1.0 so); one that a query compares (a filter) loses its
// float spelling.
func TestQueryNumberSpelling(t *testing.T) {
	in := json.RawMessage(`[3.0, 12345678901234567891, 1e16, -0.0, {"cpu": 1.0, "count": 1}]`)
	for _, tc := range []struct{ query, want string }{
		{"[length(@), [0], [1], [2], [3]]", "5\n3.0\n12345678901234567891\n1e+16\n-0.0\n"},
		{"[4].[cpu, count]", "1.0\n1\n"},
		{"[4]", "1\t1.0\n"},
		{"[4].{c: cpu, n: length([[0]])}", "1.0\t1\n"},
		{"[?cpu > `0`].cpu", "1\n"},
	} {
		q, err := CompileQuery(tc.query)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := Write(&buf, in, TSV, q); err != nil {
			t.Fatal(err)
		}
		if buf.String() != tc.want {
			t.Errorf("%s: got %q, want %q", tc.query, buf.String(), tc.want)
		}
	}
}
