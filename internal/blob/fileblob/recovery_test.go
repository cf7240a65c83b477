package fileblob

import (
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cerulean/cerulean/internal/blob"
)

// TestResumeTruncatesUnrecordedData: bytes written after the last Close
// (a crash before the state was saved) are dropped on resume.
func TestResumeTruncatesUnrecordedData(t *testing.T) {
	s, dir := newStore(t)
	u := mustUpload(t, s, "crash", true)
	writeAll(t, u, []byte("hello"))
	if err := u.Close(); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "uploads/crash/data")
	f, err := os.OpenFile(data, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString(" torn garbage that the state does not cover")
	_ = f.Close()

	u = mustUpload(t, s, "crash", false)
	if u.Size() != 5 {
		t.Fatalf("resumed at %d, want 5", u.Size())
	}
	if fi, err := os.Stat(data); err != nil || fi.Size() != 5 {
		t.Fatalf("data file after resume: %v, %v", fi, err)
	}
	writeAll(t, u, []byte(" world"))
	info, err := u.Commit(t.Context(), sha256Of([]byte("hello world")), 11)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Open(t.Context(), info.Digest)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got, _ := io.ReadAll(r); string(got) != "hello world" {
		t.Fatalf("committed %q", got)
	}
}

// TestCorruptSession: a session that cannot be resumed is reported as
// ErrUploadNotFound and removed.
func TestCorruptSession(t *testing.T) {
	good := func(t *testing.T, dir string) state {
		t.Helper()
		raw, err := os.ReadFile(filepath.Join(dir, stateFile))
		if err != nil {
			t.Fatal(err)
		}
		var st state
		if err := json.Unmarshal(raw, &st); err != nil {
			t.Fatal(err)
		}
		return st
	}
	writeState := func(t *testing.T, dir string, v any) {
		t.Helper()
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, stateFile), raw, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		corrupt func(t *testing.T, dir string)
	}{
		{"data shorter than state", func(t *testing.T, dir string) {
			if err := os.Truncate(filepath.Join(dir, dataFile), 3); err != nil {
				t.Fatal(err)
			}
		}},
		{"data missing (crash after commit's rename)", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, dataFile)); err != nil {
				t.Fatal(err)
			}
		}},
		{"state missing (crash before the first Close)", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, stateFile)); err != nil {
				t.Fatal(err)
			}
		}},
		{"state not JSON", func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, stateFile), []byte("{garbage"), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{"state empty", func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, stateFile), nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{"unknown version", func(t *testing.T, dir string) {
			st := good(t, dir)
			st.Version = 2
			writeState(t, dir, st)
		}},
		{"negative offset", func(t *testing.T, dir string) {
			st := good(t, dir)
			st.Offset = -1
			writeState(t, dir, st)
		}},
		{"no started_at", func(t *testing.T, dir string) {
			st := good(t, dir)
			st.StartedAt = time.Time{}
			writeState(t, dir, st)
		}},
		{"bad hash state", func(t *testing.T, dir string) {
			st := good(t, dir)
			st.SHA256 = []byte("not a sha256 state")
			writeState(t, dir, st)
		}},
		{"no hash state", func(t *testing.T, dir string) {
			st := good(t, dir)
			st.SHA256 = nil
			writeState(t, dir, st)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, root := newStore(t)
			u := mustUpload(t, s, "victim", true)
			writeAll(t, u, []byte("some bytes"))
			if err := u.Close(); err != nil {
				t.Fatal(err)
			}
			sess := filepath.Join(root, "uploads/victim")
			tt.corrupt(t, sess)
			_, err := s.Upload(t.Context(), "victim", false)
			wantErr(t, "resume", err, blob.ErrUploadNotFound)
			if _, err := os.Lstat(sess); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("corrupt session still there: %v", err)
			}
			if left := listTree(t, filepath.Join(root, tmpDir)); len(left) != 0 {
				t.Fatalf("left in tmp/: %v", left)
			}
		})
	}
}
