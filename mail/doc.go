// Package mail is how Gatehouse sends email: the templates of its mails
// (verification, reset and sign-in links, and security notices), an outbox
// that keeps mails in the database until they are delivered, a worker that
// delivers them, and senders for an SMTP server or for development.
//
// A mail is written to the outbox in the same transaction as the action that
// causes it (Outbox.Enqueue on the store InTx hands out), so a reset token is
// never stored without its mail, nor a mail sent for an action that rolled
// back. A Worker then claims due mails, sends them and records the result,
// retrying with exponential back-off while the mail server is away. Workers on
// several Gatehouse nodes can share one database: each mail is leased to one
// worker at a time.
//
// Threat model. Mails carry secrets: reset and sign-in links and codes. So
// the links are made from the configured public URL only, never from a
// request's Host header (Render refuses a link outside it: reset-link
// poisoning); the worker logs a mail's kind and ID, never its body; sent
// mails are deleted from the outbox after a retention period; SMTP URLs
// default to mandatory STARTTLS, and credentials are never sent in the clear.
// DevSender, which logs the first link of each mail, is for development only.
//
// What it does not do: limit how many mails an address gets (the callers
// apply the rate limits before enqueueing), track bounces, send attachments
// or sign mail (DKIM is the mail server's job).
package mail
