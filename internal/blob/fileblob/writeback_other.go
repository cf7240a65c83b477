//go:build !linux

package fileblob

import "os"

// startWriteback is a no-op where sync_file_range does not exist; the
// commit's fsync does all the writing.
func startWriteback(*os.File, int64, int64) {}
