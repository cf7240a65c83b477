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

// BenchmarkLookupManifest is the data plane's manifest GET by tag: the
// registry, tag, manifest and repository in one store query
// (LookupManifest), then the checks and the bytes (GetLookedUpManifest).
func BenchmarkLookupManifest(b *testing.B) {
	e := newEnv(b)
	e.pushImage("app", "v1", content(1))
	ctx := b.Context()
	host := regName + "." + domain + ":8443"
	b.ReportAllocs()
	for b.Loop() {
		_, l, err := e.svc.LookupManifest(ctx, host, "app", "v1")
		if err != nil {
			b.Fatal(err)
		}
		_, rd, err := e.svc.GetLookedUpManifest(ctx, l)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, rd)
		_ = rd.Close()
	}
}
