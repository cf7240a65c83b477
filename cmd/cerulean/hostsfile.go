package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/cerulean/cerulean/internal/app"
	"github.com/cerulean/cerulean/internal/atomicfile"
)

// hostsBlock is Cerulean's block of a hosts file for one data dir: the
// lines between two marker comments that name the data dir, so that
// servers on two data dirs keep a block each.
type hostsBlock struct {
	begin, end string
	lines      []string
}

func newHostsBlock(dataDir string, entries []app.HostsEntry) (hostsBlock, error) {
	if strings.ContainsAny(dataDir, "\r\n") {
		return hostsBlock{}, fmt.Errorf("data dir %q: a hosts file marker cannot name a path with a line break", dataDir)
	}
	b := hostsBlock{
		begin: "# BEGIN cerulean (data dir " + dataDir + ")",
		end:   "# END cerulean (data dir " + dataDir + ")",
	}
	seen := map[string]bool{}
	for _, e := range entries {
		var names []string
		for _, n := range e.Names {
			// A name listed twice would resolve to the first line only.
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
		if len(names) > 0 {
			b.lines = append(b.lines, e.IP.String()+" "+strings.Join(names, " "))
		}
	}
	return b, nil
}

// render is the block as it stands in a file, every line ended by eol.
func (b hostsBlock) render(eol string) string {
	var sb strings.Builder
	for _, l := range append(append([]string{b.begin}, b.lines...), b.end) {
		sb.WriteString(l + eol)
	}
	return sb.String()
}

// hostsLine is one line of a file: its bytes as they are (terminator
// included) and its text for matching.
type hostsLine struct {
	raw  []byte
	text string
}

func splitLines(content []byte) []hostsLine {
	var out []hostsLine
	for len(content) > 0 {
		n := bytes.IndexByte(content, '\n') + 1
		if n == 0 {
			n = len(content)
		}
		raw := content[:n]
		out = append(out, hostsLine{raw: raw, text: strings.TrimRight(string(raw), " \t\r\n")})
		content = content[n:]
	}
	return out
}

// rewriteHosts returns content with b's block in place of the old one for
// the same data dir (at the first one's position, should the file hold
// several), or appended when there is none; a block without lines is
// removed. Every other line is kept byte for byte; the block's lines end
// as the file's do (CRLF or LF). It also returns the old block's lines.
func rewriteHosts(content []byte, b hostsBlock) ([]byte, []string, error) {
	eol := "\n"
	if bytes.Contains(content, []byte("\r\n")) {
		eol = "\r\n"
	}
	block := ""
	if len(b.lines) > 0 {
		block = b.render(eol)
	}
	var (
		out      bytes.Buffer
		old      []string
		inBlock  bool
		inserted bool
		beganAt  int
	)
	for i, l := range splitLines(content) {
		switch {
		case inBlock && l.text == b.end:
			inBlock = false
		case inBlock:
			if l.text != "" {
				old = append(old, l.text)
			}
		case l.text == b.begin:
			inBlock, beganAt = true, i+1
			if !inserted {
				out.WriteString(block)
				inserted = true
			}
		default:
			out.Write(l.raw)
		}
	}
	if inBlock {
		return nil, nil, fmt.Errorf("line %d opens Cerulean's block (%q) but no line closes it (%q): fix the file by hand", beganAt, b.begin, b.end)
	}
	if !inserted && block != "" {
		if out.Len() > 0 && !bytes.HasSuffix(out.Bytes(), []byte("\n")) {
			out.WriteString(eol)
		}
		out.WriteString(block)
	}
	return out.Bytes(), old, nil
}

// writeHosts replaces the file at path (following a symlink) with data,
// keeping its mode: atomically through a temporary file and a rename when
// it can, else in place. Docker bind-mounts /etc/hosts into containers,
// and a mount point cannot be renamed over (EBUSY, or EXDEV across file
// systems; EROFS when /etc itself is read-only).
func writeHosts(path string, data []byte) error {
	target, err := filepath.EvalSymlinks(path)
	if errors.Is(err, fs.ErrNotExist) {
		target, err = path, nil
	}
	if err != nil {
		return err
	}
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(target); err == nil {
		mode = fi.Mode().Perm()
	}
	err = atomicfile.WriteFile(target, data, mode)
	if errors.Is(err, syscall.EBUSY) || errors.Is(err, syscall.EXDEV) || errors.Is(err, syscall.EROFS) {
		err = writeInPlace(target, data)
	}
	if errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("cannot write %s: %w (run as root: sudo cerulean hosts …)", target, fs.ErrPermission)
	}
	return err
}

func writeInPlace(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
