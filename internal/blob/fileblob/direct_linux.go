package fileblob

import (
	"errors"
	"os"
	"syscall"
)

// oDirect is the open flag for I/O around the page cache.
const oDirect = syscall.O_DIRECT

// isEINVAL reports the error a file system gives for direct I/O it does
// not support.
func isEINVAL(err error) bool { return errors.Is(err, syscall.EINVAL) }

// preadDirect is one pread(2): os.File.ReadAt would retry a short read at
// an unaligned offset, which direct I/O refuses.
func preadDirect(f *os.File, p []byte, off int64) (int, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var n int
	var rerr error
	if err := rc.Read(func(fd uintptr) bool {
		for {
			n, rerr = syscall.Pread(int(fd), p, off)
			if rerr != syscall.EINTR {
				return true
			}
		}
	}); err != nil {
		return 0, err
	}
	if rerr != nil {
		return 0, &os.PathError{Op: "pread", Path: f.Name(), Err: rerr}
	}
	return n, nil
}
