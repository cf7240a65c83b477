package errdefs

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestIsMatchesKindAndReason(t *testing.T) {
	proto := New(NotFound, "ResourceGroupNotFound", "not found")
	err := fmt.Errorf("wrapped: %w", proto.WithMessage("Resource group '%s' could not be found.", "rg"))
	tests := []struct {
		name   string
		target error
		want   bool
	}{
		{"same prototype", proto, true},
		{"kind only", &Error{Kind: NotFound}, true},
		{"other reason", New(NotFound, "SubscriptionNotFound", ""), false},
		{"other kind", &Error{Kind: Conflict}, false},
		{"plain error", errors.New("x"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errors.Is(err, tt.target); got != tt.want {
				t.Fatalf("errors.Is = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAsClassifiesForeignErrors(t *testing.T) {
	if k := KindOf(errors.New("boom")); k != Internal {
		t.Fatalf("plain error kind = %v", k)
	}
	if k := KindOf(fmt.Errorf("x: %w", context.DeadlineExceeded)); k != Unavailable {
		t.Fatalf("deadline kind = %v", k)
	}
	if As(nil) != nil {
		t.Fatal("As(nil) must be nil")
	}
	e := Internalf(errors.New("disk on fire"), "writing %s", "x")
	if e.Message != "internal error" || !errors.Is(e, &Error{Kind: Internal}) {
		t.Fatalf("Internalf leaked or misclassified: %+v", e)
	}
	if got := e.Error(); got != "internal error: writing x: disk on fire" {
		t.Fatalf("Error() = %q", got)
	}
}

func TestHTTPStatusCoversEveryKind(t *testing.T) {
	want := map[Kind]int{Internal: 500, InvalidArgument: 400, Unauthenticated: 401, PermissionDenied: 403, NotFound: 404,
		AlreadyExists: 409, Conflict: 409, FailedPrecondition: 412, ResourceExhausted: 429, NotImplemented: 501, Unavailable: 503}
	for k := Internal; k <= Unavailable; k++ {
		if got := HTTPStatus(k); got != want[k] {
			t.Errorf("HTTPStatus(%v) = %d, want %d", k, got, want[k])
		}
		if k.String() == "" {
			t.Errorf("kind %d has no name", k)
		}
	}
}
