// Package ratelimit limits how often Gatehouse lets anyone try a password, a
// one-time code or a token, register, or have mail sent, per account
// identifier, per client address, per session and per trusted device.
//
// A [Limiter] counts events per key with the generic cell rate algorithm
// (GCRA): a [Limit] of 10 per 15 minutes allows ten events at once, then one
// every 90 seconds, and says how long to wait when it refuses. There are two:
// [Memory] for a single node, and [Redis] for several nodes sharing one
// Redis. [Policy] applies the named limits of the HTTP contract on top of
// either, and [Device] issues the tokens by which a browser that has signed
// in to an account before keeps its own allowance for that account.
//
// # Threat model
//
// Online password guessing against one account (NIST SP 800-63B-4 §3.2.2
// asks for at most 100 consecutive failures; Gatehouse's default is 10 per
// 15 minutes), password spraying from one client address across many
// accounts, guessing of one-time codes and tokens, and floods of mail or
// registrations. The limits throttle rather than lock out: an account's
// allowance comes back with time. An attacker who guesses an account's
// password from many addresses uses up the allowance of the account
// identifier, which would lock the owner out too, unless the owner signs in
// from a device that has signed in to the account before: such a device has
// its own allowance ([Device], [Policy.Login]).
//
// Limiter keys never hold identifiers, addresses or IDs in clear ([Policy]
// hashes them), so a copy of Redis does not list who tried to sign in. Unknown
// identifiers are limited exactly like known ones, so the limits do not tell
// which accounts exist. When the limiter's store fails, the answer is an
// error and the request is refused ([Redis] explains why): an outage must
// not switch the limits off. [Memory] stays within a fixed number of keys
// under any flood, and chooses which keys to forget so that a flood cannot
// free an account under attack cheaply.
//
// # What it does not do
//
// It does not find the client's address: the web layer does that, trusting
// X-Forwarded-For only from configured proxies. It writes no HTTP responses
// and no logs. It does not slow responses down, hold requests, or ask for
// CAPTCHAs. It does not limit the cost of password hashing, which is what
// package hashpool is for.
package ratelimit
