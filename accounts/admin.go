package accounts

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/gatehouse-dev/gatehouse/auth"
)

// Revoker ends a user's sessions (session.Manager implements it).
type Revoker interface {
	RevokeUser(ctx context.Context, userID, except, reason string) ([]string, error)
}

// The admin lock serialises changes that could leave no active admin.
const adminLock = "gatehouse:admins"

var (
	errSelfDisable = auth.Errorf(auth.EForbidden, "You cannot disable your own account.")
	errSelfDelete  = auth.Errorf(auth.EForbidden, "You cannot delete your own account here.")
	errLastAdmin   = auth.Errorf(auth.EConflict, "This is the last active admin: make someone else an admin first.")
)

// actorID is the ID of whoever acts, or "" for the command line.
func actorID(actor *auth.User) string {
	if actor == nil {
		return ""
	}
	return actor.ID
}

// isLastActiveAdmin reports whether u is an active admin and no other active
// admin exists. Call it inside a transaction holding adminLock.
func isLastActiveAdmin(ctx context.Context, st auth.Store, u *auth.User) (bool, error) {
	if !u.Active || !u.HasRole(auth.RoleAdmin) {
		return false, nil
	}
	yes := true
	n, err := st.CountUsers(ctx, auth.UserFilter{Role: auth.RoleAdmin, Active: &yes})
	return n <= 1, err
}

// SetRoles replaces a user's roles on behalf of actor (nil for the command
// line). The last active admin cannot lose the admin role. The user's
// sessions move to new secrets on their next request.
func (s *Service) SetRoles(ctx context.Context, actor *auth.User, targetID string, roles []string) (*auth.User, error) {
	for _, r := range roles {
		if msg := auth.ValidateRoleName(r); msg != "" {
			return nil, &auth.Error{Code: auth.EValidation, Message: msg, Fields: map[string]string{"roles": msg}}
		}
	}
	var before, after *auth.User
	err := s.cfg.Store.InTx(ctx, func(tx auth.Store) error {
		if err := tx.Lock(ctx, adminLock); err != nil {
			return err
		}
		var err error
		if before, err = tx.FindUserByID(ctx, targetID); err != nil {
			return err
		}
		if !slices.Contains(roles, auth.RoleAdmin) {
			if last, err := isLastActiveAdmin(ctx, tx, before); err != nil {
				return err
			} else if last {
				return errLastAdmin
			}
		}
		if err := tx.SetUserRoles(ctx, targetID, roles); err != nil {
			return err
		}
		after, err = tx.FindUserByID(ctx, targetID)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "roles changed", slog.String("user_id", targetID), slog.String("actor_id", actorID(actor)))
	s.cfg.Audit.Record(ctx, auth.EventRoleChanged, actorID(actor), targetID, map[string]string{
		"from": strings.Join(before.Roles, ","), "to": strings.Join(after.Roles, ",")})
	return after, nil
}

// SetActive enables or disables an account on behalf of actor (nil for the
// command line). Disabling ends every session of the user, and with them
// their refresh tokens and, through the revocation feed, their access tokens.
// Nobody disables their own account here, and the last active admin stays.
func (s *Service) SetActive(ctx context.Context, actor *auth.User, targetID string, active bool) (*auth.User, error) {
	if !active && actor != nil && actor.ID == targetID {
		return nil, errSelfDisable
	}
	var u *auth.User
	err := s.cfg.Store.InTx(ctx, func(tx auth.Store) error {
		if err := tx.Lock(ctx, adminLock); err != nil {
			return err
		}
		cur, err := tx.FindUserByID(ctx, targetID)
		if err != nil {
			return err
		}
		if !active {
			if last, err := isLastActiveAdmin(ctx, tx, cur); err != nil {
				return err
			} else if last {
				return errLastAdmin
			}
		}
		u, err = tx.UpdateUser(ctx, targetID, auth.UserUpdate{Active: &active})
		return err
	})
	if err != nil {
		return nil, err
	}
	ev := auth.EventAccountEnabled
	if !active {
		ev = auth.EventAccountDisabled
		if err := s.revokeAll(ctx, targetID, "account disabled"); err != nil {
			return nil, err
		}
	}
	s.cfg.Audit.Record(ctx, ev, actorID(actor), targetID, nil)
	return u, nil
}

func (s *Service) revokeAll(ctx context.Context, userID, reason string) error {
	if s.cfg.Sessions == nil {
		return nil
	}
	if _, err := s.cfg.Sessions.RevokeUser(ctx, userID, "", reason); err != nil {
		return fmt.Errorf("end sessions: %w", err)
	}
	return nil
}

// RevokeSessions ends every session of a user on behalf of actor.
func (s *Service) RevokeSessions(ctx context.Context, actor *auth.User, targetID string) error {
	if _, err := s.cfg.Store.FindUserByID(ctx, targetID); err != nil {
		return err
	}
	if err := s.revokeAll(ctx, targetID, "revoked by an admin"); err != nil {
		return err
	}
	s.cfg.Audit.Record(ctx, auth.EventSessionsRevoked, actorID(actor), targetID, nil)
	return nil
}

// SetEmailVerified marks a user's email address verified or not.
func (s *Service) SetEmailVerified(ctx context.Context, actor *auth.User, targetID string, verified bool) (*auth.User, error) {
	u, err := s.cfg.Store.UpdateUser(ctx, targetID, auth.UserUpdate{EmailVerified: &verified})
	if err != nil {
		return nil, err
	}
	s.cfg.Audit.Record(ctx, auth.EventEmailVerified, actorID(actor), targetID, map[string]string{"verified": fmt.Sprint(verified), "by": "admin"})
	return u, nil
}

// DeleteUser deletes an account and everything it owns on behalf of actor
// (nil for the command line). Its sessions end first, so that backends
// verifying tokens offline learn of it. Nobody deletes their own account
// here, and the last active admin stays.
func (s *Service) DeleteUser(ctx context.Context, actor *auth.User, targetID string) error {
	if actor != nil && actor.ID == targetID {
		return errSelfDelete
	}
	// Check before ending sessions, so that a refused deletion ends nothing;
	// the check is repeated under the lock below.
	cur, err := s.cfg.Store.FindUserByID(ctx, targetID)
	if err != nil {
		return err
	}
	if last, err := isLastActiveAdmin(ctx, s.cfg.Store, cur); err != nil {
		return err
	} else if last {
		return errLastAdmin
	}
	if err := s.revokeAll(ctx, targetID, "account deleted"); err != nil {
		return err
	}
	var username string
	err = s.cfg.Store.InTx(ctx, func(tx auth.Store) error {
		if err := tx.Lock(ctx, adminLock); err != nil {
			return err
		}
		cur, err := tx.FindUserByID(ctx, targetID)
		if err != nil {
			return err
		}
		username = cur.Username
		if last, err := isLastActiveAdmin(ctx, tx, cur); err != nil {
			return err
		} else if last {
			return errLastAdmin
		}
		return tx.DeleteUser(ctx, targetID)
	})
	if err != nil {
		return err
	}
	s.cfg.Audit.Record(ctx, auth.EventAccountDeleted, actorID(actor), targetID, map[string]string{"username": username})
	return nil
}

// CreateRole adds a role on behalf of actor.
func (s *Service) CreateRole(ctx context.Context, actor *auth.User, name, description string, permissions []string) (*auth.Role, error) {
	r := &auth.Role{Name: strings.TrimSpace(name), Description: strings.TrimSpace(description), Permissions: permissions, CreatedAt: s.cfg.Now()}
	if err := s.cfg.Store.CreateRole(ctx, r); err != nil {
		return nil, err
	}
	s.cfg.Audit.Record(ctx, auth.EventRoleCreated, actorID(actor), "", map[string]string{"role": r.Name, "permissions": strings.Join(r.Permissions, ",")})
	return r, nil
}

// DeleteRole removes a role from the catalogue and from everyone who held it.
// The admin and user roles are built in and stay.
func (s *Service) DeleteRole(ctx context.Context, actor *auth.User, name string) error {
	if name == auth.RoleAdmin || name == auth.RoleUser {
		return auth.Errorf(auth.EConflict, "The %s role is built in and cannot be deleted.", name)
	}
	if err := s.cfg.Store.DeleteRole(ctx, name); err != nil {
		return err
	}
	s.cfg.Audit.Record(ctx, auth.EventRoleDeleted, actorID(actor), "", map[string]string{"role": name})
	return nil
}
