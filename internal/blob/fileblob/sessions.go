package fileblob

// Upload sessions: creating, resuming (with crash recovery), listing and
// removing them. The open session itself is in upload.go.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/cerulean/cerulean/internal/blob"
	"github.com/cerulean/cerulean/internal/errdefs"
)

var errUploadExists = errdefs.New(errdefs.AlreadyExists, "", "the upload session exists already")

func sessionDir(id string) string { return filepath.Join(uploadsDir, id) }

// Upload opens the session id, creating it when create is set
// (AlreadyExists if it exists) or resuming it (blob.ErrUploadNotFound if
// there is none, or if it is corrupt, which also removes it). Resuming
// truncates data written after the last Close.
func (s *Store) Upload(ctx context.Context, id string, create bool) (blob.Upload, error) {
	if !blob.ValidUploadID(id) {
		return nil, blob.ErrUploadNotFound.WithCause(errors.New("invalid upload id"))
	}
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	if create {
		return s.createUpload(id)
	}
	return s.resumeUpload(id)
}

func (s *Store) createUpload(id string) (*upload, error) {
	dir := sessionDir(id)
	if err := s.root.Mkdir(dir, dirPerm); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, errUploadExists.WithCause(err)
		}
		return nil, errdefs.Internalf(err, "fileblob: create upload %s", id)
	}
	name := filepath.Join(dir, dataFile)
	f, err := s.root.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, filePerm)
	if err != nil {
		_ = s.root.RemoveAll(dir)
		return nil, errdefs.Internalf(err, "fileblob: create upload %s", id)
	}
	w, _ := newBlobWriter(f, s.openDirect(name, true), 0) // nothing to read back at 0
	return &upload{
		s: s, id: id, dir: dir, f: f, w: w, h: newSHA256(),
		startedAt: time.Now().UTC(), dirty: true, created: true,
	}, nil
}

func (s *Store) resumeUpload(id string) (*upload, error) {
	dir := sessionDir(id)
	if err := s.checkSession(id); err != nil {
		return nil, err
	}
	raw, err := s.root.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		if isNotExist(err) {
			return nil, s.corrupt(id, err) // created, never closed: a crash
		}
		return nil, errdefs.Internalf(err, "fileblob: read upload %s", id)
	}
	st, h, err := decodeState(raw)
	if err != nil {
		return nil, s.corrupt(id, err)
	}
	name := filepath.Join(dir, dataFile)
	f, err := s.root.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		if isNotExist(err) {
			return nil, s.corrupt(id, err)
		}
		return nil, errdefs.Internalf(err, "fileblob: open upload %s", id)
	}
	fail := func(err error) (*upload, error) {
		_ = f.Close()
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		return fail(errdefs.Internalf(err, "fileblob: stat upload %s", id))
	}
	switch {
	case fi.Size() < st.Offset:
		_ = f.Close()
		return nil, s.corrupt(id, fmt.Errorf("data is %d bytes, state says %d", fi.Size(), st.Offset))
	case fi.Size() > st.Offset:
		// Written but never recorded by Close: drop it, the client resends.
		if err := f.Truncate(st.Offset); err != nil {
			return fail(errdefs.Internalf(err, "fileblob: truncate upload %s", id))
		}
	}
	w, err := newBlobWriter(f, s.openDirect(name, true), st.Offset)
	if err != nil {
		return fail(errdefs.Internalf(err, "fileblob: read upload %s", id))
	}
	return &upload{
		s: s, id: id, dir: dir, f: f, w: w, h: h, startedAt: st.StartedAt.UTC(),
	}, nil
}

// checkSession reports blob.ErrUploadNotFound unless uploads/<id> is a
// directory.
func (s *Store) checkSession(id string) error {
	fi, err := s.root.Lstat(sessionDir(id))
	switch {
	case err != nil && isNotExist(err):
		return blob.ErrUploadNotFound.WithCause(err)
	case err != nil:
		return errdefs.Internalf(err, "fileblob: stat upload %s", id)
	case !fi.IsDir():
		return blob.ErrUploadNotFound.WithCause(errors.New("not a directory"))
	}
	return nil
}

// corrupt removes a session that cannot be resumed and reports it missing.
func (s *Store) corrupt(id string, cause error) error {
	_ = s.removeSession(id)
	return blob.ErrUploadNotFound.WithCause(fmt.Errorf("corrupt upload session removed: %w", cause))
}

// removeSession takes uploads/<id> out of sight in one rename (so nobody
// sees half a session), then deletes it. blob.ErrUploadNotFound if it is
// gone already. A failed delete leaves garbage in tmp/ that New removes.
func (s *Store) removeSession(id string) error {
	trash := tmpName("upload-")
	if err := s.root.Rename(sessionDir(id), trash); err != nil {
		if isNotExist(err) {
			return blob.ErrUploadNotFound.WithCause(err)
		}
		return errdefs.Internalf(err, "fileblob: remove upload %s", id)
	}
	_ = s.root.RemoveAll(trash)
	return nil
}

// DeleteUpload discards a session; blob.ErrUploadNotFound if there is none.
func (s *Store) DeleteUpload(ctx context.Context, id string) error {
	if !blob.ValidUploadID(id) {
		return blob.ErrUploadNotFound.WithCause(errors.New("invalid upload id"))
	}
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if err := s.checkSession(id); err != nil {
		return err
	}
	return s.removeSession(id)
}

// WalkUploads calls fn with each session's id and the time of its last
// write (the data file's mtime). An error from fn stops the walk and is
// returned as is.
func (s *Store) WalkUploads(ctx context.Context, fn func(id string, modified time.Time) error) error {
	entries, err := fs.ReadDir(s.root.FS(), uploadsDir)
	if err != nil {
		return errdefs.Internalf(err, "fileblob: list uploads")
	}
	for _, e := range entries {
		if err := ctxErr(ctx); err != nil {
			return err
		}
		if !e.IsDir() || !blob.ValidUploadID(e.Name()) {
			continue
		}
		modified, ok := s.sessionModified(e.Name())
		if !ok {
			continue // removed while we walked
		}
		if err := fn(e.Name(), modified); err != nil {
			return err
		}
	}
	return nil
}

// sessionModified is the mtime of a session's data, or of its directory
// when a crash left no data file.
func (s *Store) sessionModified(id string) (time.Time, bool) {
	dir := sessionDir(id)
	for _, name := range []string{filepath.Join(dir, dataFile), dir} {
		if fi, err := s.root.Lstat(name); err == nil {
			return fi.ModTime().UTC(), true
		}
	}
	return time.Time{}, false
}
