package mail

import (
	"context"
	"errors"
	"log/slog"
	"regexp"
)

// Sender hands one mail to whatever delivers it. The Worker calls it; the
// rest of Gatehouse enqueues mails through an Outbox instead, so that a mail
// goes out only if the action that causes it commits, and survives a restart.
type Sender interface {
	// Send delivers a mail with a plain-text body and, unless html is "",
	// an HTML alternative. An error wrapping ErrRejected means the mail
	// can never be delivered as it is, so it is not retried.
	Send(ctx context.Context, to, subject, text, html string) error
}

// SenderFunc adapts a function to the Sender interface.
type SenderFunc func(ctx context.Context, to, subject, text, html string) error

// Send calls f.
func (f SenderFunc) Send(ctx context.Context, to, subject, text, html string) error {
	return f(ctx, to, subject, text, html)
}

// ErrRejected marks a permanent failure: the mail server refused the
// recipient for good (a 5xx reply to RCPT TO), or the address is malformed.
// The Worker gives such a mail up at once instead of retrying it for a day.
// Other failures, including refused credentials, are retried: they are the
// server's or the configuration's, and mails should survive until they are
// fixed.
var ErrRejected = errors.New("mail: recipient rejected")

// DevSender is the Sender of development mode: it delivers nothing. The mails
// stay in the outbox table, where the development outbox page lists them, and
// the log gets one line per mail with the recipient, the subject and the
// first link of the text, so a developer can follow a reset or sign-in link
// without a mail server.
//
// That link is usually a secret (a reset or sign-in link), so DevSender must
// never be used in production, where the log is read by others.
type DevSender struct {
	log *slog.Logger
}

// NewDevSender returns a DevSender that logs to log (slog.Default() when nil).
func NewDevSender(log *slog.Logger) *DevSender {
	if log == nil {
		log = slog.Default()
	}
	return &DevSender{log: log}
}

// Send logs that the mail was "sent" and returns nil.
func (s *DevSender) Send(ctx context.Context, to, subject, text, html string) error {
	s.log.InfoContext(ctx, "mail sent (development mode: not delivered; see /dev/mail)",
		"to", to, "subject", subject, "link", FirstLink(text))
	return nil
}

var linkPattern = regexp.MustCompile(`https?://[^\s<>"]+`)

// FirstLink returns the first http or https URL in text, or "".
func FirstLink(text string) string {
	return linkPattern.FindString(text)
}
