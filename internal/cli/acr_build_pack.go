package cli

// Packing a build context as az acr build does (acr/_archive_utils.py
// _pack_source_code): a gzip-compressed PAX tar whose first entry is the
// context directory itself (header name "/"), then every entry below it
// depth-first with names relative to the context, minus the version
// control files az leaves out at the context's root and what .dockerignore
// excludes — az's own reading of .dockerignore, not Docker's: each rule
// becomes an anchored regular expression, later rules win, a directory's
// entries inherit its verdict unless a higher-priority rule matches them,
// and excluded directories are still walked so that a '!' rule can bring
// entries back. The Dockerfile is added once more at the end under the
// name the build request names it by.
//
// Differences from az: entries are written in name order (az uses the
// directory order of os.listdir), and a hard link is only written as a
// link to an entry that is in the archive (az remembers every inode it
// looked at, excluded or not, and can link to an entry it left out).

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"
)

// vcsIgnored are the names az leaves out whatever .dockerignore says
// (common_vcs_ignore_list; "bzrignore" without its dot is az's spelling).
var vcsIgnored = map[string]bool{".git": true, ".gitignore": true, ".bzr": true, "bzrignore": true, ".hg": true, ".hgignore": true, ".svn": true}

// ignoreRule is _archive_utils.IgnoreRule.
type ignoreRule struct {
	rule    string
	ignore  bool
	pattern *regexp.Regexp
}

// newIgnoreRule translates a rule as az does: '!' negates (and only then
// are a leading '/' and trailing '/'s dropped); "**" path elements match
// anything, '*' any run of non-'/' characters, '?' one non-'/' character,
// '.' itself; every other character is left to the regular expression.
func newIgnoreRule(rule string) (ignoreRule, error) {
	r := ignoreRule{rule: rule, ignore: true}
	if strings.HasPrefix(rule, "!") {
		r.ignore = false
		rule = strings.TrimPrefix(rule[1:], "/")
		rule = strings.TrimRight(rule, "/")
		if rule == "" {
			return r, fmt.Errorf("invalid .dockerignore rule '%s'", r.rule)
		}
	}
	var p strings.Builder
	p.WriteString("^")
	tokens := strings.Split(rule, "/")
	for k, tok := range tokens {
		if tok == "**" {
			p.WriteString(".*")
			continue
		}
		tok = strings.NewReplacer("*", "[^/]*", "?", "[^/]", ".", `\.`).Replace(tok)
		p.WriteString(tok)
		if k < len(tokens)-1 {
			p.WriteString("/")
		}
	}
	p.WriteString("$")
	re, err := regexp.Compile(p.String())
	if err != nil {
		return r, fmt.Errorf("invalid .dockerignore rule '%s': %w", r.rule, err)
	}
	r.pattern = re
	return r, nil
}

// loadDockerignore is _load_dockerignore_file: the rules, highest
// priority first; nil when there is no ignore file. A Dockerfile named
// other than "Dockerfile" may have its own <name>.dockerignore, which
// then replaces .dockerignore and also excludes it.
func loadDockerignore(contextDir, dockerfileName string, warnf func(string, ...any)) ([]ignoreRule, error) {
	file := filepath.Join(contextDir, ".dockerignore")
	override := ""
	if dockerfileName != "Dockerfile" {
		override = filepath.Join(contextDir, dockerfileName+".dockerignore")
		if _, err := os.Stat(override); err == nil {
			warnf("Overriding .dockerignore with %s", override)
			file = override
		}
	}
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("'%s' is not valid UTF-8", file)
	}
	rules := []ignoreRule{}
	if file == override {
		r, _ := newIgnoreRule(".dockerignore")
		rules = append(rules, r)
	}
	// Python's universal newlines: \r\n, \r and \n all end a line.
	text := strings.ReplaceAll(strings.ReplaceAll(string(data), "\r\n", "\n"), "\r", "\n")
	for _, line := range strings.Split(text, "\n") {
		rule := strings.TrimRightFunc(line, isPySpace)
		if rule == "" || strings.HasPrefix(rule, "#") {
			continue
		}
		r, err := newIgnoreRule(rule)
		if err != nil {
			return nil, err
		}
		rules = append([]ignoreRule{r}, rules...) // the later rule wins
	}
	return rules, nil
}

// isPySpace is what str.rstrip() strips.
func isPySpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x1f, 0x85:
		return true
	}
	return r > 0x7f && strings.ContainsRune("\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000", r)
}

// contextPacker writes one context archive.
type contextPacker struct {
	tw     *tar.Writer
	rules  []ignoreRule // nil: no ignore file
	warnf  func(string, ...any)
	debugf func(string, ...any)
	// links maps a multiply-linked file's (device, inode) to the first name
	// it was written under.
	links map[[2]uint64]string
}

// packContext writes the archive of contextDir to w, the Dockerfile at
// dockerfilePath (if any) added again as dockerfileInTar.
func packContext(w io.Writer, contextDir, dockerfilePath, dockerfileInTar string, warnf, debugf func(string, ...any)) error {
	warnf("Packing source code into tar to upload...")
	var dockerfileName string
	if dockerfilePath != "" {
		dockerfileName = filepath.Base(strings.ReplaceAll(dockerfilePath, `\`, "/"))
	}
	rules, err := loadDockerignore(contextDir, dockerfileName, warnf)
	if err != nil {
		return err
	}
	gz := gzip.NewWriter(w)
	p := &contextPacker{tw: tar.NewWriter(gz), rules: rules, warnf: warnf, debugf: debugf, links: map[[2]uint64]string{}}
	if err := p.walk(contextDir, "", false, len(rules)); err != nil {
		return err
	}
	if dockerfilePath != "" {
		if _, _, err := p.add(dockerfilePath, dockerfileInTar); err != nil {
			return err
		}
	}
	if err := p.tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

// check is _ignore_check: whether name is left out, and the index of the
// rule that decided (rules at or after the parent's deciding rule have
// lower priority and are not consulted).
func (p *contextPacker) check(name string, parentIgnored bool, parentRule int) (bool, int) {
	if vcsIgnored[name] {
		p.warnf("Excluding '%s' based on default ignore rules", name)
		return true, parentRule
	}
	if p.rules == nil {
		return parentIgnored, parentRule
	}
	for k, r := range p.rules {
		if k >= parentRule {
			break
		}
		if r.pattern.MatchString(name) {
			p.debugf(".dockerignore: rule '%s' matches '%s'.", r.rule, name)
			return r.ignore, k
		}
	}
	p.debugf(".dockerignore: no rule for '%s'. parent ignore '%t'", name, parentIgnored)
	return parentIgnored, parentRule
}

// walk is _archive_file_recursively.
func (p *contextPacker) walk(path, name string, parentIgnored bool, parentRule int) error {
	hdr, fi, err := p.header(path, name)
	if err != nil {
		return err
	}
	ignored, rule := p.check(name, parentIgnored, parentRule)
	if !ignored {
		if err := p.write(path, hdr, fi); err != nil {
			return err
		}
	}
	if !fi.IsDir() {
		return nil
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return err
	}
	sort.Slice(entries, func(a, b int) bool { return entries[a].Name() < entries[b].Name() })
	for _, e := range entries {
		child := e.Name()
		if name != "" {
			child = name + "/" + child
		}
		if err := p.walk(filepath.Join(path, e.Name()), child, ignored, rule); err != nil {
			return err
		}
	}
	return nil
}

// add writes path under name (the Dockerfile's second copy).
func (p *contextPacker) add(path, name string) (*tar.Header, fs.FileInfo, error) {
	hdr, fi, err := p.header(path, name)
	if err != nil {
		return nil, nil, err
	}
	return hdr, fi, p.write(path, hdr, fi)
}

// header is tarfile.gettarinfo: the entry for path (not following a
// symbolic link), named name; directories get a trailing slash, the root
// ("") is "/".
func (p *contextPacker) header(path, name string) (*tar.Header, fs.FileInfo, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, nil, err
	}
	if fi.Mode()&fs.ModeSocket != 0 {
		return nil, nil, fmt.Errorf("tarfile: unsupported type %s", path)
	}
	var link string
	if fi.Mode()&fs.ModeSymlink != 0 {
		if link, err = os.Readlink(path); err != nil {
			return nil, nil, err
		}
	}
	hdr, err := tar.FileInfoHeader(fi, link)
	if err != nil {
		return nil, nil, fmt.Errorf("tarfile: unsupported type %s", path)
	}
	hdr.Name = name
	if fi.IsDir() {
		hdr.Name += "/"
	}
	// Python writes the modification time only (as a PAX record with its
	// fraction of a second).
	hdr.AccessTime, hdr.ChangeTime = time.Time{}, time.Time{}
	hdr.Format = tar.FormatPAX
	return hdr, fi, nil
}

// write appends the entry (and a regular file's bytes).
func (p *contextPacker) write(path string, hdr *tar.Header, fi fs.FileInfo) error {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && fi.Mode().IsRegular() && st.Nlink > 1 {
		key := [2]uint64{st.Dev, st.Ino}
		if first, seen := p.links[key]; seen && first != hdr.Name {
			hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
			return p.tw.WriteHeader(hdr)
		}
		p.links[key] = hdr.Name
	}
	if err := p.tw.WriteHeader(hdr); err != nil {
		return err
	}
	if hdr.Typeflag != tar.TypeReg {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	if _, err := io.CopyN(p.tw, f, hdr.Size); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
