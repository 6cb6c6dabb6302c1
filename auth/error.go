package auth

import (
	"errors"
	"fmt"
)

// Error codes, as the HTTP contract names them. Each maps to one HTTP status in
// package web, and nowhere else.
const (
	EInvalidRequest     = "invalid_request"     // malformed input: bad JSON, missing parameter
	EValidation         = "validation_failed"   // well-formed input that breaks a rule; see Error.Fields
	EInvalidCredentials = "invalid_credentials" // sign-in failed, whatever the cause
	EUnauthorized       = "unauthorized"        // no valid credentials presented
	EForbidden          = "forbidden"           // authenticated, but not allowed
	ENotFound           = "not_found"           // no such record (or not visible to the caller)
	EConflict           = "conflict"            // a unique value is taken
	ERateLimited        = "rate_limited"        // too many attempts
	EInvalidToken       = "invalid_token"       // a token that is malformed, expired, used or revoked
	ETokenReused        = "token_reused"        // a rotated refresh token presented again
	EMFARequired        = "mfa_required"        // the password was right; a second factor is due
	EReauthRequired     = "reauth_required"     // signed in, but not recently enough for this change (SE-08)
	EAccountDisabled    = "account_disabled"    // the password was right; the account is off
	EEmailNotVerified   = "email_not_verified"  // the password was right; the address must be confirmed first
	EUnavailable        = "unavailable"         // overloaded, or a dependency is down; try again after Retry-After
	EInternal           = "internal"            // anything else; details go to the log only
)

// Error is the one error type that crosses layers. Code and Message are safe to
// show to the client; Err is the cause, for the log only.
type Error struct {
	Code    string
	Message string
	// Fields maps an input field to what is wrong with it, for EValidation.
	Fields map[string]string
	// Err is the underlying cause. It is never shown to clients.
	Err error
}

// Error implements the error interface. It includes the cause, so it belongs
// in logs, not in responses: use ErrorMessage for those.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted client-safe message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ValidationError returns an EValidation error that lists problems per field.
func ValidationError(fields map[string]string) *Error {
	return &Error{Code: EValidation, Message: "Some fields need attention.", Fields: fields}
}

// Internal wraps a system failure. The client sees only a generic message.
func Internal(err error) *Error {
	return &Error{Code: EInternal, Message: "An internal error occurred.", Err: err}
}

// ErrorCode returns the code of the first *Error in err's chain, EInternal for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// ErrorMessage returns the client-safe message of err: the message of the first
// *Error in its chain, or a generic one for anything else.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) && e.Code != EInternal {
		return e.Message
	}
	return "An internal error occurred."
}

// IsNotFound reports whether err carries the ENotFound code.
func IsNotFound(err error) bool { return ErrorCode(err) == ENotFound }

// IsConflict reports whether err carries the EConflict code.
func IsConflict(err error) bool { return ErrorCode(err) == EConflict }
