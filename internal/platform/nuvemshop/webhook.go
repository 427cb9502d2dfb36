package nuvemshop

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
)

// MaxWebhookBody is the largest delivery accepted; Nuvemshop's are a few dozen bytes.
const MaxWebhookBody = maxWebhookBodyBytes

// eventsWithoutID carry no resource id; the store is the resource.
var eventsWithoutID = map[string]bool{
	"domain/updated": true, "theme/updated": true, "store/redact": true,
	"customers/redact": true, "customers/data_request": true,
}

// VerifyWebhook checks X-Linkedstore-HMAC-SHA256, the hex HMAC-SHA256 of the raw body
// keyed with the app secret (secret "app_secret"), in constant time, then parses the
// body {"store_id":..., "event":"order/created", "id":...}. Deliveries are thin: the
// hub fetches the order with FetchOrder. Nuvemshop gives no delivery id, so EventID is
// empty (two order/updated deliveries of one order have identical bodies and must not
// be collapsed).
func (c *Connector) VerifyWebhook(ctx context.Context, conn domain.Connection, req platform.WebhookRequest) (platform.WebhookEvent, error) {
	const op = "verify_webhook"
	if len(req.Body) > MaxWebhookBody {
		return platform.WebhookEvent{}, permanent(op, "body of %d bytes exceeds %d", len(req.Body), MaxWebhookBody)
	}
	storeID := strings.TrimSpace(conn.Setting("store_id", ""))
	if storeID == "" {
		return platform.WebhookEvent{}, permanent(op, "connection %s has no store_id setting to check deliveries against", conn.ID)
	}
	sig := strings.TrimSpace(req.Header.Get(headerWebhookHMAC))
	if sig == "" {
		sig = strings.TrimSpace(req.Header.Get("HTTP_X_LINKEDSTORE_HMAC_SHA256")) // as some proxies rename it
	}
	if sig == "" {
		return platform.WebhookEvent{}, authErr(op, "header X-Linkedstore-HMAC-SHA256 is missing")
	}
	if conn.SecretRef == "" {
		return platform.WebhookEvent{}, permanent(op, "connection %s has no secret_ref holding %s", conn.ID, secretAppSecret)
	}
	sec, err := c.secrets.GetSecret(ctx, conn.SecretRef)
	if err != nil {
		return platform.WebhookEvent{}, transient(op, "reading secret %s: %v", conn.SecretRef, err)
	}
	appSecret := sec[secretAppSecret]
	if appSecret == "" {
		return platform.WebhookEvent{}, permanent(op, "secret %s has no %s to verify webhooks with", conn.SecretRef, secretAppSecret)
	}
	if !validSignature(req.Body, sig, appSecret) {
		return platform.WebhookEvent{}, authErr(op, "header X-Linkedstore-HMAC-SHA256 does not match the body")
	}
	return parseWebhook(req.Body, storeID)
}

// validSignature compares sig (hex, as documented; base64 tolerated) with the body's
// HMAC-SHA256 in constant time.
func validSignature(body []byte, sig, secret string) bool {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	want := mac.Sum(nil)
	var got []byte
	if len(sig) == hex.EncodedLen(sha256.Size) {
		got, _ = hex.DecodeString(sig)
	} else if b, err := base64.StdEncoding.DecodeString(sig); err == nil {
		got = b
	}
	return len(got) == sha256.Size && hmac.Equal(got, want)
}

// parseWebhook reads a delivery whose signature checked out; storeID is the
// connection's store. A body it cannot read is a platform.UnparseableError naming the
// field, so the hub keeps the delivery and can replay it; a delivery for another store
// (signed with the same app secret) is refused as an auth failure.
func parseWebhook(body []byte, storeID string) (platform.WebhookEvent, error) {
	const op = "verify_webhook"
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return platform.WebhookEvent{}, platform.Unparseable("body", "empty body")
	}
	var d struct {
		StoreID flex `json:"store_id"`
		Event   flex `json:"event"`
		ID      flex `json:"id"`
	}
	if !asObject(body, &d) {
		return platform.WebhookEvent{}, platform.Unparseable("body", "not a JSON object {store_id, event, id}")
	}
	store, event, id := d.StoreID.Str(), strings.ToLower(d.Event.Str()), d.ID.Str()
	switch {
	case store == "":
		return platform.WebhookEvent{}, platform.Unparseable("store_id", "missing")
	case store != storeID:
		return platform.WebhookEvent{}, authErr(op, "field store_id does not match the connection's store")
	case event == "":
		return platform.WebhookEvent{}, platform.Unparseable("event", "missing")
	case !validEvent(event):
		return platform.WebhookEvent{}, platform.Unparseable("event", "%q is not resource/action", truncate(event, 64))
	}
	resource, _, _ := strings.Cut(event, "/")
	if eventsWithoutID[event] && id == "" {
		id = store
	}
	switch {
	case id == "":
		return platform.WebhookEvent{}, platform.Unparseable("id", "missing")
	case !validID(id):
		return platform.WebhookEvent{}, platform.Unparseable("id", "%q is not a valid id", truncate(id, 64))
	}
	// No EventID: Nuvemshop sends no delivery id, and every order/updated of one order
	// has the same body. The hub fetches on each and de-duplicates on the order's
	// updated_at.
	return platform.WebhookEvent{Topic: event, Resource: resource, ResourceID: id}, nil
}

// validEvent accepts "resource/action" in lower-case words ("order/created",
// "customers/data_request", "fulfillment_order/status_updated").
func validEvent(s string) bool {
	if len(s) > 64 {
		return false
	}
	res, act, ok := strings.Cut(s, "/")
	return ok && word(res) && word(act)
}

func word(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// SignWebhook returns the X-Linkedstore-HMAC-SHA256 value for body (for simulators and tests).
func SignWebhook(body []byte, appSecret string) string {
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}
