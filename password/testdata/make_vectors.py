#!/usr/bin/python3
"""Generate vectors.json: legacy password hashes made by the Python libraries
that Flask apps use, so that Gatehouse's password package is tested against
what those libraries really emit rather than against its own reading of them.

Run it with Debian's interpreter, which is where the python3-werkzeug and
python3-bcrypt packages live (a pyenv python3 on PATH will not see them):

    apt-get install -y python3-werkzeug python3-bcrypt argon2
    /usr/bin/python3 make_vectors.py > vectors.json

The argon2 package is the reference C implementation's command-line tool; its
hashes check that Gatehouse reads PHC strings as the reference writes them.

Each entry is {format, password, hash, source}. Every hash must verify with its
password; the Go tests also check that a wrong password fails and that
NeedsRehash reports true. Salts are random, so each run gives new hashes.

Work factors are kept small so the Go tests stay fast, except for the entries
that pin down real defaults (pbkdf2 600000, scrypt 32768:8:1).
"""

import hashlib
import json
import subprocess
import sys

import bcrypt
import werkzeug
from werkzeug.security import check_password_hash, gen_salt, generate_password_hash

ASCII = "correct horse battery staple"
UNICODE = "pässwörd Ünïcødé 日本語 🔑"

vectors = []


def werkzeug_version():
    # werkzeug.__version__ is deprecated in newer releases but present in 2.2.
    try:
        from importlib.metadata import version

        return version("werkzeug")
    except Exception:
        return getattr(werkzeug, "__version__", "unknown")


WZ = werkzeug_version()


def add(fmt, password, pwhash, source):
    vectors.append(
        {"format": fmt, "password": password, "hash": pwhash, "source": source}
    )


def werkzeug_hash(fmt, password, method, salt_length=16):
    h = generate_password_hash(password, method=method, salt_length=salt_length)
    assert check_password_hash(h, password), h
    assert not check_password_hash(h, password + "!"), h
    add(
        fmt,
        password,
        h,
        f"werkzeug {WZ} generate_password_hash(method={method!r}, salt_length={salt_length})",
    )


# --- Werkzeug pbkdf2 -------------------------------------------------------

werkzeug_hash("werkzeug-pbkdf2", ASCII, "pbkdf2:sha256:1000")
werkzeug_hash("werkzeug-pbkdf2", UNICODE, "pbkdf2:sha256:50000")
werkzeug_hash("werkzeug-pbkdf2", "", "pbkdf2:sha256:1000")
werkzeug_hash("werkzeug-pbkdf2", ASCII, "pbkdf2:sha256:1")
# 600000 is Werkzeug 2.3-3.0's default; one real-sized hash keeps us honest.
werkzeug_hash("werkzeug-pbkdf2", ASCII, "pbkdf2:sha256:600000")
werkzeug_hash("werkzeug-pbkdf2", ASCII, "pbkdf2:sha512:10000")
werkzeug_hash("werkzeug-pbkdf2", UNICODE, "pbkdf2:sha512:20000")
# Werkzeug 0.9-0.10 defaulted to pbkdf2:sha1:1000 with 8-character salts;
# apps that old still have such rows.
werkzeug_hash("werkzeug-pbkdf2", ASCII, "pbkdf2:sha1:1000", salt_length=8)

# Empty salt. generate_password_hash refuses it (gen_salt raises for
# length <= 0, and 2.2's _hash_internal also says "Salt is required for
# PBKDF2"), but Werkzeug 2.3+'s check_password_hash accepts a stored hash with
# an empty salt. So if the installed Werkzeug refuses, compute it exactly as
# 2.3+'s _hash_internal would: hashlib.pbkdf2_hmac(name, pw, b"", n).hex().
try:
    werkzeug_hash("werkzeug-pbkdf2", ASCII, "pbkdf2:sha256:1000", salt_length=0)
except ValueError as e:
    digest = hashlib.pbkdf2_hmac("sha256", ASCII.encode(), b"", 1000).hex()
    add(
        "werkzeug-pbkdf2",
        ASCII,
        f"pbkdf2:sha256:1000$${digest}",
        f"hashlib.pbkdf2_hmac as in werkzeug 2.3+ _hash_internal; werkzeug {WZ} "
        f"refuses to generate an empty salt ({e})",
    )

# No iteration count. No Werkzeug release writes this (generate_password_hash
# always records the count it used), but check_password_hash accepts it and
# then uses its own DEFAULT_PBKDF2_ITERATIONS, which has changed over time:
# 260000 in 2.0-2.2, 600000 in 2.3-3.0, 1000000 from 3.1. Gatehouse follows
# the current release, so this vector uses 1000000.
salt = gen_salt(16)
digest = hashlib.pbkdf2_hmac("sha256", ASCII.encode(), salt.encode(), 1_000_000).hex()
add(
    "werkzeug-pbkdf2",
    ASCII,
    f"pbkdf2:sha256${salt}${digest}",
    "hashlib.pbkdf2_hmac with werkzeug 3.1's DEFAULT_PBKDF2_ITERATIONS (1000000); "
    "no werkzeug release writes a method without a count",
)

# --- Werkzeug scrypt -------------------------------------------------------

# Werkzeug added scrypt in 2.3 and made it the default in 3.0. Debian
# bookworm's 2.2.2 lacks it (the method falls through to hmac.new and fails),
# so then we reproduce werkzeug 3.1's _hash_internal (src/werkzeug/security.py):
#
#     maxmem = 132 * n * r * p  # ideally 128, but some extra seems needed
#     hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, maxmem=maxmem).hex()
#     -> f"scrypt:{n}:{r}:{p}${salt}${hex}"
#
# hashlib.scrypt's dklen defaults to 64, so the hash is 128 hex digits.


def scrypt_hash(password, n, r, p):
    method = f"scrypt:{n}:{r}:{p}"
    try:
        werkzeug_hash("werkzeug-scrypt", password, method)
        return
    except ValueError:
        pass
    salt = gen_salt(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt.encode(), n=n, r=r, p=p, maxmem=132 * n * r * p
    ).hex()
    add(
        "werkzeug-scrypt",
        password,
        f"{method}${salt}${digest}",
        f"hashlib.scrypt as in werkzeug 3.1 _hash_internal; werkzeug {WZ} has no scrypt",
    )


scrypt_hash(ASCII, 1024, 8, 1)
scrypt_hash(UNICODE, 4096, 8, 2)
scrypt_hash(ASCII, 32768, 8, 1)  # Werkzeug's default, scrypt:32768:8:1

# --- bcrypt ----------------------------------------------------------------

BCRYPT = f"python bcrypt {bcrypt.__version__}"


def bcrypt_hash(password, cost, prefix=b"2b"):
    pw = password.encode()
    h = bcrypt.hashpw(pw, bcrypt.gensalt(cost, prefix=prefix))
    assert bcrypt.checkpw(pw, h)
    add(
        "bcrypt",
        password,
        h.decode(),
        f"{BCRYPT} hashpw(gensalt({cost}, prefix={prefix!r}))",
    )
    return h


bcrypt_hash(ASCII, 4)
bcrypt_hash(UNICODE, 5)
bcrypt_hash(ASCII, 10)
bcrypt_hash(ASCII, 4, prefix=b"2a")

# The library will not emit $2y$ (gensalt accepts only 2a and 2b). $2y$ is
# crypt_blowfish's name for the same, correct algorithm as $2b$, so relabel a
# $2b$ hash; checkpw accepts the result.
h = bcrypt.hashpw(ASCII.encode(), bcrypt.gensalt(4))
h2y = b"$2y$" + h[4:]
assert bcrypt.checkpw(ASCII.encode(), h2y)
add("bcrypt", ASCII, h2y.decode(), f"{BCRYPT} hashpw(gensalt(4)), prefix edited 2b -> 2y")

# Exactly 72 bytes: the most bcrypt uses. The Go tests append one byte and
# expect a mismatch; this library instead truncates, which is what the Go
# side must not copy:
pw72 = "x" * 64 + "日本" + "ab"  # 64 + 6 + 2 = 72 bytes
assert len(pw72.encode()) == 72
h72 = bcrypt_hash(pw72, 4)
if bcrypt.checkpw(pw72.encode() + b"!", h72):
    print(f"note: {BCRYPT} truncates passwords over 72 bytes", file=sys.stderr)

# --- argon2id (reference implementation) ----------------------------------

# Each set of parameters differs from Gatehouse's defaults (m=19456, t=2, p=1,
# 16-byte salt, 32-byte hash) in one way that must make NeedsRehash true.


def argon2_hash(password, salt_len, t, m, p, length):
    # The CLI takes the salt as a literal argument; SALT_CHARS makes it safe.
    salt = gen_salt(salt_len)
    out = subprocess.run(
        ["argon2", salt, "-id", "-t", str(t), "-k", str(m), "-p", str(p),
         "-l", str(length), "-e"],
        input=password.encode(), capture_output=True, check=True,
    )
    add(
        "argon2id",
        password,
        out.stdout.decode().strip(),
        f"argon2 CLI (reference implementation) -id -t {t} -k {m} -p {p} -l {length}, "
        f"{salt_len}-byte salt",
    )


argon2_hash(ASCII, 16, 2, 8192, 1, 32)  # less memory
argon2_hash(ASCII, 16, 1, 19456, 1, 32)  # fewer passes
argon2_hash(UNICODE, 16, 2, 19456, 2, 32)  # other parallelism
argon2_hash(ASCII, 16, 2, 19456, 1, 16)  # shorter hash
argon2_hash(ASCII, 8, 2, 19456, 1, 32)  # shorter salt

json.dump(vectors, sys.stdout, indent=2, ensure_ascii=False)
sys.stdout.write("\n")
