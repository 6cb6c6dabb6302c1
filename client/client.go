package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// keyRefreshInterval is how often the JWKS is fetched in the background,
	// so that keys Gatehouse stops publishing stop working here too.
	keyRefreshInterval = 5 * time.Minute
	// minRefetchInterval bounds refetches caused by unknown key IDs, which
	// anyone can send.
	minRefetchInterval = 30 * time.Second
	// fetchTimeout bounds each background request.
	fetchTimeout = 10 * time.Second
	maxJWKSSize  = 1 << 20
)

// A Client verifies Gatehouse access tokens for a backend: it fetches and
// refreshes the issuer's public keys, optionally follows the revocation
// feed, and provides HTTP middleware. It is safe for concurrent use. Call
// Close when done with it.
type Client struct {
	issuer   string // exactly as given: compared with "iss"
	base     string // issuer without a trailing slash, for building URLs
	cfg      config
	log      *slog.Logger
	verifier *Verifier
	keys     atomic.Pointer[JWKS]

	// fetchSlot serialises JWKS fetches caused by unknown key IDs and
	// guards lastRefetch.
	fetchSlot   chan struct{}
	lastRefetch time.Time

	rev *revocations // nil without a revocation feed

	stop      context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// New returns a Client for the Gatehouse server at issuerURL, which must be
// the server's public URL exactly as it appears in the tokens' "iss" claim.
// It fetches <issuerURL>/.well-known/jwks.json and, with
// WithRevocationFeed, polls the revocation feed once; it fails if either
// fails. ctx bounds only these first requests: later ones run in the
// background until Close.
func New(ctx context.Context, issuerURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(issuerURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("gatehouse client: issuer %q is not an http(s) URL without query or fragment", issuerURL)
	}
	cfg := newConfig(opts)
	if len(cfg.audience) == 0 {
		cfg.audience = []string{issuerURL}
	}
	c := &Client{
		issuer:    issuerURL,
		base:      strings.TrimSuffix(issuerURL, "/"),
		cfg:       cfg,
		log:       cfg.logger,
		fetchSlot: make(chan struct{}, 1),
	}
	c.verifier = NewVerifier(remoteKeys{c}, issuerURL, cfg.audience,
		WithLeeway(cfg.leeway), WithClock(cfg.now))

	if cfg.feedEnabled {
		if cfg.feedKey == "" {
			return nil, errors.New("gatehouse client: revocation feed needs an API key")
		}
		if cfg.maxStaleness <= cfg.feedInterval {
			return nil, fmt.Errorf("gatehouse client: revocation max staleness %v must be longer than the poll interval %v",
				cfg.maxStaleness, cfg.feedInterval)
		}
		c.rev = newRevocations()
	}
	if err := c.fetchKeys(ctx); err != nil {
		return nil, fmt.Errorf("gatehouse client: %w", err)
	}
	if c.rev != nil {
		if err := c.poll(ctx); err != nil {
			return nil, fmt.Errorf("gatehouse client: %w", err)
		}
	}

	bg, stop := context.WithCancel(context.Background())
	c.stop = stop
	c.wg.Go(func() { c.every(bg, keyRefreshInterval, "refresh signing keys", c.fetchKeys) })
	if c.rev != nil {
		c.wg.Go(func() { c.every(bg, cfg.feedInterval, "poll revocation feed", c.poll) })
	}
	return c, nil
}

// Close stops background polling and waits for it to end. Verify keeps
// working on the keys already fetched, but with a revocation feed it fails
// with ErrRevocationStale once the maximum staleness has passed.
func (c *Client) Close() {
	c.closeOnce.Do(func() {
		c.stop()
		c.wg.Wait()
	})
}

// Verify verifies raw (see Verifier.Verify) and, with a revocation feed,
// checks that its session has not been revoked. A token signed by a key the
// Client does not know yet makes it refetch the keys first, at most once
// every 30 seconds; ctx bounds that request.
func (c *Client) Verify(ctx context.Context, raw string) (*Claims, error) {
	keys := c.keys.Load()
	claims, err := c.verifier.Verify(raw)
	if errors.Is(err, ErrUnknownKey) {
		// Gatehouse may have rotated its key. A concurrent fetch may also
		// have brought the key, so verify again whenever the set changed.
		if ferr := c.refetch(ctx); ferr != nil {
			c.log.DebugContext(ctx, "gatehouse: no refetch of signing keys", "err", ferr)
		}
		if c.keys.Load() != keys {
			claims, err = c.verifier.Verify(raw)
		}
	}
	if err != nil {
		return nil, err
	}
	if c.rev != nil {
		if err := c.rev.check(claims.SessionID, c.cfg.now(), c.cfg.leeway, c.cfg.maxStaleness); err != nil {
			return nil, err
		}
	}
	return claims, nil
}

// remoteKeys is the KeySet of a Client: the last JWKS fetched.
type remoteKeys struct{ c *Client }

func (r remoteKeys) Key(kid string) (PublicKey, bool) { return r.c.keys.Load().Key(kid) }

// refetch fetches the JWKS unless the last refetch was less than
// minRefetchInterval ago.
func (c *Client) refetch(ctx context.Context) error {
	select {
	case c.fetchSlot <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-c.fetchSlot }()
	now := c.cfg.now()
	if !c.lastRefetch.IsZero() && now.Sub(c.lastRefetch) < minRefetchInterval {
		return errors.New("rate limited")
	}
	c.lastRefetch = now
	return c.fetchKeys(ctx)
}

// fetchKeys replaces the key set with a fresh copy of the issuer's JWKS.
// On any failure, including a set with no usable key, the old set stays.
func (c *Client) fetchKeys(ctx context.Context) error {
	body, err := c.get(ctx, "/.well-known/jwks.json", "", maxJWKSSize)
	if err != nil {
		return fmt.Errorf("fetch signing keys: %w", err)
	}
	set, err := ParseJWKS(body)
	if err != nil {
		return fmt.Errorf("fetch signing keys: %w", err)
	}
	if set.Len() == 0 {
		return errors.New("fetch signing keys: no EdDSA or ES256 signing key in the JWKS")
	}
	c.keys.Store(set)
	return nil
}

// httpStatusError is a response with an unexpected status.
type httpStatusError struct{ code int }

func (e *httpStatusError) Error() string {
	return fmt.Sprintf("status %d %s", e.code, http.StatusText(e.code))
}

// get fetches base+pathQuery and returns the body of a 200 response.
func (c *Client) get(ctx context.Context, pathQuery, bearer string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+pathQuery, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := c.cfg.httpClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return nil, &httpStatusError{resp.StatusCode}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("response larger than %d bytes", limit)
	}
	return body, nil
}

// every runs f every interval until ctx ends, logging failures.
func (c *Client) every(ctx context.Context, interval time.Duration, what string, f func(context.Context) error) {
	t := time.NewTicker(interval)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fctx, cancel := context.WithTimeout(ctx, fetchTimeout)
		err := f(fctx)
		cancel()
		switch {
		case err != nil && ctx.Err() == nil:
			failing = true
			c.log.Warn("gatehouse: "+what+" failed", "err", err)
		case err == nil && failing:
			failing = false
			c.log.Info("gatehouse: " + what + " recovered")
		}
	}
}
