package identity_test

import (
	"errors"
	"testing"
	"time"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/identity"
)

// TestPasswordDateRange: dates outside years 0001-9999 in UTC are the
// caller's error (400), not a credential the store cannot read back (500);
// a default end date is clamped to the end of year 9999.
func TestPasswordDateRange(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	east := time.FixedZone("UTC-5", -5*3600)
	west := time.FixedZone("UTC+5", 5*3600)
	at := func(y int, m time.Month, d, h int, loc *time.Location) *time.Time {
		v := time.Date(y, m, d, h, 0, 0, 0, loc)
		return &v
	}
	for name, in := range map[string]identity.PasswordInput{
		"end in year 10000":               {End: at(10000, 1, 1, 0, time.UTC)},
		"end in year 10000 in UTC":        {End: at(9999, 12, 31, 20, east)},
		"start in year 10000 in UTC":      {Start: at(9999, 12, 31, 20, east), End: at(9999, 12, 31, 23, time.UTC)},
		"start before year 1 in UTC":      {Start: at(1, 1, 1, 2, west)},
		"start in year 0":                 {Start: at(0, 6, 1, 0, time.UTC), End: at(2000, 1, 1, 0, time.UTC)},
		"start far in the future, no end": {Start: at(12000, 1, 1, 0, time.UTC)},
		"end far in the past, with start": {Start: at(-5, 1, 1, 0, time.UTC), End: at(-4, 1, 1, 0, time.UTC)},
	} {
		_, _, err := f.svc.AddPassword(ctx, identity.OnServicePrincipal, f.tenant.ID, f.sp.ID, in)
		if e, ok := errors.AsType[*errdefs.Error](err); !ok || !errors.Is(err, identity.ErrInvalidObject) || e.Target == "" {
			t.Errorf("%s: err = %v, want InvalidObject", name, err)
		}
	}
	sp, err := f.svc.ServicePrincipal(ctx, f.tenant.ID, f.sp.ID)
	if err != nil || len(sp.Passwords) != 1 {
		t.Fatalf("refused credentials were stored or the principal is unreadable: %d, %v", len(sp.Passwords), err)
	}

	// The last moments of year 9999 are fine, and read back.
	cred, _, err := f.svc.AddPassword(ctx, identity.OnServicePrincipal, f.tenant.ID, f.sp.ID, identity.PasswordInput{End: at(9999, 12, 31, 18, east)})
	if err != nil || !cred.EndDateTime.Equal(time.Date(9999, 12, 31, 23, 0, 0, 0, time.UTC)) {
		t.Fatalf("end late in 9999: %v %v", cred.EndDateTime, err)
	}
	// A start near the end of 9999 without an end date gets the clamped
	// default instead of start + 2 years.
	cred, _, err = f.svc.AddPassword(ctx, identity.OnServicePrincipal, f.tenant.ID, f.sp.ID, identity.PasswordInput{Start: at(9999, 6, 1, 0, time.UTC)})
	if want := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC); err != nil || !cred.EndDateTime.Equal(want) {
		t.Fatalf("clamped default end: %v, want %v (%v)", cred.EndDateTime, want, err)
	}
	sp, err = f.svc.ServicePrincipal(ctx, f.tenant.ID, f.sp.ID)
	if err != nil || len(sp.Passwords) != 3 {
		t.Fatalf("read back: %d credentials, %v", len(sp.Passwords), err)
	}
	// The secret with the clamped end still authenticates (start in the
	// future means not yet valid, so check the late-end one instead).
	if _, err := f.svc.Authenticate(ctx, f.tenant.ID, f.app.AppID, f.secret); err != nil {
		t.Fatalf("authenticate: %v", err)
	}
}
