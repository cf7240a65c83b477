package fileblob

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"
)

const (
	benchSize  = 64 << 20
	benchChunk = 1 << 20
)

func benchContent(b *testing.B) []byte {
	b.Helper()
	data := make([]byte, benchSize)
	_, _ = rand.Read(data)
	return data
}

// BenchmarkUpload measures a push through an upload session: 64 MiB in
// 1 MiB writes, then Commit (hash check, fsync, rename, dir fsync).
func BenchmarkUpload(b *testing.B) {
	data := benchContent(b)
	for _, alg := range []digest.Algorithm{digest.SHA256, digest.SHA512} {
		b.Run(alg.String(), func(b *testing.B) {
			s := benchStore(b)
			d := alg.FromBytes(data)
			b.SetBytes(benchSize)
			i := 0
			for b.Loop() {
				i++
				u, err := s.Upload(b.Context(), fmt.Sprintf("bench-%d", i), true)
				if err != nil {
					b.Fatal(err)
				}
				for off := 0; off < len(data); off += benchChunk {
					if _, err := u.Write(data[off : off+benchChunk]); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := u.Commit(b.Context(), d, benchSize); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if err := s.Delete(b.Context(), d); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		})
	}
}

// BenchmarkPut measures a monolithic push of 64 MiB.
func BenchmarkPut(b *testing.B) {
	data := benchContent(b)
	s := benchStore(b)
	d := digest.SHA256.FromBytes(data)
	b.SetBytes(benchSize)
	for b.Loop() {
		if _, err := s.Put(b.Context(), d, benchSize, bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := s.Delete(b.Context(), d); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// BenchmarkDiskBaseline is the ceiling the two above are judged against:
// the same 64 MiB in 1 MiB writes and one fsync, no hashing, no rename.
func BenchmarkDiskBaseline(b *testing.B) {
	data := benchContent(b)
	dir := b.TempDir()
	b.SetBytes(benchSize)
	for b.Loop() {
		name := filepath.Join(dir, "f")
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			b.Fatal(err)
		}
		for off := 0; off < len(data); off += benchChunk {
			if _, err := f.Write(data[off : off+benchChunk]); err != nil {
				b.Fatal(err)
			}
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
		_ = f.Close()
		b.StopTimer()
		_ = os.Remove(name)
		b.StartTimer()
	}
}

func benchStore(b *testing.B) *Store {
	b.Helper()
	s, err := New(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return s
}
