package main

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/cerulean/cerulean/internal/app"
)

func TestRewriteHosts(t *testing.T) {
	lo := netip.MustParseAddr("127.0.0.1")
	b, err := newHostsBlock("/d", []app.HostsEntry{
		{IP: lo, Names: []string{"login.microsoftonline.com", "management.azure.com"}},
		{IP: lo, Names: []string{"myreg.azurecr.io"}},
		{IP: lo, Names: []string{"myreg.azurecr.io"}}, // listed once
		{IP: netip.MustParseAddr("127.1.0.1"), Names: []string{"web.eastus.azurecontainer.io"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	const block = "# BEGIN cerulean (data dir /d)\n" +
		"127.0.0.1 login.microsoftonline.com management.azure.com\n" +
		"127.0.0.1 myreg.azurecr.io\n" +
		"127.1.0.1 web.eastus.azurecontainer.io\n" +
		"# END cerulean (data dir /d)\n"
	if got := b.render("\n"); got != block {
		t.Fatalf("block:\n%s\nwant:\n%s", got, block)
	}
	crlf := strings.ReplaceAll(block, "\n", "\r\n")
	stale := "# BEGIN cerulean (data dir /d)\n127.0.0.1 deleted.azurecr.io\n# END cerulean (data dir /d)\n"
	other := "# BEGIN cerulean (data dir /other)\n127.0.0.1 theirs.azurecr.io\n# END cerulean (data dir /other)\n"
	const head = "127.0.0.1\tlocalhost   # keep  \n::1 localhost ip6-localhost\n"
	empty := hostsBlock{begin: b.begin, end: b.end}

	tests := []struct {
		name, in, want string
		block          hostsBlock
		was            []string
	}{
		{"empty file", "", block, b, nil},
		{"no block", head, head + block, b, nil},
		{"no trailing newline", "127.0.0.1 localhost", "127.0.0.1 localhost\n" + block, b, nil},
		{"stale block in the middle", head + stale + "10.0.0.1 db\n", head + block + "10.0.0.1 db\n", b, []string{"127.0.0.1 deleted.azurecr.io"}},
		{"current block", head + block, head + block, b, []string{"127.0.0.1 login.microsoftonline.com management.azure.com", "127.0.0.1 myreg.azurecr.io", "127.1.0.1 web.eastus.azurecontainer.io"}},
		{"another data dir's block", head + other, head + other + block, b, nil},
		{"between other blocks", other + stale + other, other + block + other, b, []string{"127.0.0.1 deleted.azurecr.io"}},
		{"CRLF", "127.0.0.1 localhost\r\n", "127.0.0.1 localhost\r\n" + crlf, b, nil},
		{"CRLF block without a final newline", "a\r\n" + strings.TrimSuffix(strings.ReplaceAll(stale, "\n", "\r\n"), "\r\n"), "a\r\n" + crlf, b, []string{"127.0.0.1 deleted.azurecr.io"}},
		{"two blocks of ours", stale + head + stale, block + head, b, []string{"127.0.0.1 deleted.azurecr.io", "127.0.0.1 deleted.azurecr.io"}},
		{"nothing to map removes the block", head + stale + "x\n", head + "x\n", empty, []string{"127.0.0.1 deleted.azurecr.io"}},
		{"nothing to map and no block", head, head, empty, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, was, err := rewriteHosts([]byte(tt.in), tt.block)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("got:\n%q\nwant:\n%q", got, tt.want)
			}
			if !slices.Equal(was, tt.was) {
				t.Fatalf("old lines %q, want %q", was, tt.was)
			}
			again, _, err := rewriteHosts(got, tt.block)
			if err != nil || !bytes.Equal(again, got) {
				t.Fatalf("not idempotent: %q, %v", again, err)
			}
		})
	}

	if _, _, err := rewriteHosts([]byte(head+"# BEGIN cerulean (data dir /d)\n127.0.0.1 x\n"), b); err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("an unterminated block: %v", err)
	}
	if _, err := newHostsBlock("/a\nb", nil); err == nil {
		t.Fatal("a data dir with a line break was accepted")
	}
}

// TestWriteHosts: the file keeps its mode, a symlink is followed (the
// link stays), and a file that cannot be renamed over — a bind mount, as
// Docker's /etc/hosts — is written in place.
func TestWriteHosts(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "hosts")
	if err := os.WriteFile(file, []byte("old\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink("hosts", link); err != nil {
		t.Fatal(err)
	}
	if err := writeHosts(link, []byte("new\n")); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v %v", fi.Mode(), err)
	}
	if data, err := os.ReadFile(file); err != nil || string(data) != "new\n" {
		t.Fatalf("file holds %q, %v", data, err)
	}
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o640 {
		t.Fatalf("mode %v, want 0640", fi.Mode().Perm())
	}

	if os.Geteuid() != 0 {
		t.Skip("bind-mounting a file needs root")
	}
	src := filepath.Join(dir, "src")
	if err := os.WriteFile(src, []byte("mounted\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dir, "mounted")
	if err := os.WriteFile(target, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount(src, target, "", syscall.MS_BIND, ""); err != nil {
		t.Skipf("bind mount: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(target, syscall.MNT_DETACH) })
	if err := writeHosts(target, []byte("rewritten\n")); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(src); err != nil || string(data) != "rewritten\n" {
		t.Fatalf("the bind-mounted file holds %q, %v", data, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 4 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
}
