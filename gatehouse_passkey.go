package gatehouse

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/passkey"
)

// newRelyingParty builds the passkey relying party that cfg describes, with
// its ceremonies in the database so that every node shares them. It returns
// nil, turning passkeys off, when the relying party comes from a public URL
// WebAuthn cannot use (an IP address, or plain http on a host other than
// localhost): the deployment worked without passkeys before, and keeps
// working. Passkey settings given explicitly must work, or New fails.
func newRelyingParty(cfg Config, st auth.Store, now func() time.Time, log *slog.Logger) (*passkey.RelyingParty, error) {
	explicit := cfg.Passkey.RPID != "" || len(cfg.Passkey.Origins) > 0
	rpID := cfg.PasskeyRPID()
	if rpID == "" {
		log.Info("passkeys are off: the public URL's host is an IP address, which cannot be a WebAuthn relying party ID; set passkey.rp_id or use a host name")
		return nil, nil
	}
	rp, err := passkey.New(passkey.Config{
		RPID:             rpID,
		RPName:           cfg.ProductName,
		Origins:          cfg.PasskeyOrigins(),
		UserVerification: cfg.Passkey.UserVerification,
		Now:              now,
		Store:            st,
		Challenges:       passkey.NewTokenChallengeStore(st, now),
	})
	if err != nil {
		if explicit {
			return nil, fmt.Errorf("passkeys: %w", err)
		}
		log.Warn("passkeys are off: the public URL cannot serve them", "error", err.Error())
		return nil, nil
	}
	return rp, nil
}
