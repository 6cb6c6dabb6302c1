package gatehouse

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gatehouse-dev/gatehouse/accounts"
	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/mail"
	"github.com/gatehouse-dev/gatehouse/masterkey"
	"github.com/gatehouse-dev/gatehouse/ratelimit"
)

// mailer is the mail side of a Gatehouse: the outbox that the account
// service writes to, and the worker that delivers it, through SMTP when
// smtp_url is set and to the development outbox (the log and /dev/mail)
// when it is not.
type mailer struct {
	outbox *mail.Outbox
	worker *mail.Worker
	store  auth.OutboxStore
	stop   context.CancelFunc
	done   chan struct{}
}

// newMailer builds the sender, the worker and the outbox from cfg. Call
// start to run the worker and close to stop it.
func newMailer(cfg Config, st auth.OutboxStore, log *slog.Logger, now func() time.Time) (*mailer, error) {
	var sender mail.Sender
	if cfg.SMTPURL != "" {
		s, err := mail.NewSMTPSender(mail.SMTPConfig{URL: cfg.SMTPURL, From: cfg.MailFrom})
		if err != nil {
			return nil, err
		}
		sender = s
		log.Info("mail goes out through SMTP", "server", s.Server().String())
	} else {
		sender = mail.NewDevSender(log)
		if cfg.DevMode() {
			log.Info("no smtp_url: mail stays in the development outbox; read it at " + strings.TrimSuffix(cfg.PublicURL, "/") + "/dev/mail")
		} else {
			// Outside development mode this is a mistake: nobody gets their
			// mail, and the log gets the links, which are secrets.
			log.Warn("no smtp_url: mail is NOT delivered, and the first link of each mail is written to this log; set GATEHOUSE_SMTP_URL")
		}
	}
	worker, err := mail.NewWorker(st, sender, mail.WorkerOptions{Logger: log, Now: now})
	if err != nil {
		return nil, err
	}
	outbox, err := mail.NewOutbox(mail.OutboxConfig{Product: cfg.ProductName, PublicURL: cfg.PublicURL,
		Notify: worker.Notify, Now: now})
	if err != nil {
		return nil, err
	}
	return &mailer{outbox: outbox, worker: worker, store: st}, nil
}

// start runs the worker until close.
func (m *mailer) start() {
	ctx, stop := context.WithCancel(context.Background())
	m.stop, m.done = stop, make(chan struct{})
	go func() {
		defer close(m.done)
		m.worker.Run(ctx)
	}()
}

// close stops the worker, letting the mail being sent finish; the rest stays
// in the outbox for the next start.
func (m *mailer) close() {
	if m == nil || m.stop == nil {
		return
	}
	m.stop()
	<-m.done
}

// emailConfig is the account service's mail configuration from cfg.
func emailConfig(cfg Config, m *mailer, limits *ratelimit.Policy) accounts.EmailConfig {
	return accounts.EmailConfig{
		Outbox:       m.outbox,
		Verification: cfg.Email.Verification,
		VerifyTTL:    cfg.Email.VerifyTTL,
		ResetTTL:     cfg.Email.ResetTTL,
		LoginTTL:     cfg.Email.LoginTTL,
		Login:        cfg.Email.Login,
		LoginSignUp:  cfg.Email.LoginSignUp,
		Limits:       limits,
	}
}

// newRateLimits builds the rate-limit policy: counts kept in Redis when
// redis_url is set (shared by every node), in the process otherwise. Its
// keys are keyed hashes under a key derived from the master secret, so the
// limiter's store does not list who asked for what.
func newRateLimits(cfg Config, key *masterkey.Key) (*ratelimit.Policy, func() error, error) {
	secret, err := key.Derive("gatehouse rate limit keys", 32)
	if err != nil {
		return nil, nil, err
	}
	var limiter ratelimit.Limiter
	closer := func() error { return nil }
	if cfg.RedisURL != "" {
		opts, err := redis.ParseURL(cfg.RedisURL)
		if err != nil {
			return nil, nil, fmt.Errorf("redis_url: %w", err)
		}
		// Short timeouts: requests wait on the limiter, and an outage
		// should turn into quick refusals, not hanging requests.
		opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = 500*time.Millisecond, 500*time.Millisecond, 500*time.Millisecond
		opts.MaxRetries, opts.ContextTimeoutEnabled = 1, true
		client := redis.NewClient(opts)
		r, err := ratelimit.NewRedis(ratelimit.RedisConfig{Client: client})
		if err != nil {
			client.Close()
			return nil, nil, err
		}
		limiter, closer = r, client.Close
	} else {
		m, err := ratelimit.NewMemory(ratelimit.MemoryConfig{})
		if err != nil {
			return nil, nil, err
		}
		limiter = m
	}
	limits, devices, err := policyOptions(cfg, key) // scale.go
	if err != nil {
		closer()
		return nil, nil, err
	}
	p, err := ratelimit.NewPolicy(ratelimit.PolicyConfig{Limiter: limiter, Secret: secret, Limits: limits, Devices: devices})
	if err != nil {
		closer()
		return nil, nil, err
	}
	return p, closer, nil
}

// OutboxDepth returns how many mails wait in the outbox: neither delivered
// nor given up. A depth that keeps growing means the mail server is not
// taking mail.
func (g *Gatehouse) OutboxDepth(ctx context.Context) (int, error) {
	return g.store.CountPendingMails(ctx)
}
