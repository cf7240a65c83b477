package task

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRunID(t *testing.T) {
	for seq, want := range map[int64]string{1: "ca1", 9: "ca9", 10: "caa", 11: "cab", 35: "caz", 36: "ca10", 1295: "cazz"} {
		if got := runID(seq); got != want {
			t.Errorf("runID(%d) = %s, want %s", seq, got, want)
		}
	}
}

func TestSplitShell(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string
		bad  bool
	}{
		{in: `busybox echo hello`, want: []string{"busybox", "echo", "hello"}},
		{in: `  a   'b c'  "d \"e\" \$f" g\ h ''`, want: []string{"a", "b c", `d "e" $f`, "g h", ""}},
		{in: `sh -c 'echo $HOME; ls'`, want: []string{"sh", "-c", "echo $HOME; ls"}},
		{in: `a "b`, bad: true},
		{in: `a 'b`, bad: true},
		{in: ``, want: nil},
	} {
		got, err := splitShell(tt.in)
		if (err != nil) != tt.bad || !tt.bad && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("splitShell(%q) = %q, %v; want %q (error %v)", tt.in, got, err, tt.want, tt.bad)
		}
	}
}

func TestParseCommand(t *testing.T) {
	for _, tt := range []struct {
		cmd  string
		want commandStep
		bad  bool
	}{
		{cmd: "mcr.microsoft.com/hello-world", want: commandStep{Image: "mcr.microsoft.com/hello-world", Args: []string{}}},
		{cmd: "--network host img", want: commandStep{Image: "img", Args: []string{}, Network: true}},
		{cmd: `--rm -e A=1 --env=B=2 -e NOVALUE --network none -v /x:/y --name n r.io/busybox sh -c "echo hi"`,
			want: commandStep{Image: "r.io/busybox", Args: []string{"sh", "-c", "echo hi"}, Env: []string{"A=1", "B=2"}, Network: false, Ignored: []string{"-v", "--name"}}},
		{cmd: "--privileged img", want: commandStep{Image: "img", Args: []string{}, Ignored: []string{"--privileged"}}},
		{cmd: "--rm -e", bad: true},
		{cmd: "--rm", bad: true},
		{cmd: `img "unterminated`, bad: true},
	} {
		got, err := parseCommand(tt.cmd)
		if (err != nil) != tt.bad {
			t.Errorf("parseCommand(%q): error %v, want error %v", tt.cmd, err, tt.bad)
			continue
		}
		if !tt.bad && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseCommand(%q) = %+v, want %+v", tt.cmd, got, tt.want)
		}
	}
}

func TestDecodeTask(t *testing.T) {
	enc := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	// az 2.45's exact form, with the trailing space after "steps:".
	tf, err := decodeTask(enc("version: v1.1.0\nsteps: \n  - cmd: $Registry/busybox echo {{.Run.ID}}\n    disableWorkingDirectoryOverride: true\n    timeout: 600\n"))
	if err != nil || len(tf.Steps) != 1 || tf.Steps[0].Cmd != "$Registry/busybox echo {{.Run.ID}}" || tf.Steps[0].Timeout != 600 {
		t.Fatalf("decodeTask = %+v, %v", tf, err)
	}
	d := newTemplateData("ca7", "reg.azurecr.localhost", "reg", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Platform{OS: "linux", Architecture: "amd64"}, nil)
	cmd, err := render("cmd", expandAliases(tf.Steps[0].Cmd+" $RegistryName $ID $Date", d), d)
	if err != nil || cmd != "reg.azurecr.localhost/busybox echo ca7 reg ca7 20260102-030405z" {
		t.Fatalf("expanded cmd %q, %v", cmd, err)
	}
	for _, bad := range []string{"not base64!", enc("steps: []"), enc("steps:\n  - build: -t x .\n"), enc("steps:\n  - cmd: ''\n"), enc("steps: [")} {
		if _, err := decodeTask(bad); err == nil {
			t.Errorf("decodeTask(%q) accepted", bad)
		}
	}
	if _, err := render("image name", "x:{{.Run.Nope}}", d); err == nil {
		t.Error("an unknown template field was accepted")
	}
}

func TestImageRef(t *testing.T) {
	for in, want := range map[string]string{
		"app":                                   "r.io/app:latest",
		"app:v1":                                "r.io/app:v1",
		"team/app:ca1":                          "r.io/team/app:ca1",
		"r.io/app:v2":                           "r.io/app:v2",
		"app@sha256:" + strings.Repeat("a", 64): "r.io/app@sha256:" + strings.Repeat("a", 64),
	} {
		if got, err := imageRef("r.io", in); err != nil || got != want {
			t.Errorf("imageRef(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "other.io/app", "localhost/app", "a b"} {
		if _, err := imageRef("r.io", bad); err == nil {
			t.Errorf("imageRef(%q) accepted", bad)
		}
	}
}

// tarEntry is one entry of a test archive.
type tarEntry struct {
	hdr  tar.Header
	body string
}

func archive(t *testing.T, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		h := e.hdr
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		h.Format = tar.FormatPAX
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func file(name, body string) tarEntry {
	return tarEntry{hdr: tar.Header{Name: name, Typeflag: tar.TypeReg, ModTime: time.Unix(1700000000, 0)}, body: body}
}

func TestExtractContext(t *testing.T) {
	// az's shape: the root as "/", then relative names, a symlink.
	data := archive(t,
		tarEntry{hdr: tar.Header{Name: "/", Typeflag: tar.TypeDir, Mode: 0o755}},
		file("Dockerfile", "FROM scratch\n"),
		tarEntry{hdr: tar.Header{Name: "sub", Typeflag: tar.TypeDir, Mode: 0o4755, ModTime: time.Unix(1600000000, 0)}},
		tarEntry{hdr: tar.Header{Name: "sub/run.sh", Typeflag: tar.TypeReg, Mode: 0o6755}, body: "#!/bin/sh\n"},
		tarEntry{hdr: tar.Header{Name: "link", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}},
		tarEntry{hdr: tar.Header{Name: "hard", Typeflag: tar.TypeLink, Linkname: "Dockerfile"}},
		file("deep/er/file", "x"), // parents not listed
	)
	dir := t.TempDir()
	if err := extractContext(bytes.NewReader(data), dir, defaultExtractLimits); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "Dockerfile")); err != nil || string(b) != "FROM scratch\n" {
		t.Fatalf("Dockerfile %q, %v", b, err)
	}
	fi, err := os.Stat(filepath.Join(dir, "sub", "run.sh"))
	if err != nil || fi.Mode().Perm() != 0o755 || fi.Mode()&(os.ModeSetuid|os.ModeSetgid) != 0 {
		t.Fatalf("run.sh mode %v, %v: want 0755 without setuid", fi.Mode(), err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "sub")); err != nil || !fi.ModTime().Equal(time.Unix(1600000000, 0)) || fi.Mode()&os.ModeSetuid != 0 {
		t.Fatalf("sub: %v, %v", fi.ModTime(), err)
	}
	if target, err := os.Readlink(filepath.Join(dir, "link")); err != nil || target != "/etc/passwd" {
		t.Fatalf("link %q, %v", target, err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "deep", "er", "file")); err != nil || string(b) != "x" {
		t.Fatalf("deep file %q, %v", b, err)
	}
}

func TestExtractContextAttacks(t *testing.T) {
	outside := t.TempDir()
	victim := filepath.Join(outside, "victim")
	huge := tar.Header{Name: "big", Typeflag: tar.TypeReg, PAXRecords: map[string]string{"comment": strings.Repeat("x", 2<<20)}}
	for _, tt := range []struct {
		name    string
		entries []tarEntry
		lim     extractLimits
	}{
		{"dotdot", []tarEntry{file("../victim", "pwned")}, defaultExtractLimits},
		{"dotdot inside", []tarEntry{file("a/../../victim", "pwned")}, defaultExtractLimits},
		{"symlink then write through it", []tarEntry{
			{hdr: tar.Header{Name: "esc", Typeflag: tar.TypeSymlink, Linkname: outside}},
			file("esc/victim", "pwned"),
		}, defaultExtractLimits},
		{"relative symlink then write through it", []tarEntry{
			{hdr: tar.Header{Name: "esc", Typeflag: tar.TypeSymlink, Linkname: "../../../../../../../../" + outside}},
			file("esc/victim", "pwned"),
		}, defaultExtractLimits},
		{"symlink as a parent dir", []tarEntry{
			{hdr: tar.Header{Name: "d", Typeflag: tar.TypeSymlink, Linkname: outside}},
			{hdr: tar.Header{Name: "d/sub", Typeflag: tar.TypeDir, Mode: 0o755}},
		}, defaultExtractLimits},
		{"hard link out", []tarEntry{{hdr: tar.Header{Name: "h", Typeflag: tar.TypeLink, Linkname: "../victim"}}}, defaultExtractLimits},
		{"hard link through a symlink", []tarEntry{
			{hdr: tar.Header{Name: "esc", Typeflag: tar.TypeSymlink, Linkname: outside}},
			{hdr: tar.Header{Name: "h", Typeflag: tar.TypeLink, Linkname: "esc/victim"}},
		}, defaultExtractLimits},
		{"char device", []tarEntry{{hdr: tar.Header{Name: "null", Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 3}}}, defaultExtractLimits},
		{"block device", []tarEntry{{hdr: tar.Header{Name: "sda", Typeflag: tar.TypeBlock, Devmajor: 8}}}, defaultExtractLimits},
		{"fifo", []tarEntry{{hdr: tar.Header{Name: "p", Typeflag: tar.TypeFifo}}}, defaultExtractLimits},
		{"huge header", []tarEntry{{hdr: huge}}, defaultExtractLimits},
		{"long name", []tarEntry{file(strings.Repeat("n/", 2100)+"f", "x")}, defaultExtractLimits},
		{"too large", []tarEntry{file("a", "12345"), file("b", "678901")}, extractLimits{MaxBytes: 10, MaxEntries: 10, MaxName: 100}},
		{"too many entries", []tarEntry{file("a", ""), file("b", ""), file("c", "")}, extractLimits{MaxBytes: 10, MaxEntries: 2, MaxName: 100}},
		{"file over a dir", []tarEntry{
			{hdr: tar.Header{Name: "d", Typeflag: tar.TypeDir, Mode: 0o755}}, file("d", "x"),
		}, defaultExtractLimits},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var data []byte
			if tt.name == "huge header" {
				// archive/tar refuses to write it: build it by hand.
				data = hugePAX(t)
			} else {
				data = archive(t, tt.entries...)
			}
			dir := t.TempDir()
			err := extractContext(bytes.NewReader(data), dir, tt.lim)
			if err == nil || !strings.Contains(err.Error(), "failed to extract the source code") {
				t.Fatalf("extracted, or failed otherwise: %v", err)
			}
			t.Log(err)
			if _, err := os.Lstat(victim); err == nil {
				t.Fatal("wrote outside the context")
			}
			if entries, _ := os.ReadDir(outside); len(entries) != 0 {
				t.Fatalf("created %v outside the context", entries)
			}
		})
	}
	// Absolute names land inside the context.
	dir := t.TempDir()
	if err := extractContext(bytes.NewReader(archive(t, file(victim, "inside"))), dir, defaultExtractLimits); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(victim); err == nil {
		t.Fatal("an absolute name was written outside the context")
	}
	if b, err := os.ReadFile(filepath.Join(dir, victim)); err != nil || string(b) != "inside" {
		t.Fatalf("absolute name inside: %q, %v", b, err)
	}
}

// hugePAX is a tar.gz whose first entry's PAX header is 2 MiB.
func hugePAX(t *testing.T) []byte {
	t.Helper()
	rec := "comment=" + strings.Repeat("x", 2<<20) + "\n"
	// A PAX record is "<len> <key>=<value>\n" where len counts itself.
	n := len(rec) + 1
	for len(strconv.Itoa(n))+1+len(rec) != n {
		n = len(strconv.Itoa(n)) + 1 + len(rec)
	}
	rec = strconv.Itoa(n) + " " + rec
	var buf bytes.Buffer
	hdr := make([]byte, 512)
	copy(hdr, "PaxHeaders/big")
	copy(hdr[100:], "0000644\x00")
	copy(hdr[124:], padOctal(len(rec), 11))
	hdr[156] = 'x'
	copy(hdr[257:], "ustar\x0000")
	for i := 148; i < 156; i++ {
		hdr[i] = ' '
	}
	sum := 0
	for _, c := range hdr {
		sum += int(c)
	}
	copy(hdr[148:], padOctal(sum, 6)+"\x00 ")
	buf.Write(hdr)
	buf.WriteString(rec)
	buf.Write(make([]byte, (512-len(rec)%512)%512))
	buf.Write(make([]byte, 1024))
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	_, _ = zw.Write(buf.Bytes())
	_ = zw.Close()
	return out.Bytes()
}

func padOctal(n, width int) string {
	s := ""
	for ; n > 0; n /= 8 {
		s = string(rune('0'+n%8)) + s
	}
	for len(s) < width {
		s = "0" + s
	}
	return s
}
