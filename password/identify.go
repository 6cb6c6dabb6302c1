package password

// Identify names the format of a stored hash ("argon2id", "bcrypt",
// "pbkdf2" or "scrypt"), after checking that Verify could use it: it parses
// the hash and checks its work factors, without any hashing work. An error is
// ErrUnknownFormat or ErrMalformed, and never quotes the hash.
//
// It suits checking hashes brought over from another system before they are
// stored, such as those of a bulk import.
func Identify(encoded string) (string, error) {
	s, err := parse(encoded, defaultLimits())
	if err != nil {
		return "", err
	}
	switch s.(type) {
	case argon2idHash:
		return "argon2id", nil
	case bcryptHash:
		return "bcrypt", nil
	case pbkdf2Hash:
		return "pbkdf2", nil
	case scryptHash:
		return "scrypt", nil
	}
	return "", ErrUnknownFormat
}
