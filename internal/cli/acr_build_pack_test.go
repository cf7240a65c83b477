package cli

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The expected archives were obtained once by running az 2.45's own
// packer (Debian's azure/cli/command_modules/acr/_archive_utils.py,
// _pack_source_code) on the same trees with python3 and listing the
// members; az walks in os.listdir order, Cerulean in name order, so the
// lists are compared sorted (the root "/" first and the Dockerfile's copy
// last are checked apart).
func TestPackContextMatchesAz(t *testing.T) {
	tests := []struct {
		name       string
		files      map[string]string // "@name" is a symlink to the value
		dockerfile string
		want       []string // az's members (tarfile names: no trailing '/', root "")
	}{
		{"research", map[string]string{".dockerignore": "node_modules\n*.txt\n!a.txt\nsub/*.md\n", "Dockerfile": "FROM scratch\n", "a.txt": "", "b.txt": "", "node_modules/x.js": "", "sub/b.txt": "", "sub/c.md": "", ".git/config": "", "@link": "a.txt"},
			"Dockerfile", []string{"", ".dockerignore", "Dockerfile", "link", "sub", "sub/b.txt", "a.txt", "UUID_Dockerfile"}},
		{"doublestar", map[string]string{".dockerignore": "**/*.md\n!docs/keep.md\n", "Dockerfile": "", "docs/a.md": "", "docs/keep.md": "", "x.md": "", "deep/y/z.md": "", "deep/y/z.txt": ""},
			"Dockerfile", []string{"", ".dockerignore", "Dockerfile", "deep", "deep/y", "deep/y/z.txt", "docs", "docs/keep.md", "UUID_Dockerfile"}},
		{"reinclude", map[string]string{".dockerignore": "build\n!build/keep\n", "Dockerfile": "", "build/a": "", "build/keep": "", "build/sub/c": ""},
			"Dockerfile", []string{"", ".dockerignore", "Dockerfile", "build/keep", "UUID_Dockerfile"}},
		{"allbut", map[string]string{".dockerignore": "# comment\n\n*\n!Dockerfile\n!src\n", "Dockerfile": "", "src/main.go": "", "src/deep/x": "", "other": "", "other2/y": ""},
			"Dockerfile", []string{"src", "src/main.go", "src/deep", "src/deep/x", "Dockerfile", "UUID_Dockerfile"}},
		{"override", map[string]string{".dockerignore": "other\n", "app.Dockerfile.dockerignore": "secret\n", "app.Dockerfile": "", "secret": "", "other": ""},
			"app.Dockerfile", []string{"", "other", "app.Dockerfile.dockerignore", "app.Dockerfile", "UUID_app.Dockerfile"}},
		{"nodockerignore", map[string]string{"Dockerfile": "", ".git/x": "", ".gitignore": "", "sub/.git/y": "", ".hg/z": "", "bzrignore": "", ".bzrignore": "", "normal": ""},
			"Dockerfile", []string{"", ".bzrignore", "Dockerfile", "sub", "sub/.git", "sub/.git/y", "normal", "UUID_Dockerfile"}},
		{"slashes", map[string]string{".dockerignore": "/abs\ndir/\n?.cfg\n!/keep/\nkeep\n", "Dockerfile": "", "abs": "", "dir/f": "", "a.cfg": "", "ab.cfg": "", "keep": ""},
			"Dockerfile", []string{"", ".dockerignore", "ab.cfg", "dir", "dir/f", "abs", "Dockerfile", "UUID_Dockerfile"}},
		{"laterwins", map[string]string{".dockerignore": "!x.log\n*.log\n", "Dockerfile": "", "x.log": "", "y.log": ""},
			"Dockerfile", []string{"", ".dockerignore", "Dockerfile", "UUID_Dockerfile"}},
		{"crlfbom", map[string]string{".dockerignore": "\ufeffa.txt  \r\nb.txt\r\n", "Dockerfile": "", "a.txt": "", "b.txt": "", "c.txt": ""},
			"Dockerfile", []string{"", ".dockerignore", "Dockerfile", "c.txt", "UUID_Dockerfile"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeTree(t, tt.files)
			hdrs, _ := packAndRead(t, dir, filepath.Join(dir, tt.dockerfile), "UUID_"+tt.dockerfile)
			var got []string
			for _, h := range hdrs {
				got = append(got, strings.TrimSuffix(h.Name, "/"))
			}
			if got[len(got)-1] != "UUID_"+tt.dockerfile {
				t.Errorf("last entry %q, want the Dockerfile's copy", got[len(got)-1])
			}
			if slices.Contains(tt.want, "") && hdrs[0].Name != "/" {
				t.Errorf("first entry %q, want the root \"/\"", hdrs[0].Name)
			}
			want := slices.Clone(tt.want)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("members\n got %q\nwant %q", got, want)
			}
		})
	}
}

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, content := range files {
		if name, ok := strings.CutPrefix(p, "@"); ok {
			if err := os.Symlink(content, filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
			continue
		}
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// packAndRead packs dir and returns the headers and file contents.
func packAndRead(t *testing.T, dir, dockerfile, inTar string) ([]*tar.Header, map[string]string) {
	t.Helper()
	var buf bytes.Buffer
	nop := func(string, ...any) {}
	if err := packContext(&buf, dir, dockerfile, inTar, nop, nop); err != nil {
		t.Fatal(err)
	}
	return readArchive(t, buf.Bytes())
}

func readArchive(t *testing.T, data []byte) ([]*tar.Header, map[string]string) {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var hdrs []*tar.Header
	contents := map[string]string{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		contents[h.Name] = string(b)
		hdrs = append(hdrs, h)
	}
	return hdrs, contents
}

// The entries themselves: PAX headers with the fraction of a second of the
// modification time, symlinks as symlinks, file bytes, directories with a
// trailing slash, a hard link to a file already written as a link.
func TestPackContextEntries(t *testing.T) {
	dir := writeTree(t, map[string]string{"Dockerfile": "FROM scratch\n", "sub/f": "hello", "@ln": "sub/f"})
	if err := os.Link(filepath.Join(dir, "sub/f"), filepath.Join(dir, "z-hard")); err != nil {
		t.Fatal(err)
	}
	mtime := time.Date(2024, 5, 1, 12, 0, 0, 250_000_000, time.UTC)
	if err := os.Chtimes(filepath.Join(dir, "sub/f"), mtime, mtime); err != nil {
		t.Fatal(err)
	}
	hdrs, contents := packAndRead(t, dir, filepath.Join(dir, "Dockerfile"), "u_Dockerfile")
	byName := map[string]*tar.Header{}
	for _, h := range hdrs {
		byName[h.Name] = h
		if h.Format != tar.FormatPAX {
			t.Errorf("%s: format %v, want PAX", h.Name, h.Format)
		}
	}
	if h := byName["ln"]; h == nil || h.Typeflag != tar.TypeSymlink || h.Linkname != "sub/f" {
		t.Errorf("ln = %+v", h)
	}
	if h := byName["sub/"]; h == nil || h.Typeflag != tar.TypeDir {
		t.Errorf("sub/ = %+v", h)
	}
	if contents["sub/f"] != "hello" || contents["u_Dockerfile"] != "FROM scratch\n" {
		t.Errorf("contents %q", contents)
	}
	if h := byName["z-hard"]; h == nil || h.Typeflag != tar.TypeLink || h.Linkname != "sub/f" {
		t.Errorf("z-hard = %+v", h)
	}
	if got := byName["sub/f"].PAXRecords["mtime"]; got != "1714564800.25" {
		t.Errorf("sub/f PAX mtime %q, want 1714564800.25", got)
	}
}

func TestPackContextErrors(t *testing.T) {
	tests := []struct {
		name    string
		ignore  string
		wantErr string
	}{
		{"bare bang", "!\n", "invalid .dockerignore rule '!'"},
		{"bad regexp", "a(b\n", "invalid .dockerignore rule 'a(b'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeTree(t, map[string]string{"Dockerfile": "", ".dockerignore": tt.ignore})
			nop := func(string, ...any) {}
			err := packContext(io.Discard, dir, filepath.Join(dir, "Dockerfile"), "x", nop, nop)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
