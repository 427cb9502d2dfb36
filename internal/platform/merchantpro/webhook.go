package merchantpro

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
)

// MaxWebhookBody is the largest delivery accepted.
const MaxWebhookBody = 1 << 20

// SignatureHeader carries base64(HMAC-SHA256(raw body, webhook secret)), as MerchantPro's
// own demo app (github.com/merchantpro/demo-apps, demo-pay/callback.php) verifies it.
const SignatureHeader = "X-Webhook-Signature"

// VerifyWebhook checks the delivery's HMAC over the raw body with the connection's
// webhook_secret (constant-time), then reads the event name and the resource id. The
// delivery is treated as a notification: the hub fetches the full order with FetchOrder.
func (c *Connector) VerifyWebhook(ctx context.Context, conn domain.Connection, req platform.WebhookRequest) (platform.WebhookEvent, error) {
	const op = "verify_webhook"
	if len(req.Body) > MaxWebhookBody {
		return platform.WebhookEvent{}, permanent(op, "body of %d bytes exceeds %d", len(req.Body), MaxWebhookBody)
	}
	if conn.SecretRef == "" {
		return platform.WebhookEvent{}, authErr(op, "connection %s has no secret_ref", conn.ID)
	}
	vals, err := c.secrets.GetSecret(ctx, conn.SecretRef)
	if err != nil {
		return platform.WebhookEvent{}, transient(op, "reading the connection's secret: %v", err)
	}
	secret := vals["webhook_secret"]
	if secret == "" {
		return platform.WebhookEvent{}, authErr(op, "the connection's secret has no webhook_secret")
	}
	if err := CheckSignature(req.Body, header(req, SignatureHeader), secret); err != nil {
		return platform.WebhookEvent{}, authErr(op, "%v", err)
	}
	ev, err := ParseWebhook(req.Body, header(req, "X-Webhook-Event"), header(req, "X-Webhook-Id"))
	if err != nil {
		// The signature held: the hub keeps the delivery and replays it once it reads.
		return platform.WebhookEvent{}, platform.Unparseable(unparsedField(err.Error()), "%v", err)
	}
	return ev, nil
}

// unparsedField names the field a ParseWebhook error is about ("field data.id is
// missing" → "data.id"); errors about the body as a whole name "body".
func unparsedField(msg string) string {
	if rest, ok := strings.CutPrefix(msg, "field "); ok {
		if name, _, ok := strings.Cut(rest, " "); ok && name != "" {
			return name
		}
	}
	return "body"
}

// header reads a header whatever the case of its name in the map.
func header(req platform.WebhookRequest, name string) string {
	if v := req.Header.Get(name); v != "" {
		return strings.TrimSpace(v)
	}
	for k, v := range req.Header {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
	}
	return ""
}

type sigError string

func (e sigError) Error() string { return string(e) }

// CheckSignature verifies sig (base64, or hex) against HMAC-SHA256(body, secret).
func CheckSignature(body []byte, sig, secret string) error {
	if sig == "" {
		return sigError("header " + SignatureHeader + " is missing")
	}
	if len(sig) > 256 {
		return sigError("header " + SignatureHeader + " is too long")
	}
	sig = strings.TrimPrefix(strings.TrimPrefix(sig, "sha256="), "SHA256=")
	var got []byte
	for _, dec := range []func(string) ([]byte, error){
		base64.StdEncoding.DecodeString, base64.RawStdEncoding.DecodeString,
		base64.URLEncoding.DecodeString, base64.RawURLEncoding.DecodeString,
	} {
		if b, err := dec(sig); err == nil && len(b) == sha256.Size {
			got = b
			break
		}
	}
	if got == nil && len(sig) == 2*sha256.Size {
		if b, err := hex.DecodeString(sig); err == nil {
			got = b
		}
	}
	if got == nil {
		return sigError("header " + SignatureHeader + " is not a base64 or hex SHA-256 digest")
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return sigError("header " + SignatureHeader + " does not match the body")
	}
	return nil
}

// ParseWebhook reads a verified delivery: the event name ("event", "topic" or "type",
// else the X-Webhook-Event header), the resource id (data.id, or a top-level id), and
// the event id and time when given.
func ParseWebhook(body []byte, eventHeader, idHeader string) (platform.WebhookEvent, error) {
	var ev platform.WebhookEvent
	b := bytes.TrimSpace(body)
	if len(b) == 0 {
		return ev, sigError("body is empty")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return ev, sigError("body is not a JSON object")
	}
	o := obj(m)
	data := o.child("data", "payload", "resource", "order")
	if data == nil {
		data = obj{}
	}
	ev.Topic = cmp.Or(o.str("event", "topic", "type", "event_type", "event_name"), eventHeader)
	if ev.Topic == "" {
		return ev, sigError("field event is missing")
	}
	if !printable(ev.Topic, 64) {
		return ev, sigError("field event is not a valid event name")
	}
	ev.Resource = resourceOf(ev.Topic)
	id := cmp.Or(data.str("id", ev.Resource+"_id", "order_id"), o.str(ev.Resource+"_id", "resource_id", "order_id", "id"))
	if id == "" {
		return ev, sigError("field data.id is missing")
	}
	if ev.Resource == "order" && !validID(id) || !printable(id, 64) {
		return ev, sigError("field data.id is not a valid id")
	}
	ev.ResourceID = id
	ev.EventID = cmp.Or(o.str("event_id", "webhook_id", "delivery_id", "uuid"), idHeader)
	if ev.EventID != "" && !printable(ev.EventID, 128) {
		return ev, sigError("field event_id is not a valid id")
	}
	for _, k := range []string{"created_at", "date", "timestamp", "triggered_at"} {
		if s := o.str(k); s != "" {
			if t, err := time.Parse(time.RFC3339, s); err == nil {
				ev.TriggeredAt = t.UTC()
			} else if t, err := time.ParseInLocation(time.DateTime, s, bucharest()); err == nil {
				ev.TriggeredAt = t.UTC()
			}
			break
		}
	}
	return ev, nil
}

// resourceOf maps "order.created", "orders/update" or "order_status_changed" to "order".
func resourceOf(topic string) string {
	t := strings.ToLower(topic)
	if i := strings.IndexAny(t, "./:_"); i > 0 {
		t = t[:i]
	}
	if len(t) > 1 && strings.HasSuffix(t, "s") {
		t = t[:len(t)-1]
	}
	return t
}

func printable(s string, n int) bool {
	if s == "" || len(s) > n || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}
