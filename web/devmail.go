package web

import (
	"net/http"
	"regexp"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
)

// devMailPage is the data of dev_mail.html.
type devMailPage struct {
	Mails []devMail
}

// devMail is one outbox mail, its text cut into plain runs and links.
type devMail struct {
	ID        int64
	To        string
	Subject   string
	Kind      string
	CreatedAt time.Time
	Status    string // "sent", "pending" or "given up"
	Parts     []textPart
}

type textPart struct {
	Text string
	Link string // set for a link; html/template checks its scheme again
}

var devLink = regexp.MustCompile(`https?://[^\s<>"]+`)

// linkify cuts text into runs of text and http(s) links.
func linkify(text string) []textPart {
	var parts []textPart
	last := 0
	for _, m := range devLink.FindAllStringIndex(text, -1) {
		if m[0] > last {
			parts = append(parts, textPart{Text: text[last:m[0]]})
		}
		parts = append(parts, textPart{Link: text[m[0]:m[1]]})
		last = m[1]
	}
	if last < len(text) {
		parts = append(parts, textPart{Text: text[last:]})
	}
	return parts
}

// devMailbox lists the outbox, newest first, with each mail's text and
// clickable links: the mailbox of development mode, where no mail server is
// set up. It exists only in development mode (elsewhere it is a 404), since
// the mails hold secrets: reset and sign-in links and codes.
func (s *Server) devMailbox(w http.ResponseWriter, r *http.Request) error {
	if !s.cfg.DevMail {
		return notFoundError
	}
	mails, err := s.cfg.Accounts.Store().FindMails(r.Context(), 100)
	if err != nil {
		return err
	}
	p := devMailPage{}
	for _, m := range mails {
		p.Mails = append(p.Mails, devMail{ID: m.ID, To: m.To, Subject: m.Subject, Kind: m.Kind,
			CreatedAt: m.CreatedAt.UTC(), Status: mailStatus(m), Parts: linkify(m.Text)})
	}
	s.render(w, r, http.StatusOK, "dev_mail.html", p)
	return nil
}

func mailStatus(m *auth.OutboxMail) string {
	switch {
	case m.SentAt != nil:
		return "sent"
	case m.GaveUpAt != nil:
		return "given up"
	}
	return "pending"
}
