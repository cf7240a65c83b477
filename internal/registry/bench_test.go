package registry_test

import (
	"io"
	"testing"
)

// BenchmarkGetManifest is the service's share of a manifest GET by tag:
// tag, manifest and repository lookups, and opening the bytes.
func BenchmarkGetManifest(b *testing.B) {
	e := newEnv(b)
	e.pushImage("app", "v1", content(1))
	ctx := b.Context()
	b.ResetTimer()
	for b.Loop() {
		_, rd, err := e.svc.GetManifest(ctx, regName, "app", "v1")
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, rd)
		_ = rd.Close()
	}
}
