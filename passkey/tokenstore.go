package passkey

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
)

// TokenChallengeStore is a ChallengeStore in Gatehouse's database, as
// one-time tokens of purpose auth.PurposeWebAuthn, so that every Gatehouse
// node sharing the database shares the ceremonies: a Begin answered by one
// node can be finished on another.
//
// Each ceremony is one token: its hash is SHA-256 of the key (itself a hash
// of the ceremony ID, so the database holds nothing a client could present),
// its Data the ceremony's state in base64, its ExpiresAt the end of the ttl.
// Take is the store's ConsumeToken, which spends a token atomically, so of
// concurrent Finish calls with one ceremony ID at most one goes on.
//
// Spent and expired tokens stay in the table as rows of other purposes do,
// until the store's TokenStore.DeleteExpiredTokens (run hourly by Gatehouse)
// removes them; that retention is the store's, not this type's.
type TokenChallengeStore struct {
	store auth.TokenStore
	now   func() time.Time
}

// NewTokenChallengeStore returns a ChallengeStore over store that tells time
// by now (time.Now when nil). Give it the same clock as the RelyingParty.
func NewTokenChallengeStore(store auth.TokenStore, now func() time.Time) *TokenChallengeStore {
	if now == nil {
		now = time.Now
	}
	return &TokenChallengeStore{store: store, now: now}
}

func tokenHash(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// Put implements ChallengeStore.
func (s *TokenChallengeStore) Put(ctx context.Context, key string, data []byte, ttl time.Duration) error {
	now := s.now()
	err := s.store.CreateToken(ctx, &auth.OneTimeToken{
		Hash:      tokenHash(key),
		Purpose:   auth.PurposeWebAuthn,
		Data:      base64.StdEncoding.EncodeToString(data),
		CreatedAt: now,
		ExpiresAt: now.Add(ttl),
	})
	if err != nil {
		return fmt.Errorf("store ceremony: %w", err)
	}
	return nil
}

// Take implements ChallengeStore. An unknown, spent or expired key is
// found=false with err=nil.
func (s *TokenChallengeStore) Take(ctx context.Context, key string) ([]byte, bool, error) {
	t, err := s.store.ConsumeToken(ctx, auth.PurposeWebAuthn, tokenHash(key), s.now())
	if auth.ErrorCode(err) == auth.EInvalidToken {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("take ceremony: %w", err)
	}
	data, err := base64.StdEncoding.DecodeString(t.Data)
	if err != nil {
		// Only Put writes these rows, so this is a damaged database.
		return nil, false, errors.New("take ceremony: stored ceremony is not base64")
	}
	return data, true, nil
}
