package masterkey

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestLoadGeneratesOnceWithMode0600(t *testing.T) {
	dir := t.TempDir()
	k1, generated, err := Load("", dir)
	if err != nil || !generated {
		t.Fatalf("Load(first) = generated %v, err %v; want generated, nil", generated, err)
	}
	fi, err := os.Stat(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("secret file mode = %o, want 600", got)
	}
	k2, generated, err := Load("", dir)
	if err != nil || generated {
		t.Fatalf("Load(second) = generated %v, err %v; want reuse", generated, err)
	}
	sealed, _ := k1.Seal([]byte("private key"), []byte("kid1"))
	if pt, err := k2.Open(sealed, []byte("kid1")); err != nil || string(pt) != "private key" {
		t.Errorf("Open after reload = %q, %v; want the plaintext", pt, err)
	}
}

func TestConfiguredSecret(t *testing.T) {
	if _, _, err := Load("short", t.TempDir()); err == nil {
		t.Error("Load(short secret) succeeded, want an error")
	}
	dir := t.TempDir()
	k, generated, err := Load("0123456789abcdef0123456789abcdef", dir)
	if err != nil || generated || k == nil {
		t.Fatalf("Load(configured) = %v, %v, %v", k, generated, err)
	}
	if _, err := os.Stat(filepath.Join(dir, FileName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a configured secret wrote a file: %v", err)
	}
}

func TestSealOpen(t *testing.T) {
	k, _ := New("0123456789abcdef0123456789abcdef")
	other, _ := New("fedcba9876543210fedcba9876543210")
	a, _ := k.Seal([]byte("x"), []byte("ad"))
	b, _ := k.Seal([]byte("x"), []byte("ad"))
	if bytes.Equal(a, b) {
		t.Error("two seals of the same plaintext are equal; want fresh nonces")
	}
	tampered := bytes.Clone(a)
	tampered[len(tampered)-1] ^= 1
	for name, tc := range map[string]struct {
		k      *Key
		sealed []byte
		ad     string
	}{
		"other key": {other, a, "ad"},
		"other ad":  {k, a, "other"},
		"tampered":  {k, tampered, "ad"},
		"truncated": {k, a[:5], "ad"},
		"empty":     {k, nil, "ad"},
	} {
		if _, err := tc.k.Open(tc.sealed, []byte(tc.ad)); !errors.Is(err, ErrOpen) {
			t.Errorf("Open(%s) error = %v, want ErrOpen", name, err)
		}
	}
	d1, _ := k.Derive("a", 32)
	d2, _ := k.Derive("b", 32)
	if bytes.Equal(d1, d2) {
		t.Error("Derive gave equal keys for different purposes")
	}
}

// Read finds a configured secret or an existing file, and never creates one.
func TestReadNeverGenerates(t *testing.T) {
	dir := t.TempDir()
	if k, err := Read("", dir); k != nil || !errors.Is(err, ErrNoSecret) {
		t.Errorf("Read(no secret, empty dir) = %v, %v; want nil, ErrNoSecret", k, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("Read wrote %d files into the data directory, want none", len(entries))
	}
	if _, err := Read("", filepath.Join(dir, "missing")); !errors.Is(err, ErrNoSecret) {
		t.Errorf("Read(no secret, missing dir) error = %v, want ErrNoSecret", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Read created the data directory: %v", err)
	}
	if k, err := Read("0123456789abcdef0123456789abcdef", dir); err != nil || k == nil {
		t.Errorf("Read(configured) = %v, %v; want a key", k, err)
	}

	generated, _, err := Load("", dir)
	if err != nil {
		t.Fatal(err)
	}
	k, err := Read("", dir)
	if err != nil {
		t.Fatalf("Read(after Load) error = %v", err)
	}
	sealed, _ := generated.Seal([]byte("private key"), []byte("kid1"))
	if pt, err := k.Open(sealed, []byte("kid1")); err != nil || string(pt) != "private key" {
		t.Errorf("Open with the key Read found = %q, %v; want the plaintext", pt, err)
	}
}
