package build

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cerulean/cerulean/internal/task"
)

// Attacks by a Dockerfile author or a build context, and what must hold.

// TestSecretBuildArgNotInHistory: a secret build arg expanded into ENV,
// LABEL or WORKDIR does not reach the image's history (the config is the
// author's explicit choice) nor the log.
func TestSecretBuildArgNotInHistory(t *testing.T) {
	needRoot(t)
	r := newTestRegistry(t)
	r.push(t, "base:v1", busybox(t))
	df := "ARG BASE\nFROM $BASE\nARG TOKEN\nENV T=$TOKEN\nLABEL l=$TOKEN\nWORKDIR /w-$TOKEN\nRUN true\n"
	res, logs, err := r.build(t, t.TempDir(), df, func(q *task.BuildRequest) {
		q.Args = append(q.Args, task.BuildArg{Name: "TOKEN", Value: "tok-very-secret", Secret: true})
	})
	if err != nil {
		t.Fatalf("build: %v\n%s", err, logs)
	}
	cf, err := r.pull(t, r.host+"/app@"+res.Images[0].Digest).ConfigFile()
	must(t, err)
	for _, h := range cf.History {
		if strings.Contains(h.CreatedBy, "tok-very-secret") {
			t.Errorf("history leaks the secret: %q", h.CreatedBy)
		}
	}
	if strings.Contains(logs, "tok-very-secret") {
		t.Errorf("the log leaks the secret:\n%s", logs)
	}
}

// TestRunCannotForgeWhiteouts: a RUN that creates a file named like an
// OCI whiteout would make the pushed layer delete what the builder's own
// later steps still see; it fails clearly instead.
func TestRunCannotForgeWhiteouts(t *testing.T) {
	needRoot(t)
	r := newTestRegistry(t)
	r.push(t, "base:v1", busybox(t))
	for _, script := range []string{"touch /.wh.etc", "touch /etc/.wh..wh..opq"} {
		_, logs, err := r.build(t, t.TempDir(), "ARG BASE\nFROM $BASE\nRUN "+script+"\n", func(q *task.BuildRequest) { q.Push = false })
		if err == nil || !strings.Contains(err.Error(), "reserved") {
			t.Errorf("RUN %s: %v, want an error naming the reserved name\n%s", script, err, logs)
		}
	}
}

// TestImageSymlinksNeverFollowedOnHost: the layer directories are host
// directories; a symlink in an image (to a host path) is resolved inside
// the image when COPY --from reads through it and when COPY or ADD
// writes through it.
func TestImageSymlinksNeverFollowedOnHost(t *testing.T) {
	needRoot(t)
	r := newTestRegistry(t)
	r.push(t, "base:v1", busybox(t))
	host := t.TempDir()
	must(t, os.WriteFile(filepath.Join(host, "secret"), []byte("host secret"), 0o644))
	var arch bytes.Buffer
	tw := tar.NewWriter(&arch)
	must(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: "up", Linkname: host}))
	must(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "up/planted", Size: 1, Mode: 0o644}))
	_, _ = tw.Write([]byte("x"))
	must(t, tw.Close())

	cases := map[string]struct {
		dockerfile string
		files      map[string]string
	}{
		"copy --from through an absolute symlink": {
			"ARG BASE\nFROM $BASE AS s\nRUN ln -s " + host + "/secret /leak && ln -s " + host + " /dir\n" +
				"FROM scratch\nCOPY --from=s /leak /a\nCOPY --from=s /dir/secret /b\n", nil,
		},
		"copy into an absolute symlink": {
			"ARG BASE\nFROM $BASE\nRUN ln -s " + host + " /into\nCOPY f /into/planted\nCOPY f /into/\n",
			map[string]string{"f": "x"},
		},
		"add an archive writing through its own symlink": {
			"FROM scratch\nADD a.tar /x/\n", map[string]string{"a.tar": arch.String()},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ctxDir := writeContext(t, tc.files)
			_, logs, _ := r.build(t, ctxDir, tc.dockerfile, func(q *task.BuildRequest) { q.Push = false })
			if strings.Contains(logs, "host secret") {
				t.Errorf("the build read the host's file:\n%s", logs)
			}
			if _, err := os.Lstat(filepath.Join(host, "planted")); err == nil {
				t.Fatalf("the build wrote into the host directory\n%s", logs)
			}
			if data, _ := os.ReadFile(filepath.Join(host, "secret")); string(data) != "host secret" {
				t.Fatalf("the host file changed")
			}
		})
	}
}
