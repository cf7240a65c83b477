package s3blob

import (
	"io"
	"testing"
)

// BenchmarkUploadAndRead: a 64 MiB blob written through an upload session
// in 1 MiB writes and committed (parts, completion, server-side copy), then
// read back through Open.
func BenchmarkUploadAndRead(b *testing.B) {
	s := newStore(b, testOptions(b))
	ctx := b.Context()
	content := random(64 << 20)
	d := sha256Of(content)
	b.SetBytes(int64(len(content)))
	for b.Loop() {
		u, err := s.Upload(ctx, "bench", true)
		if err != nil {
			b.Fatal(err)
		}
		for off := 0; off < len(content); off += 1 << 20 {
			if _, err := u.Write(content[off : off+1<<20]); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := u.Commit(ctx, d, int64(len(content))); err != nil {
			b.Fatal(err)
		}
		r, err := s.Open(ctx, d)
		if err != nil {
			b.Fatal(err)
		}
		if n, err := io.Copy(io.Discard, r); err != nil || n != int64(len(content)) {
			b.Fatalf("read %d bytes: %v", n, err)
		}
		_ = r.Close()
		if err := s.Delete(ctx, d); err != nil {
			b.Fatal(err)
		}
	}
}
