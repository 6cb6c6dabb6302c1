// Package accounts is Gatehouse's account service: registering users,
// checking passwords at sign-in, the first-admin setup link, the mails of the
// account lifecycle (address verification, password reset, sign-in by email,
// change of address; see EmailConfig and RequestPasswordReset) and bulk
// import (Import). The web handlers and the command line both go through it,
// so that one set of rules holds whichever way an account is made.
//
// Sign-in answers one way for every failure (no user, wrong password, no
// password set), and spends the same hashing work whether or not the account
// exists, so that neither the answer nor its timing tells an attacker which
// accounts exist. A disabled account is reported only after a correct password.
package accounts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/audit"
	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/password"
)

// Hasher hashes and verifies passwords (package password implements it).
type Hasher interface {
	Hash(password string) (string, error)
	Verify(password, encoded string) (bool, error)
	NeedsRehash(encoded string) bool
}

// Config configures a Service.
type Config struct {
	Store  auth.Store
	Hasher Hasher
	// DefaultRoles are given to users who register themselves. Default: ["user"].
	DefaultRoles []string
	// MinPasswordLength counts characters (code points). Default: 8.
	MinPasswordLength int
	// MaxPasswordLength counts characters; New refuses less than 64 (NIST
	// SP 800-63B). Default: 256.
	MaxPasswordLength int
	// MaxPasswordBytes bounds the hashing work one request can cause: longer
	// passwords are refused before any hashing. Default: 1024 (password.MaxBytes).
	MaxPasswordBytes int
	// SetupLinkTTL is how long a first-admin setup link works. Default: 1 hour.
	SetupLinkTTL time.Duration
	// Now is the clock. Default: time.Now.
	Now func() time.Time
	// Logger receives security events. Default: slog.Default().
	Logger *slog.Logger
	// Audit records events in the audit log. Default: nil, recording nothing.
	Audit *audit.Recorder
	// Sessions ends sessions when an account is disabled or deleted, or
	// its two-step verification is reset.
	// Default: nil (the caller ends them).
	Sessions Revoker
	// Email configures verification, reset and sign-in mails; see
	// EmailConfig for each default. Default: no mail.
	Email EmailConfig
}

// Service is the account service. It is safe for concurrent use. Close it to
// finish the mail requests it has queued.
type Service struct {
	cfg       Config
	dummyHash string
	policy    password.Policy
	queue     queue
}

// New validates cfg and returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Hasher == nil {
		return nil, errors.New("accounts: Store and Hasher are required")
	}
	if cfg.DefaultRoles == nil {
		cfg.DefaultRoles = []string{auth.RoleUser}
	}
	if cfg.MinPasswordLength <= 0 {
		cfg.MinPasswordLength = 8
	}
	if cfg.MaxPasswordLength <= 0 {
		cfg.MaxPasswordLength = 256
	}
	if cfg.MaxPasswordBytes <= 0 {
		cfg.MaxPasswordBytes = 1024
	}
	if cfg.MaxPasswordLength < cfg.MinPasswordLength {
		return nil, fmt.Errorf("accounts: maximum password length %d is below the minimum %d", cfg.MaxPasswordLength, cfg.MinPasswordLength)
	}
	policy, err := password.NewPolicy(cfg.MinPasswordLength, cfg.MaxPasswordLength)
	if err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}
	if err := cfg.Email.defaults(); err != nil {
		return nil, err
	}
	if cfg.SetupLinkTTL <= 0 {
		cfg.SetupLinkTTL = time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	// A real hash made with the current parameters: verifying against it costs
	// exactly what verifying a real user's password costs.
	dummy, err := cfg.Hasher.Hash("gatehouse dummy password for unknown users")
	if err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}
	return &Service{cfg: cfg, dummyHash: dummy, policy: policy}, nil
}

// Store returns the store the service works on.
func (s *Service) Store() auth.Store { return s.cfg.Store }

// Registration is what a new account needs.
type Registration struct {
	Username string
	Email    string
	// Password may be empty only when AllowNoPassword is set (accounts that
	// sign in with passkeys, social logins or email links).
	Password        string
	AllowNoPassword bool
	// Roles replaces the default roles when not nil.
	Roles         []string
	EmailVerified bool
}

// CheckPassword returns a readable problem with a new password, or "": the
// password policy (package password's Policy: lengths, the list of common
// and breached passwords, repeated and sequential runs, the account's own
// username and address).
func (s *Service) CheckPassword(pw, username, email string) string {
	if len(pw) > s.cfg.MaxPasswordBytes {
		return "Password is too long."
	}
	if err := s.policy.Check(pw, username, email); err != nil {
		return err.Error()
	}
	return ""
}

// Validate checks a registration and returns an EValidation error listing
// every problem, or nil.
func (s *Service) Validate(r *Registration) error {
	r.Username = strings.TrimSpace(r.Username)
	r.Email = auth.NormalizeEmail(r.Email)
	fields := map[string]string{}
	if msg := auth.ValidateUsername(r.Username); msg != "" {
		fields["username"] = msg
	}
	if msg := auth.ValidateEmail(r.Email); msg != "" {
		fields["email"] = msg
	}
	if r.Password != "" || !r.AllowNoPassword {
		if msg := s.CheckPassword(r.Password, r.Username, r.Email); msg != "" {
			fields["password"] = msg
		}
	}
	for _, role := range r.Roles {
		if msg := auth.ValidateRoleName(role); msg != "" {
			fields["roles"] = msg
		}
	}
	if len(fields) > 0 {
		return auth.ValidationError(fields)
	}
	return nil
}

// Register creates an account. Problems with the input come back as
// EValidation with fields; a taken username or email as EConflict.
func (s *Service) Register(ctx context.Context, r Registration) (*auth.User, error) {
	if err := s.Validate(&r); err != nil {
		return nil, err
	}
	u := &auth.User{
		Username:      r.Username,
		Email:         r.Email,
		EmailVerified: r.EmailVerified,
		Active:        true,
		Roles:         r.Roles,
		CreatedAt:     s.cfg.Now(),
	}
	if u.Roles == nil {
		u.Roles = s.cfg.DefaultRoles
	}
	if r.Password != "" {
		h, err := s.cfg.Hasher.Hash(r.Password)
		if busy(err) {
			return nil, err
		}
		if err != nil {
			return nil, auth.Internal(fmt.Errorf("hash password: %w", err))
		}
		u.PasswordHash = h
	}
	if err := s.createUser(ctx, u); err != nil {
		return nil, err
	}
	s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "user registered", slog.String("user_id", u.ID))
	s.cfg.Audit.Record(ctx, auth.EventUserRegistered, "", u.ID, map[string]string{"username": u.Username})
	return u, nil
}

var errInvalidCredentials = auth.Errorf(auth.EInvalidCredentials, "Invalid username or password.")

// Authenticate checks a username-or-email and password. Every failure is the
// same EInvalidCredentials error after the same hashing work; EAccountDisabled
// comes only after a correct password. A legacy or weaker hash is replaced by
// a current one on success, and last_login_at is recorded.
func (s *Service) Authenticate(ctx context.Context, login, password string) (*auth.User, error) {
	if len(password) > s.cfg.MaxPasswordBytes || len(login) > auth.EmailMaxLen {
		// Refused before any hashing, so huge inputs cost nothing. The length
		// limit is public, so this reveals nothing about the account.
		return nil, errInvalidCredentials
	}
	u, err := s.cfg.Store.FindUserByLogin(ctx, login)
	if err != nil && !auth.IsNotFound(err) {
		return nil, err
	}
	if u == nil || !u.HasPassword() {
		if _, err := s.cfg.Hasher.Verify(password, s.dummyHash); busy(err) {
			// Refused like a known account's check would be: nothing hashed.
			return nil, err
		}
		reason, target := "unknown user", ""
		if u != nil {
			reason, target = "no password set", u.ID
		}
		s.failed(ctx, target, login, reason)
		return nil, errInvalidCredentials
	}
	ok, err := s.cfg.Hasher.Verify(password, u.PasswordHash)
	if busy(err) {
		return nil, err
	}
	if err != nil {
		// An unreadable stored hash is an operator problem, not the user's;
		// log it and answer as for a wrong password.
		s.cfg.Logger.LogAttrs(ctx, slog.LevelError, "stored password hash unreadable", slog.String("user_id", u.ID), slog.String("error", err.Error()))
		s.failed(ctx, u.ID, login, "unreadable password hash")
		return nil, errInvalidCredentials
	}
	if !ok {
		s.failed(ctx, u.ID, login, "wrong password")
		return nil, errInvalidCredentials
	}
	if !u.Active {
		s.failed(ctx, u.ID, login, "account disabled")
		return nil, auth.Errorf(auth.EAccountDisabled, "This account is disabled.")
	}
	if s.VerificationRequired() && !u.EmailVerified {
		s.failed(ctx, u.ID, login, "email not verified")
		return nil, errEmailNotVerified
	}
	now := s.cfg.Now()
	upd := auth.UserUpdate{LastLoginAt: &now}
	if s.cfg.Hasher.NeedsRehash(u.PasswordHash) {
		if h, err := s.cfg.Hasher.Hash(password); err == nil {
			upd.PasswordHash = &h
		}
	}
	updated, err := s.cfg.Store.UpdateUser(ctx, u.ID, upd)
	if err != nil {
		return nil, err
	}
	if upd.PasswordHash != nil {
		s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "password hash upgraded", slog.String("user_id", u.ID))
		s.cfg.Audit.Record(ctx, auth.EventPasswordUpgraded, u.ID, u.ID, nil)
	}
	s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "sign-in succeeded", slog.String("user_id", u.ID), slog.String("method", "password"))
	s.cfg.Audit.Record(ctx, auth.EventLoginSucceeded, u.ID, u.ID, map[string]string{"method": "password"})
	return updated, nil
}

// failed logs and records a failed sign-in. The identifier typed is kept
// (it helps to see an attack on one account); the password never is.
func (s *Service) failed(ctx context.Context, userID, login, reason string) {
	s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "sign-in failed", slog.String("user_id", userID), slog.String("reason", reason))
	if len(login) > 254 {
		login = login[:254]
	}
	s.cfg.Audit.Record(ctx, auth.EventLoginFailed, "", userID, map[string]string{"reason": reason, "login": login, "method": "password"})
}

// AdminExists reports whether any active account holds the admin role.
func (s *Service) AdminExists(ctx context.Context) (bool, error) {
	yes := true
	n, err := s.cfg.Store.CountUsers(ctx, auth.UserFilter{Role: auth.RoleAdmin, Active: &yes})
	return n > 0, err
}

// SetupPrefix starts every setup link secret.
const SetupPrefix = "ghsetup_"

// CreateSetupLink replaces any earlier setup link with a new one-time secret
// that creates the first admin account; it works once, within SetupLinkTTL.
// The caller builds the URL /setup/{secret} from the configured public URL.
func (s *Service) CreateSetupLink(ctx context.Context) (secret string, expires time.Time, err error) {
	if err := s.cfg.Store.DeleteTokens(ctx, auth.PurposeSetup, ""); err != nil {
		return "", time.Time{}, err
	}
	secret, hash := auth.NewSecret(SetupPrefix)
	now := s.cfg.Now()
	expires = now.Add(s.cfg.SetupLinkTTL)
	err = s.cfg.Store.CreateToken(ctx, &auth.OneTimeToken{Hash: hash, Purpose: auth.PurposeSetup, CreatedAt: now, ExpiresAt: expires})
	if err != nil {
		return "", time.Time{}, err
	}
	return secret, expires, nil
}

var errSetupLink = auth.Errorf(auth.EInvalidToken, "This setup link is invalid, used or expired. While no admin exists, restarting Gatehouse prints a new one; or create an admin on the command line: gatehouse user create --username NAME --email ADDRESS --role admin --password-stdin.")

// CheckSetupLink reports whether a setup link can still be used, without
// spending it: it exists, is unused and unexpired, and no admin exists yet.
func (s *Service) CheckSetupLink(ctx context.Context, secret string) error {
	if !strings.HasPrefix(secret, SetupPrefix) || len(secret) > 128 {
		return errSetupLink
	}
	if _, err := s.cfg.Store.FindToken(ctx, auth.PurposeSetup, auth.HashSecret(secret), s.cfg.Now()); err != nil {
		if auth.ErrorCode(err) == auth.EInvalidToken {
			return errSetupLink
		}
		return err
	}
	if exists, err := s.AdminExists(ctx); err != nil {
		return err
	} else if exists {
		return errSetupLink
	}
	return nil
}

// CompleteSetup spends a setup link to create the first admin account. The
// registration is checked first, so that a typo does not burn the link.
func (s *Service) CompleteSetup(ctx context.Context, secret string, r Registration) (*auth.User, error) {
	if err := s.CheckSetupLink(ctx, secret); err != nil {
		return nil, err
	}
	r.Roles = []string{auth.RoleUser, auth.RoleAdmin}
	r.EmailVerified = true
	if err := s.Validate(&r); err != nil {
		return nil, err
	}
	for field, login := range map[string]string{"username": r.Username, "email": r.Email} {
		if _, err := s.cfg.Store.FindUserByLogin(ctx, login); err == nil {
			msg := "Username is already taken."
			if field == "email" {
				msg = "Email is already registered."
			}
			return nil, &auth.Error{Code: auth.EConflict, Message: msg, Fields: map[string]string{field: msg}}
		}
	}
	if _, err := s.cfg.Store.ConsumeToken(ctx, auth.PurposeSetup, auth.HashSecret(secret), s.cfg.Now()); err != nil {
		if auth.ErrorCode(err) == auth.EInvalidToken {
			return nil, errSetupLink
		}
		return nil, err
	}
	u, err := s.Register(ctx, r)
	if err != nil {
		return nil, err
	}
	s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "first admin created through the setup link", slog.String("user_id", u.ID))
	s.cfg.Audit.Record(ctx, auth.EventAdminCreatedBySetup, u.ID, u.ID, nil)
	return u, nil
}

// ChangePassword replaces a user's password after checking the current one
// (accounts without a password may set one with current empty). The caller
// ends the user's other sessions.
func (s *Service) ChangePassword(ctx context.Context, userID, current, next string) error {
	u, err := s.cfg.Store.FindUserByID(ctx, userID)
	if err != nil {
		return err
	}
	if u.HasPassword() {
		if len(current) > s.cfg.MaxPasswordBytes {
			return errWrongCurrent
		}
		ok, err := s.cfg.Hasher.Verify(current, u.PasswordHash)
		if busy(err) {
			return err
		}
		if err != nil || !ok {
			s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "password change refused", slog.String("user_id", u.ID), slog.String("reason", "wrong current password"))
			return errWrongCurrent
		}
	}
	if msg := s.CheckPassword(next, u.Username, u.Email); msg != "" {
		return &auth.Error{Code: auth.EValidation, Message: msg, Fields: map[string]string{"new_password": msg}}
	}
	h, err := s.cfg.Hasher.Hash(next)
	if busy(err) {
		return err
	}
	if err != nil {
		return auth.Internal(fmt.Errorf("hash password: %w", err))
	}
	if err := s.setPassword(ctx, u, h); err != nil {
		return err
	}
	s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "password changed", slog.String("user_id", u.ID))
	s.cfg.Audit.Record(ctx, auth.EventPasswordChanged, u.ID, u.ID, nil)
	return nil
}

var errWrongCurrent = &auth.Error{Code: auth.EForbidden, Message: "The current password is not right.",
	Fields: map[string]string{"current_password": "The current password is not right."}}
