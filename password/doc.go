// Package password hashes and verifies Gatehouse users' passwords.
//
// New hashes are argon2id (RFC 9106) in the PHC string format that the
// reference implementation writes:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
//
// with the salt and hash in standard base64 without padding. The default
// parameters are OWASP's first argon2id recommendation (19 MiB, 2 passes, one
// lane).
//
// [Hasher.Verify] also accepts the hashes that Flask applications commonly
// hold, so their users can sign in to Gatehouse with the passwords they
// already have:
//
//   - bcrypt, $2a$, $2b$ and $2y$;
//   - Werkzeug's pbkdf2:<digest>:<iterations>$<salt>$<hex>, for sha1, sha224,
//     sha256, sha384 and sha512;
//   - Werkzeug's scrypt:<N>:<r>:<p>$<salt>$<hex>.
//
// After a successful sign-in, [Hasher.NeedsRehash] says whether the stored
// hash should be replaced by a fresh [Hasher.Hash] of the same password; that
// is how legacy hashes and outdated argon2id parameters are migrated away,
// one sign-in at a time.
//
// # Threat model
//
// Offline cracking of a stolen database: argon2id is memory-hard, so guessing
// on GPUs and ASICs costs memory as well as time, and every hash has its own
// random salt. Legacy hashes are only as strong as they were made; migrating
// them on sign-in is what fixes that.
//
// Timing side channels: every final comparison is constant-time
// (crypto/subtle). [Hasher.VerifyDummy] spends the same argon2id work as a
// real check, so a sign-in for an account that does not exist takes as long as
// one with a wrong password, and response times do not reveal which accounts
// exist. Time still differs between hash formats (a cost-10 bcrypt check is
// slower than the default argon2id one), so it can reveal that an account
// still has a legacy hash; it cannot reveal anything about the password.
//
// Denial of service through huge inputs: passwords longer than [MaxBytes] are
// refused with [ErrTooLong] before any hashing work, and every work factor read
// from a stored hash (argon2id memory and passes, bcrypt cost, PBKDF2
// iterations, scrypt N, r and p) is checked against a fixed ceiling first, so a
// planted or corrupted hash costs one sign-in a few seconds of CPU at most,
// not hours, and no more memory than the ceilings allow (4 GiB for argon2id,
// to admit RFC 9106's 2 GiB recommendation; 512 MiB for scrypt). Such hashes
// give [ErrMalformed].
//
// # What it does not do
//
// Hashing enforces no policy: the only limit there is the hard [MaxBytes]
// cap, and the empty password hashes like any other. The policy for new
// passwords is [Policy] (NIST SP 800-63B: lengths, no composition rules, a
// blocklist of common and breached passwords shipped in the binary, and the
// account's own username and address), which callers apply before hashing.
//
// Passwords are compared byte for byte as UTF-8: no case folding, no trimming
// and no Unicode normalisation. Werkzeug and bcrypt do none either, so legacy
// hashes keep verifying; an application that wants NFC passwords must
// normalise before calling this package, and must have done so before too.
//
// It never writes legacy formats, and it does not verify the plaintext and
// single-round salted-digest methods (such as sha256$salt$hmac) of old Werkzeug
// releases: those offer no protection worth keeping, and their users should
// reset their passwords.
package password
