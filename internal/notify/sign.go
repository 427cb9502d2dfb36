package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Standard Webhooks header names.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// DefaultTolerance is how far a webhook-timestamp may be from the receiver's clock (the
// spec's suggested 5 minutes), bounding how long a captured delivery can be replayed.
const DefaultTolerance = 5 * time.Minute

const secretPrefix = "whsec_"

var (
	// ErrSecret: the signing secret is not "whsec_" + base64 of a non-empty key.
	ErrSecret = errors.New("invalid webhook signing secret")
	// ErrMissingHeader: a Standard Webhooks header is absent.
	ErrMissingHeader = errors.New("missing webhook header")
	// ErrTimestamp: webhook-timestamp is not unix seconds or is outside the tolerance.
	ErrTimestamp = errors.New("webhook timestamp rejected")
	// ErrSignature: no v1 signature in webhook-signature matches.
	ErrSignature = errors.New("no matching webhook signature")
)

// signingKey decodes "whsec_<base64>"; the prefix is optional, as in the spec's libraries.
func signingKey(secret string) ([]byte, error) {
	raw := strings.TrimPrefix(strings.TrimSpace(secret), secretPrefix)
	key, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		// The error never carries the secret: it may end up in a dead-letter reason.
		return nil, fmt.Errorf("%w: not base64 after %q", ErrSecret, secretPrefix)
	}
	if len(key) == 0 {
		return nil, fmt.Errorf("%w: empty key", ErrSecret)
	}
	return key, nil
}

func mac(key []byte, id string, unix int64, body []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(id))
	h.Write([]byte{'.'})
	h.Write([]byte(strconv.FormatInt(unix, 10)))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Sign returns the webhook-signature value ("v1,<base64>") for a message sent at ts.
func Sign(secret string, id string, ts time.Time, body []byte) (string, error) {
	if id == "" {
		return "", fmt.Errorf("sign webhook: %w: empty %s", ErrMissingHeader, HeaderID)
	}
	key, err := signingKey(secret)
	if err != nil {
		return "", fmt.Errorf("sign webhook %s: %w", id, err)
	}
	return "v1," + base64.StdEncoding.EncodeToString(mac(key, id, ts.Unix(), body)), nil
}

// Verify checks a received delivery: the three headers are present, the timestamp is
// within tolerance of now (DefaultTolerance when tolerance <= 0) either way, and one of
// the space-separated v1 signatures matches (compared in constant time). Signatures of
// other versions are skipped, so a sender can add schemes without breaking receivers.
func Verify(secret string, header http.Header, body []byte, tolerance time.Duration, now time.Time) error {
	key, err := signingKey(secret)
	if err != nil {
		return fmt.Errorf("verify webhook: %w", err)
	}
	id, tsText, sigs := header.Get(HeaderID), header.Get(HeaderTimestamp), header.Get(HeaderSignature)
	for _, h := range []struct{ name, value string }{{HeaderID, id}, {HeaderTimestamp, tsText}, {HeaderSignature, sigs}} {
		if h.value == "" {
			return fmt.Errorf("verify webhook: %w: %s", ErrMissingHeader, h.name)
		}
	}
	unix, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return fmt.Errorf("verify webhook %q: %w: %q is not unix seconds", clip(id, 64), ErrTimestamp, clip(tsText, 32))
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	// Compare against bounds in seconds: subtracting a hostile value could overflow.
	limit := int64(tolerance / time.Second)
	if lo, hi := now.Unix()-limit, now.Unix()+limit; unix < lo || unix > hi {
		return fmt.Errorf("verify webhook %q: %w: %d is outside now ± %s", clip(id, 64), ErrTimestamp, unix, tolerance)
	}
	want := mac(key, id, unix, body)
	for _, s := range strings.Fields(sigs) {
		version, b64, ok := strings.Cut(s, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			continue
		}
		if hmac.Equal(got, want) {
			return nil
		}
	}
	return fmt.Errorf("verify webhook %q: %w", clip(id, 64), ErrSignature)
}

// clip shortens s to at most n bytes for error text.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
