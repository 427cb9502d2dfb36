// Package keys holds the hub's own key material: the keyring that seals credentials at
// rest in the embedded store (AES-256-GCM, rotated by adding a key), the pepper that
// keys the hash of API and operator keys (HMAC-SHA256), and where both come from (an
// environment variable, a file, or a file generated in the data directory).
package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// sealedPrefix starts every sealed value: "v1:<key id>:<base64url(nonce || ciphertext)>".
// A version in front lets the format change without guessing.
const sealedPrefix = "v1:"

var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// Keyring seals values with its current key and opens values sealed with any of its
// keys. Rotation without downtime: put a new key first, keep the old ones after it; new
// writes (and the embedded store's re-seal at start) move every value to the new key,
// after which the old key may be dropped.
type Keyring struct {
	current string
	aeads   map[string]cipher.AEAD
}

// ParseKeyring reads a keyring spec: entries "id:base64-of-32-bytes" separated by commas,
// spaces or newlines, the first being the current key; lines starting with # are comments.
// Errors name the entry by position and id, never the key.
func ParseKeyring(spec string) (*Keyring, error) {
	k := &Keyring{aeads: map[string]cipher.AEAD{}}
	var entries []string
	for _, line := range strings.Split(spec, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		entries = append(entries, strings.FieldsFunc(line, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\r' })...)
	}
	for i, e := range entries {
		id, b64, ok := strings.Cut(e, ":")
		if !ok || !keyIDPattern.MatchString(id) {
			return nil, fmt.Errorf("key %d: want id:base64 with an id of letters, digits, '.', '_' or '-'", i+1)
		}
		if _, dup := k.aeads[id]; dup {
			return nil, fmt.Errorf("key %d (%s): id used twice", i+1, id)
		}
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			raw, err = base64.RawStdEncoding.DecodeString(b64)
		}
		if err != nil || len(raw) != 32 {
			return nil, fmt.Errorf("key %d (%s): want 32 bytes in standard base64 (openssl rand -base64 32)", i+1, id)
		}
		block, err := aes.NewCipher(raw)
		if err != nil {
			return nil, fmt.Errorf("key %d (%s): %w", i+1, id, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("key %d (%s): %w", i+1, id, err)
		}
		k.aeads[id] = aead
		if k.current == "" {
			k.current = id
		}
	}
	if k.current == "" {
		return nil, errors.New("no key: want at least one id:base64 entry")
	}
	return k, nil
}

// NewKeyringSpec returns a spec holding one fresh random key, named after today's date.
func NewKeyringSpec(now time.Time) (string, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("generate key: %w", err)
	}
	return "k" + now.UTC().Format("20060102") + ":" + base64.StdEncoding.EncodeToString(raw[:]), nil
}

// Current is the id of the key new values are sealed with.
func (k *Keyring) Current() string { return k.current }

// Seal encrypts plaintext under the current key. aad (the value's name, say) is
// authenticated but not stored: the value opens only under the same aad, so a sealed
// value copied to another name does not decrypt there.
func (k *Keyring) Seal(plaintext, aad []byte) (string, error) {
	aead := k.aeads[k.current]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal: nonce: %w", err)
	}
	out := aead.Seal(nonce, nonce, plaintext, aad)
	return sealedPrefix + k.current + ":" + base64.RawURLEncoding.EncodeToString(out), nil
}

// Open decrypts a value Seal produced under any key of the ring.
func (k *Keyring) Open(sealed string, aad []byte) ([]byte, error) {
	id, ok := KeyID(sealed)
	if !ok {
		return nil, errors.New("open: not a sealed value")
	}
	aead, ok := k.aeads[id]
	if !ok {
		return nil, fmt.Errorf("open: sealed under key %q, which the keyring does not hold (add it after the current key)", id)
	}
	raw, err := base64.RawURLEncoding.DecodeString(sealed[len(sealedPrefix)+len(id)+1:])
	if err != nil || len(raw) < aead.NonceSize()+aead.Overhead() {
		return nil, fmt.Errorf("open: sealed value under key %q is malformed", id)
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], aad)
	if err != nil {
		return nil, fmt.Errorf("open: value under key %q does not authenticate (wrong key, altered, or moved from another name)", id)
	}
	return plain, nil
}

// KeyID returns the id of the key a sealed value was sealed with; false when the value
// is not sealed (a plaintext value stored before sealing existed).
func KeyID(value string) (string, bool) {
	rest, ok := strings.CutPrefix(value, sealedPrefix)
	if !ok {
		return "", false
	}
	id, _, ok := strings.Cut(rest, ":")
	if !ok || !keyIDPattern.MatchString(id) {
		return "", false
	}
	return id, true
}
