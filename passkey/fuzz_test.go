package passkey_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/internal/webauthntest"
	"github.com/gatehouse-dev/gatehouse/passkey"
)

// memStore is a passkey.Store in memory, so that fuzzing runs at the speed
// of the code under test rather than of a database.
type memStore struct {
	mu       sync.Mutex
	handles  map[string][]byte
	passkeys []*auth.Passkey
}

func newMemStore() *memStore { return &memStore{handles: map[string][]byte{}} }

func (m *memStore) UserHandle(_ context.Context, userID string, create bool) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if h, ok := m.handles[userID]; ok {
		return h, nil
	}
	if !create {
		return nil, auth.Errorf(auth.ENotFound, "No handle.")
	}
	h := bytes.Repeat([]byte{byte(len(m.handles) + 1)}, auth.UserHandleLen)
	m.handles[userID] = h
	return h, nil
}

func (m *memStore) FindPasskeyByCredentialID(_ context.Context, id []byte) (*auth.Passkey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range m.passkeys {
		if bytes.Equal(p.CredentialID, id) {
			c := *p
			return &c, nil
		}
	}
	return nil, auth.Errorf(auth.ENotFound, "No passkey.")
}

func (m *memStore) CreatePasskey(_ context.Context, p *auth.Passkey) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	p.ID = auth.NewID()
	c := *p
	m.passkeys = append(m.passkeys, &c)
	return nil
}

func (m *memStore) UpdatePasskeyUse(_ context.Context, id string, n uint32, bs, clone bool, used time.Time) error {
	return nil
}

// fuzzSetup makes a relying party on a memStore, with alice holding two
// passkeys, and returns it with alice, her handle, the lookup of her, and
// good registration and login answers to seed the corpus.
func fuzzSetup(f *testing.F) (*passkey.RelyingParty, *auth.User, []byte, passkey.Lookup, [][]byte) {
	st := newMemStore()
	rp, err := passkey.New(passkey.Config{RPID: rpID, Origins: []string{origin}, Store: st})
	if err != nil {
		f.Fatal(err)
	}
	alice := &auth.User{ID: "alice-id", Username: "alice"}
	var seeds [][]byte
	for _, a := range []*webauthntest.Authenticator{synced(), deviceBound()} {
		options, id, err := rp.BeginRegistration(ctx, alice, nil)
		if err != nil {
			f.Fatal(err)
		}
		reg, _, err := a.Create(options)
		if err != nil {
			f.Fatal(err)
		}
		if _, err := rp.FinishRegistration(ctx, alice, id, reg); err != nil {
			f.Fatal(err)
		}
		options, _, _ = rp.BeginLogin(ctx, nil, nil)
		login, _ := a.Get(options)
		seeds = append(seeds, reg, login)
	}
	aliceHandle, _ := st.UserHandle(ctx, alice.ID, false)
	lookup := func(handle []byte) (*auth.User, []*auth.Passkey, error) {
		if !bytes.Equal(handle, aliceHandle) {
			return nil, nil, auth.Errorf(auth.ENotFound, "No user.")
		}
		st.mu.Lock()
		defer st.mu.Unlock()
		return alice, append([]*auth.Passkey(nil), st.passkeys...), nil
	}
	seeds = append(seeds, []byte(``), []byte(`{}`), []byte(`null`), []byte(`{"id":"AA","rawId":"AA","type":"public-key","response":{}}`))
	return rp, alice, aliceHandle, lookup, seeds
}

// FinishLogin must answer any body with an error, never a panic: the
// challenge is fresh each time, so no body can pass.
func FuzzFinishLogin(f *testing.F) {
	rp, _, aliceHandle, lookup, seeds := fuzzSetup(f)
	for _, s := range seeds {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, body []byte, usernameFirst bool) {
		var u *auth.User
		var ps []*auth.Passkey
		if usernameFirst {
			u, ps, _ = lookup(aliceHandle)
		}
		_, id, err := rp.BeginLogin(ctx, u, ps)
		if err != nil {
			t.Fatal(err)
		}
		user, pk, err := rp.FinishLogin(ctx, id, body, lookup)
		if err == nil || user != nil || pk != nil {
			t.Fatalf("FinishLogin(%q) = %v, %v, %v; want only an error", body, user, pk, err)
		}
		if !errors.Is(err, passkey.ErrVerification) && !errors.Is(err, passkey.ErrNotAllowed) {
			t.Fatalf("FinishLogin(%q) = %v, want ErrVerification or ErrNotAllowed", body, err)
		}
	})
}

// FinishRegistration must answer any body with an error, never a panic.
func FuzzFinishRegistration(f *testing.F) {
	rp, alice, _, _, seeds := fuzzSetup(f)
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		_, id, err := rp.BeginRegistration(ctx, alice, nil)
		if err != nil {
			t.Fatal(err)
		}
		pk, err := rp.FinishRegistration(ctx, alice, id, body)
		if err == nil || pk != nil {
			t.Fatalf("FinishRegistration(%q) = %v, %v; want only an error", body, pk, err)
		}
		if !errors.Is(err, passkey.ErrVerification) && !errors.Is(err, passkey.ErrNotAllowed) {
			t.Fatalf("FinishRegistration(%q) = %v, want ErrVerification or ErrNotAllowed", body, err)
		}
	})
}
