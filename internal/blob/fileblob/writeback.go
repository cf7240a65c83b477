package fileblob

import "os"

// writebackEvery is how many written bytes make the writer ask the kernel
// to start writing them to disk. Without it a blob's dirty pages sit in
// the page cache until the commit's fsync, which then waits for all of
// them: receiving and writing would take turns instead of overlapping.
const writebackEvery = 8 << 20

// fileWriter appends to a file, starting writeback behind itself every
// writebackEvery bytes, so the fsync at commit only waits for the tail.
type fileWriter struct {
	f       *os.File
	off     int64 // end of what has been written
	flushed int64 // writeback has been started up to here
}

func (w *fileWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.off += int64(n)
	if w.off-w.flushed >= writebackEvery {
		startWriteback(w.f, w.flushed, w.off-w.flushed)
		w.flushed = w.off
	}
	return n, err
}
