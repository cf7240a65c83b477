package image

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/gzip"
	"golang.org/x/sys/unix"
)

// randomLayer is a gzip layer of one file of n incompressible bytes, the
// worst case for inflate (stored blocks still pass through it) and the
// case the benchmark sets.
func randomLayer(b *testing.B, seed uint64, n int64) v1.Layer {
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	if err := tw.WriteHeader(&tar.Header{Name: "data", Typeflag: tar.TypeReg, Mode: 0o644, Size: n, ModTime: time.Unix(1600000000, 0)}); err != nil {
		b.Fatal(err)
	}
	if _, err := io.CopyN(tw, rand.NewChaCha8([32]byte{byte(seed)}), n); err != nil {
		b.Fatal(err)
	}
	tw.Close()
	var zb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&zb, gzip.BestSpeed)
	zw.Write(tb.Bytes())
	zw.Close()
	return &blobLayer{data: zb.Bytes(), diffID: diffIDOf(tb.Bytes()), mt: "application/vnd.oci.image.layer.v1.tar+gzip"}
}

// BenchmarkPullUnpack is a cold Resolve+Pull of 4 incompressible gzip
// layers (32 MiB each, or CERULEAN_BENCH_LAYER_MIB) from a loopback TLS
// registry into an empty cache, syncfs included.
func BenchmarkPullUnpack(b *testing.B) {
	mib := int64(32)
	if s := os.Getenv("CERULEAN_BENCH_LAYER_MIB"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			b.Fatal(err)
		}
		mib = n
	}
	reg := newTestRegistry(b)
	var layers []v1.Layer
	var total int64
	for i := range 4 {
		l := randomLayer(b, uint64(i), mib<<20)
		sz, _ := l.Size()
		total += sz
		layers = append(layers, l)
	}
	reg.push(b, "bench:v1", testImage(b, "linux/amd64", layers...), nil)
	ref := reg.host + "/bench:v1"
	b.SetBytes(total)
	b.ReportMetric(float64(total)/(1<<20), "MiB/image")
	// CPU time tells more than wall time on a shared machine; it
	// includes the registry's side (TLS, serving) as a local server's
	// would be.
	var cpu time.Duration
	for i := 0; b.Loop(); i++ {
		before := cpuTime()
		dir := fmt.Sprintf("%s/%d", b.TempDir(), i)
		c, err := New(Config{Dir: dir, Transport: reg.transport()})
		if err != nil {
			b.Fatal(err)
		}
		ri, err := c.Resolve(b.Context(), ref, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Pull(b.Context(), ri, nil); err != nil {
			b.Fatal(err)
		}
		cpu += cpuTime() - before
		b.StopTimer()
		if err := os.RemoveAll(dir); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
}

func cpuTime() time.Duration {
	var ru unix.Rusage
	unix.Getrusage(unix.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
