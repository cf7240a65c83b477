package fileblob

import (
	"crypto/sha256"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"time"

	"github.com/cerulean/cerulean/internal/errdefs"
)

// The files of an upload session directory.
const (
	dataFile     = "data"
	stateFile    = "state"
	stateVersion = 1
)

// state is the JSON in uploads/<id>/state: everything needed to resume a
// session without reading its data.
type state struct {
	Version   int       `json:"version"`
	Offset    int64     `json:"offset"`     // bytes of data that the hash covers
	StartedAt time.Time `json:"started_at"` // when the session was created
	SHA256    []byte    `json:"sha256"`     // crypto/sha256 state (MarshalBinary), base64 in JSON
}

// resumableHash is a hash whose state can be saved and restored, as
// crypto/sha256's can.
type resumableHash interface {
	hash.Hash
	encoding.BinaryMarshaler
	encoding.BinaryUnmarshaler
}

// newSHA256 returns a running sha256 that can be saved in the state.
func newSHA256() resumableHash {
	return sha256.New().(resumableHash) // documented by crypto/sha256
}

// decodeState parses and checks a state file; any error means the session
// is corrupt.
func decodeState(raw []byte) (state, resumableHash, error) {
	var st state
	if err := json.Unmarshal(raw, &st); err != nil {
		return state{}, nil, fmt.Errorf("state file: %w", err)
	}
	switch {
	case st.Version != stateVersion:
		return state{}, nil, fmt.Errorf("state file: version %d", st.Version)
	case st.Offset < 0:
		return state{}, nil, fmt.Errorf("state file: offset %d", st.Offset)
	case st.StartedAt.IsZero():
		return state{}, nil, errors.New("state file: no started_at")
	}
	h := newSHA256()
	if err := h.UnmarshalBinary(st.SHA256); err != nil {
		return state{}, nil, fmt.Errorf("state file: sha256 state: %w", err)
	}
	return st, h, nil
}

// writeState replaces dir/state atomically: write a temporary file, fsync
// it, rename it over the old state, fsync dir. The caller fsyncs the data
// first, so a durable state never covers bytes that are not.
func (s *Store) writeState(dir string, st state, h resumableHash) error {
	hs, err := h.MarshalBinary()
	if err != nil {
		return errdefs.Internalf(err, "fileblob: save hash state")
	}
	st.Version, st.SHA256 = stateVersion, hs
	raw, err := json.Marshal(st)
	if err != nil {
		return errdefs.Internalf(err, "fileblob: encode state")
	}
	// One writer per session (the Store contract), so a fixed temporary
	// name suffices; a crash leaves at most this one file, removed with
	// the session.
	tmp, final := filepath.Join(dir, stateFile+".tmp"), filepath.Join(dir, stateFile)
	f, err := s.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, filePerm)
	if err != nil {
		return errdefs.Internalf(err, "fileblob: write %s", tmp)
	}
	_, err = f.Write(raw)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = s.root.Rename(tmp, final)
	}
	if err != nil {
		_ = s.root.Remove(tmp)
		return errdefs.Internalf(err, "fileblob: write %s", final)
	}
	s.syncDir(dir)
	return nil
}
