package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/client"
)

// AccessTokens verifies Gatehouse's own access tokens (token.Keyring
// implements it).
type AccessTokens interface {
	Issue(c client.Claims) (raw string, exp time.Time, err error)
	Verify(raw string) (*client.Claims, error)
	JWKS() []byte
}

var errBadToken = auth.Errorf(auth.EInvalidToken, "The access token is invalid, expired or revoked.")

// bearerPrincipal authenticates an access token. Beyond the signature and
// claims, the session it was issued from must still be live, so that logout,
// revocation and disabling take effect at Gatehouse's own endpoints at once,
// not only when the token expires.
func (s *Server) bearerPrincipal(r *http.Request, raw string) (*principal, error) {
	if s.cfg.Tokens == nil {
		return nil, errBadToken
	}
	claims, err := s.cfg.Tokens.Verify(raw)
	if errors.Is(err, client.ErrExpired) || errors.Is(err, client.ErrNotYetValid) {
		return nil, errBadToken
	}
	if err != nil {
		// Not a token this Gatehouse signed: counted like an API key that
		// matches nothing, so random credentials meet the same limit.
		return nil, s.guessFailed(r, errBadToken)
	}
	sess, u, err := s.cfg.Sessions.CheckID(r.Context(), claims.SessionID)
	if err != nil {
		var e *auth.Error
		if errors.As(err, &e) && e.Code != auth.EInternal {
			return nil, errBadToken
		}
		return nil, err
	}
	if u.ID != claims.Subject {
		return nil, errBadToken
	}
	return &principal{user: u, session: sess, claims: claims}, nil
}
