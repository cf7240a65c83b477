package cli

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden transcripts in testdata")

// TestTranscripts runs each testdata/*.txt transcript: every "$ az ..." line
// is run in order against one fresh fake server and config dir, and the
// file must equal the rendered stdout, stderr and exit code of each
// command. Comment lines (#) are kept. Run with -update to rewrite.
func TestTranscripts(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no transcripts in testdata")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			got := runTranscript(t, string(data))
			if *update {
				if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != string(data) {
				t.Errorf("%s differs (run with -update to accept):\n%s", file, diffLines(string(data), got))
			}
		})
	}
}

// runTranscript re-renders a transcript by running its commands.
func runTranscript(t *testing.T, text string) string {
	e := newTestEnv(t)
	var b strings.Builder
	skipping := false
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(line, "$ "):
			skipping = true
			cmdline := strings.TrimPrefix(line, "$ ")
			words, err := splitShell(cmdline)
			if err != nil {
				t.Fatal(err)
			}
			if len(words) == 0 || words[0] != "az" {
				t.Fatalf("transcript command must start with az: %q", line)
			}
			stdout, stderr, code := e.run(words[1:]...)
			fmt.Fprintf(&b, "$ %s\n--- stdout\n%s--- stderr\n%s--- exit %d\n\n",
				cmdline, withNewline(e.normalize(stdout)), withNewline(e.normalize(stderr)), code)
		case strings.HasPrefix(line, "#"):
			skipping = false
			b.WriteString(line + "\n")
		case !skipping && line != "":
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

func withNewline(s string) string {
	if s != "" && !strings.HasSuffix(s, "\n") {
		return s + "\n[no newline at end]\n"
	}
	return s
}

// diffLines shows the first differing lines.
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, a, b)
		}
	}
	return "(no line differs)"
}
