//go:build !linux

package fileblob

import "os"

// oDirect is 0 where O_DIRECT does not exist: every write goes through
// the page cache.
const oDirect = 0

func isEINVAL(error) bool { return false }

// preadDirect is never called where oDirect is 0.
func preadDirect(*os.File, []byte, int64) (int, error) { return 0, errNoDirect }
