package totp

import (
	"testing"
	"time"
)

func TestPending(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f *fixture) {
		if _, err := f.svc.Pending(ctx, f.alice); err != ErrNoEnrollment {
			t.Errorf("Pending(no enrolment) = %v, want ErrNoEnrollment", err)
		}
		begun, err := f.svc.BeginEnrollment(ctx, f.alice)
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.svc.Pending(ctx, f.alice)
		if err != nil {
			t.Fatalf("Pending() = %v", err)
		}
		if *got != *begun {
			t.Errorf("Pending() = %+v, want what BeginEnrollment returned, %+v", got, begun)
		}

		f.clock.Add(16 * time.Minute)
		if _, err := f.svc.Pending(ctx, f.alice); err != ErrNoEnrollment {
			t.Errorf("Pending(expired enrolment) = %v, want ErrNoEnrollment", err)
		}

		f.enable(t)
		if _, err := f.svc.Pending(ctx, f.alice); err != ErrAlreadyEnabled {
			t.Errorf("Pending(TOTP on) = %v, want ErrAlreadyEnabled", err)
		}
	})
}
