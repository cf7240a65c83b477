package registry

import (
	"context"

	"github.com/opencontainers/go-digest"
)

// LockDigest holds a digest's lock as a push does from commit to link.
func (s *Service) LockDigest(ctx context.Context, d digest.Digest) (func(), error) {
	return s.digests.lock(ctx, d.String())
}

// GCTurn is RunGC's turn at the "gc" lock: ok when this server collects.
func (s *Service) GCTurn(ctx context.Context, held func()) (release func(), ok bool) {
	return s.gcTurn(ctx, held)
}
