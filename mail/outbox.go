package mail

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
)

// OutboxConfig configures an Outbox.
type OutboxConfig struct {
	// Product names the service in every mail. Default "Gatehouse".
	Product string
	// PublicURL is the address users reach Gatehouse at; every link in a
	// mail is made from it, never from the request that caused the mail.
	// Required.
	PublicURL string
	// Notify is called after each enqueue, to wake the worker (pass
	// Worker.Notify). Default: nothing; the worker finds the mail at its
	// next poll.
	Notify func()
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Outbox renders mails and puts them in the outbox, for a Worker to deliver.
// It is what the rest of Gatehouse calls to send mail.
type Outbox struct {
	cfg OutboxConfig
}

// NewOutbox checks cfg and returns an Outbox.
func NewOutbox(cfg OutboxConfig) (*Outbox, error) {
	u, err := url.Parse(cfg.PublicURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, errors.New("mail: the outbox needs an http(s) public URL")
	}
	if cfg.Product == "" {
		cfg.Product = "Gatehouse"
	}
	if cfg.Notify == nil {
		cfg.Notify = func() {}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Outbox{cfg: cfg}, nil
}

// Enqueue renders a mail of the given kind (see Render; the Outbox fills in
// d.Product and d.PublicURL) and adds it to store's outbox. Pass the store
// that InTx hands out to make the mail part of that transaction: it is sent
// only if the transaction commits. Enqueue then wakes the worker; inside a
// transaction the worker may look before the commit and miss the mail, so
// call Notify again after it for prompt delivery.
func (o *Outbox) Enqueue(ctx context.Context, store auth.OutboxStore, kind, to string, d Data) error {
	d.Product, d.PublicURL = o.cfg.Product, o.cfg.PublicURL
	subject, text, html, err := Render(kind, d)
	if err != nil {
		return err
	}
	now := o.cfg.Now()
	m := &auth.OutboxMail{To: to, Subject: subject, Text: text, HTML: html, Kind: kind, CreatedAt: now, NextAttemptAt: now}
	if err := store.EnqueueMail(ctx, m); err != nil {
		return fmt.Errorf("enqueue %s mail: %w", kind, err)
	}
	o.cfg.Notify()
	return nil
}

// Notify wakes the worker, as Enqueue does.
func (o *Outbox) Notify() { o.cfg.Notify() }
