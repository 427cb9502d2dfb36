package keys

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// MinPepperBytes is the shortest pepper accepted: as long as an HMAC-SHA256 key should be.
const MinPepperBytes = 32

// Hasher turns an API or operator key into what the store keeps and looks up: hex
// HMAC-SHA256 under a server-side pepper, so a copy of the store alone does not let
// anyone test guesses. A nil *Hasher hashes with unkeyed SHA-256 (the legacy form), for
// a deployment that has not been given a pepper yet.
type Hasher struct {
	pepper []byte
}

// NewHasher keys a Hasher with pepper (surrounding white space is ignored, so a file
// ending in a newline works).
func NewHasher(pepper string) (*Hasher, error) {
	p := strings.TrimSpace(pepper)
	if len(p) < MinPepperBytes {
		return nil, fmt.Errorf("pepper: want at least %d bytes, got %d", MinPepperBytes, len(p))
	}
	return &Hasher{pepper: []byte(p)}, nil
}

// NewPepper returns a fresh random pepper (base64 of 32 bytes).
func NewPepper() (string, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("generate pepper: %w", err)
	}
	return base64.StdEncoding.EncodeToString(raw[:]), nil
}

// Hash is the form a key is stored in.
func (h *Hasher) Hash(key string) string {
	if h == nil {
		return LegacyHash(key)
	}
	m := hmac.New(sha256.New, h.pepper)
	m.Write([]byte(key))
	return hex.EncodeToString(m.Sum(nil))
}

// Candidates are the forms a presented key may be stored in, newest first: the keyed
// hash, then the unkeyed SHA-256 of stores written before the pepper, which keep
// working until the next setup apply rewrites them keyed.
func (h *Hasher) Candidates(key string) []string {
	if h == nil {
		return []string{LegacyHash(key)}
	}
	return []string{h.Hash(key), LegacyHash(key)}
}

// LegacyHash is the unkeyed hex SHA-256 keys were stored as before the pepper.
func LegacyHash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}
