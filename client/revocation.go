package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"
)

// revocationPath is the feed's path under the issuer URL.
const revocationPath = "/api/auth/revocations"

const maxFeedSize = 16 << 20

// revocations is the set of revoked sessions learnt from the feed.
type revocations struct {
	pollMu sync.Mutex // serialises polls; guards cursor
	cursor string

	mu     sync.RWMutex
	sids   map[string]time.Time // session ID → when the entry may be forgotten
	lastOK time.Time
}

func newRevocations() *revocations {
	return &revocations{sids: make(map[string]time.Time)}
}

// check returns ErrRevoked when sid is revoked, and ErrRevocationStale when
// the last successful poll is older than maxStaleness: the feed may have
// been cut to keep a revoked token alive, so the Client fails closed.
func (r *revocations) check(sid string, now time.Time, leeway, maxStaleness time.Duration) error {
	r.mu.RLock()
	until, revoked := r.sids[sid]
	lastOK := r.lastOK
	r.mu.RUnlock()
	if revoked && !now.After(until.Add(leeway)) {
		return ErrRevoked
	}
	if now.Sub(lastOK) > maxStaleness {
		return fmt.Errorf("%w: last successful poll at %s", ErrRevocationStale, lastOK.Format(time.RFC3339))
	}
	return nil
}

// feedResponse is the body of a 200 answer from the feed.
type feedResponse struct {
	Revoked []struct {
		SID   string    `json:"sid"`
		Until time.Time `json:"until"` // RFC 3339
	} `json:"revoked"`
	Cursor *string `json:"cursor"`
}

// poll fetches the entries added since the last poll and merges them.
func (c *Client) poll(ctx context.Context) error {
	r := c.rev
	r.pollMu.Lock()
	defer r.pollMu.Unlock()

	body, err := c.get(ctx, feedQuery(r.cursor), c.cfg.feedKey, maxFeedSize)
	var status *httpStatusError
	if errors.As(err, &status) && status.code == 410 && r.cursor != "" {
		// The server no longer knows the cursor: start over.
		r.cursor = ""
		body, err = c.get(ctx, feedQuery(""), c.cfg.feedKey, maxFeedSize)
	}
	if err != nil {
		return fmt.Errorf("poll revocation feed: %w", err)
	}
	var resp feedResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		return fmt.Errorf("poll revocation feed: %w", err)
	}
	if resp.Cursor == nil {
		return errors.New("poll revocation feed: no cursor in the response")
	}
	for _, e := range resp.Revoked {
		if e.SID == "" || e.Until.IsZero() {
			return errors.New("poll revocation feed: entry without sid or until")
		}
	}

	now := c.cfg.now()
	leeway := c.cfg.leeway
	r.mu.Lock()
	for _, e := range resp.Revoked {
		if now.After(e.Until.Add(leeway)) {
			continue
		}
		if old, ok := r.sids[e.SID]; !ok || e.Until.After(old) {
			r.sids[e.SID] = e.Until
		}
	}
	for sid, until := range r.sids {
		if now.After(until.Add(leeway)) {
			delete(r.sids, sid)
		}
	}
	r.lastOK = now
	r.mu.Unlock()
	r.cursor = *resp.Cursor
	return nil
}

func feedQuery(cursor string) string {
	if cursor == "" {
		return revocationPath
	}
	return revocationPath + "?since=" + url.QueryEscape(cursor)
}
