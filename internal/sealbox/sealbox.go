// Package sealbox encrypts small secrets that must be shown again later
// (ACR admin passwords, container group specs) with AES-256-GCM under one
// 32-byte key, kept in a 0600 file in the data dir (LoadOrCreate) or, by
// servers sharing one database, in that database (GenerateKey, New).
//
// A sealed value is a version byte, a random 12-byte nonce and the GCM
// ciphertext with its tag. Anyone who reads the sealed values without the
// key learns nothing but the length of each secret.
package sealbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/cerulean/cerulean/internal/atomicfile"
)

// KeySize is the length of the key file: an AES-256 key.
const KeySize = 32

// version is the first byte of every sealed value, so that the format can
// change without ambiguity.
const version = 1

// ErrOpen is returned for a sealed value that is malformed, was sealed
// under another key, or was tampered with.
var ErrOpen = errors.New("sealbox: cannot open sealed value")

// Box seals and opens values. It is safe for concurrent use.
type Box struct {
	aead cipher.AEAD
}

// LoadOrCreate reads the key at path, or, when there is no file there,
// generates a random key and writes it atomically with mode 0600 (creating
// the parent directory with mode 0700). A file that exists but does not
// hold exactly KeySize bytes is an error; it is never replaced, because
// everything sealed under it would be lost.
func LoadOrCreate(path string) (*Box, error) {
	key, err := os.ReadFile(path)
	switch {
	case err == nil:
		if len(key) != KeySize {
			return nil, fmt.Errorf("sealbox: %s: key is %d bytes, want %d", path, len(key), KeySize)
		}
		return New(key)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("sealbox: %w", err)
	}
	if key, err = GenerateKey(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("sealbox: %w", err)
	}
	if err := atomicfile.WriteFile(path, key, 0o600); err != nil {
		return nil, fmt.Errorf("sealbox: %w", err)
	}
	return New(key)
}

// GenerateKey returns a new random KeySize-byte key, as LoadOrCreate makes
// on first use, for keeping elsewhere than a file (servers sharing one
// database keep one key there).
func GenerateKey() ([]byte, error) {
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("sealbox: generate key: %w", err)
	}
	return key, nil
}

// New returns a Box for a KeySize-byte key: a key read from anywhere
// (LoadOrCreate's file, a shared store) is refused unless it has exactly
// that length.
func New(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("sealbox: key is %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("sealbox: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("sealbox: %w", err)
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts plaintext under a fresh random nonce.
func (b *Box) Seal(plaintext []byte) ([]byte, error) {
	ns := b.aead.NonceSize()
	out := make([]byte, 1+ns, 1+ns+len(plaintext)+b.aead.Overhead())
	out[0] = version
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("sealbox: nonce: %w", err)
	}
	// The version byte is authenticated too, as additional data.
	return b.aead.Seal(out, out[1:], plaintext, out[:1]), nil
}

// Open decrypts a value made by Seal with the same key; ErrOpen otherwise.
func (b *Box) Open(sealed []byte) ([]byte, error) {
	ns := b.aead.NonceSize()
	if len(sealed) < 1+ns+b.aead.Overhead() || sealed[0] != version {
		return nil, ErrOpen
	}
	pt, err := b.aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], sealed[:1])
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}
