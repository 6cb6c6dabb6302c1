package accounts

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-dev/gatehouse/auth"
)

// APIKeyPrefix starts every API key, so that a leaked one is recognisable.
const APIKeyPrefix = "gh_"

// apiKeyLen is the length of a key: the prefix and 43 base64url characters.
const apiKeyLen = len(APIKeyPrefix) + 43

// Scopes lists the API key scopes Gatehouse knows.
var Scopes = []string{auth.ScopeAdmin, auth.ScopeIntrospect, auth.ScopeRevocations}

var errBadAPIKey = auth.Errorf(auth.EUnauthorized, "The API key is invalid, expired or revoked.")

// CreateAPIKey makes a key for service-to-service calls on behalf of actor.
// The secret is returned here and nowhere else; only its hash is stored.
func (s *Service) CreateAPIKey(ctx context.Context, actor *auth.User, name string, scopes []string, expires *time.Time) (*auth.APIKey, string, error) {
	name = strings.TrimSpace(name)
	fields := map[string]string{}
	if name == "" || utf8.RuneCountInString(name) > 100 {
		fields["name"] = "Give the key a name of 1 to 100 characters."
	}
	if len(scopes) == 0 {
		fields["scopes"] = "Choose at least one scope."
	}
	for _, sc := range scopes {
		if !slices.Contains(Scopes, sc) {
			fields["scopes"] = "Unknown scope " + sc + "; use " + strings.Join(Scopes, ", ") + "."
		}
	}
	if expires != nil && !expires.After(s.cfg.Now()) {
		fields["expires_at"] = "The expiry must be in the future."
	}
	if len(fields) > 0 {
		return nil, "", auth.ValidationError(fields)
	}
	secret, hash := auth.NewSecret(APIKeyPrefix)
	k := &auth.APIKey{Name: name, Prefix: secret[:len(APIKeyPrefix)+6], Hash: hash, Scopes: slices.Compact(slices.Sorted(slices.Values(scopes))),
		CreatedBy: actor.ID, CreatedAt: s.cfg.Now(), ExpiresAt: expires}
	if err := s.cfg.Store.CreateAPIKey(ctx, k); err != nil {
		return nil, "", err
	}
	s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "API key created", slog.String("key_id", k.ID), slog.String("actor_id", actor.ID))
	s.cfg.Audit.Record(ctx, auth.EventAPIKeyCreated, actor.ID, "", map[string]string{"key_id": k.ID, "name": k.Name, "scopes": strings.Join(k.Scopes, ",")})
	return k, secret, nil
}

// AuthenticateAPIKey returns the key a secret belongs to and the key's
// creator. A key works while it is unexpired and its creator is active; an
// admin-scoped key also needs its creator to still be an admin, so a key
// never carries more than the person who made it.
func (s *Service) AuthenticateAPIKey(ctx context.Context, secret string) (*auth.APIKey, *auth.User, error) {
	if len(secret) != apiKeyLen || !strings.HasPrefix(secret, APIKeyPrefix) {
		return nil, nil, errBadAPIKey
	}
	k, owner, err := s.cfg.Store.FindAPIKeyByHash(ctx, auth.HashSecret(secret))
	if auth.IsNotFound(err) {
		return nil, nil, errBadAPIKey
	}
	if err != nil {
		return nil, nil, err
	}
	now := s.cfg.Now()
	if (k.ExpiresAt != nil && !now.Before(*k.ExpiresAt)) || !owner.Active {
		return nil, nil, errBadAPIKey
	}
	if slices.Contains(k.Scopes, auth.ScopeAdmin) && !owner.HasRole(auth.RoleAdmin) {
		k.Scopes = slices.DeleteFunc(slices.Clone(k.Scopes), func(sc string) bool { return sc == auth.ScopeAdmin })
	}
	// last_used_at is written at most once a minute per key.
	if k.LastUsedAt == nil || now.Sub(*k.LastUsedAt) >= time.Minute {
		if err := s.cfg.Store.TouchAPIKey(ctx, k.ID, now); err != nil {
			s.cfg.Logger.Warn("recording API key use failed", "key_id", k.ID, "error", err)
		}
	}
	return k, owner, nil
}

// RevokeAPIKey deletes a key on behalf of actor; it stops working at once.
func (s *Service) RevokeAPIKey(ctx context.Context, actor *auth.User, id string) error {
	if err := s.cfg.Store.DeleteAPIKey(ctx, id); err != nil {
		return err
	}
	s.cfg.Audit.Record(ctx, auth.EventAPIKeyRevoked, actorID(actor), "", map[string]string{"key_id": id})
	return nil
}
