package accounts_test

import (
	"context"
	"errors"
	"testing"

	"github.com/gatehouse-dev/gatehouse/accounts"
	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/hashpool"
	"github.com/gatehouse-dev/gatehouse/password"
	"github.com/gatehouse-dev/gatehouse/store/storetest"
)

// While the hash pool is full, every call that hashes fails at once with
// ErrBusy (503, not a wrong password), for known and unknown accounts
// alike, and nothing is recorded as a failed sign-in.
func TestPooledHasherBusy(t *testing.T) {
	ctx := context.Background()
	st := storetest.OpenSQLite(t)
	pool := hashpool.New(1, -1)
	defer pool.Close()
	threads := hashpool.NewThreads(1)
	defer threads.Close()
	inner, err := password.New(password.Params{Memory: 1024, Iterations: 1})
	if err != nil {
		t.Fatal(err)
	}
	s, err := accounts.New(accounts.Config{Store: st, Hasher: accounts.PooledHasher(inner, pool, threads)})
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.Register(ctx, accounts.Registration{Username: "hal", Email: "hal@example.com", Password: "correct horse battery staple"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, "hal", "correct horse battery staple"); err != nil {
		t.Fatalf("Authenticate with a free pool = %v", err)
	}

	release, started := make(chan struct{}), make(chan struct{})
	go pool.Do(ctx, func() { close(started); <-release })
	<-started
	defer close(release)
	for _, login := range []string{"hal", "nobody"} {
		_, err := s.Authenticate(ctx, login, "correct horse battery staple")
		if !errors.Is(err, accounts.ErrBusy) || auth.ErrorCode(err) != auth.EUnavailable {
			t.Errorf("Authenticate(%q) with the pool full = %v, want ErrBusy (unavailable)", login, err)
		}
	}
	if _, err := s.Register(ctx, accounts.Registration{Username: "ivy", Email: "ivy@example.com", Password: "correct horse battery staple"}); !errors.Is(err, accounts.ErrBusy) {
		t.Errorf("Register with the pool full = %v, want ErrBusy", err)
	}
	if err := s.ChangePassword(ctx, u.ID, "correct horse battery staple", "another fine passphrase"); !errors.Is(err, accounts.ErrBusy) {
		t.Errorf("ChangePassword with the pool full = %v, want ErrBusy", err)
	}
}
