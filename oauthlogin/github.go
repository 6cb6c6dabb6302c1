package oauthlogin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"golang.org/x/oauth2"
)

// GitHub.com's endpoints.
const (
	githubAuthURL  = "https://github.com/login/oauth/authorize"
	githubTokenURL = "https://github.com/login/oauth/access_token"
	githubAPIURL   = "https://api.github.com"
	// githubIssuer names GitHub.com in identities; GitHub has no OpenID
	// Connect issuer for user sign-in.
	githubIssuer = "https://github.com"
)

// githubBackend signs in with GitHub, which speaks OAuth 2.0 but not OpenID
// Connect: there is no ID token, so who signed in comes from the REST API
// with the access token (GET /user, GET /user/emails).
type githubBackend struct {
	cfg    ProviderConfig
	client *http.Client
}

func (b *githubBackend) endpoint(context.Context) (oauth2.Endpoint, error) {
	return oauth2.Endpoint{AuthURL: b.cfg.AuthURL, TokenURL: b.cfg.TokenURL, AuthStyle: oauth2.AuthStyleInParams}, nil
}

// issuer is https://github.com, or the origin of the authorization endpoint
// for GitHub Enterprise Server (and tests), whose user IDs are another space.
func (b *githubBackend) issuer() string {
	if b.cfg.AuthURL == githubAuthURL {
		return githubIssuer
	}
	u, err := url.Parse(b.cfg.AuthURL)
	if err != nil {
		return b.cfg.AuthURL
	}
	return u.Scheme + "://" + u.Host
}

func (b *githubBackend) requiresIss() bool { return false }

func (b *githubBackend) usesNonce() bool { return false }

type githubUser struct {
	ID    int64  `json:"id"`
	Login string `json:"login"`
	Name  string `json:"name"`
}

type githubEmail struct {
	Email    string `json:"email"`
	Primary  bool   `json:"primary"`
	Verified bool   `json:"verified"`
}

// claims reads the user and their addresses. The subject is the numeric user
// ID, which stays when the user renames their login. The address is the
// primary one from /user/emails with GitHub's own verified flag; the
// profile's public "email" is not used, as GitHub does not promise it is
// verified.
func (b *githubBackend) claims(ctx context.Context, tok *oauth2.Token, _ *FlowState) (*Claims, error) {
	var u githubUser
	if err := b.get(ctx, tok, "/user", &u); err != nil {
		return nil, err
	}
	if u.ID <= 0 {
		return nil, errors.New("github: /user has no id")
	}
	var emails []githubEmail
	if err := b.get(ctx, tok, "/user/emails", &emails); err != nil {
		return nil, err
	}
	c := &Claims{Issuer: b.issuer(), Subject: strconv.FormatInt(u.ID, 10), Name: u.Name, Username: u.Login}
	for _, e := range emails {
		if e.Primary {
			c.Email, c.EmailVerified = e.Email, e.Verified
			break
		}
	}
	return c, nil
}

// get calls GitHub's REST API with the user's token.
func (b *githubBackend) get(ctx context.Context, tok *oauth2.Token, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.cfg.APIURL+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	req.Header.Set("User-Agent", "Gatehouse")
	resp, err := b.client.Do(req)
	if err != nil {
		return fmt.Errorf("github %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("github %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("github %s: status %d: %s", path, resp.StatusCode, truncate(string(body), 200))
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("github %s: %w", path, err)
	}
	return nil
}
