package mail_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/mail"
	"github.com/gatehouse-dev/gatehouse/store/sqlite"
)

func ExampleRender() {
	subject, text, _, err := mail.Render(mail.KindPasswordReset, mail.Data{
		Product:   "Example",
		PublicURL: "https://auth.example.com",
		UserName:  "alice",
		Link:      "/reset-password#token=abc",
		ExpiresIn: time.Hour,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(subject)
	fmt.Println(mail.FirstLink(text))
	// Output:
	// Reset your Example password
	// https://auth.example.com/reset-password#token=abc
}

func ExampleParseSMTPURL() {
	s, err := mail.ParseSMTPURL("smtp://mailer:s3cret@smtp.example.com")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s.Host, s.Port, s.TLS)
	fmt.Println(s)

	_, err = mail.ParseSMTPURL("smtp://mailer:s3cret@smtp.example.com?tls=none")
	fmt.Println(err)
	// Output:
	// smtp.example.com 587 starttls
	// smtp://mailer:xxxxx@smtp.example.com:587?tls=starttls
	// mail: SMTP URL "smtp://mailer:xxxxx@smtp.example.com?tls=none": tls=none would send the password in the clear; use starttls or implicit, or a relay on localhost
}

func ExampleNewSMTPSender() {
	sender, err := mail.NewSMTPSender(mail.SMTPConfig{
		URL:  "smtps://mailer:s3cret@smtp.example.com",
		From: "Example <no-reply@example.com>",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(sender.Server()) // the password stays hidden
	// Output:
	// smtps://mailer:xxxxx@smtp.example.com:465
}

// A mail is enqueued in the transaction of the action that causes it, and a
// worker delivers it.
func ExampleNewWorker() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "gatehouse-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	store, err := sqlite.Open(ctx, filepath.Join(dir, "gatehouse.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	if _, err := store.Migrate(ctx); err != nil {
		log.Fatal(err)
	}

	// In production the sender is an *SMTPSender, and in development a *DevSender.
	sender := mail.SenderFunc(func(ctx context.Context, to, subject, text, html string) error {
		fmt.Printf("to %s: %s\n", to, subject)
		return nil
	})
	worker, err := mail.NewWorker(store, sender, mail.WorkerOptions{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		log.Fatal(err)
	}
	outbox, err := mail.NewOutbox(mail.OutboxConfig{
		Product:   "Example",
		PublicURL: "https://auth.example.com",
		Notify:    worker.Notify,
	})
	if err != nil {
		log.Fatal(err)
	}

	err = store.InTx(ctx, func(tx auth.Store) error {
		// … store the reset token with tx, then:
		return outbox.Enqueue(ctx, tx, mail.KindPasswordReset, "alice@example.com",
			mail.Data{UserName: "alice", Link: "/reset-password#token=abc", ExpiresIn: time.Hour})
	})
	if err != nil {
		log.Fatal(err)
	}

	// A server runs go worker.Run(ctx) instead; Flush delivers what is due now.
	if _, err := worker.Flush(ctx); err != nil {
		log.Fatal(err)
	}
	pending, _ := store.CountPendingMails(ctx)
	fmt.Println("pending:", pending)
	// Output:
	// to alice@example.com: Reset your Example password
	// pending: 0
}

// In development, mails stay in the outbox for the /dev/mail page, and the
// log shows where each would have gone and its first link.
func ExampleNewDevSender() {
	noTime := func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: noTime}))
	sender := mail.NewDevSender(logger)

	subject, text, html, err := mail.Render(mail.KindVerifyEmail, mail.Data{
		PublicURL: "http://localhost:8080", Link: "/verify-email/abc"})
	if err != nil {
		log.Fatal(err)
	}
	if err := sender.Send(context.Background(), "alice@example.com", subject, text, html); err != nil {
		log.Fatal(err)
	}
	// Output:
	// level=INFO msg="mail sent (development mode: not delivered; see /dev/mail)" to=alice@example.com subject="Confirm your email address for Gatehouse" link=http://localhost:8080/verify-email/abc
}
