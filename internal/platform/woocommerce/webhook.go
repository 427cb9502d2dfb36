package woocommerce

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
)

// MaxWebhookBody is the largest delivery accepted (an order with many lines and meta
// stays well below it).
const MaxWebhookBody = 1 << 20

// Webhook headers WooCommerce sends (class WC_Webhook::deliver).
const (
	HeaderSignature  = "X-WC-Webhook-Signature"
	HeaderTopic      = "X-WC-Webhook-Topic"
	HeaderResource   = "X-WC-Webhook-Resource"
	HeaderEvent      = "X-WC-Webhook-Event"
	HeaderDeliveryID = "X-WC-Webhook-Delivery-ID"
	HeaderWebhookID  = "X-WC-Webhook-ID"
	// headerDeliveryIDDocs is the name the v3 docs give; core sends HeaderDeliveryID.
	headerDeliveryIDDocs = "X-WC-Delivery-ID"
)

// TopicPing is the event returned for the unsigned ping WooCommerce sends when a
// webhook is saved; the HTTP layer must answer it 200 (anything else makes the save fail).
const TopicPing = "ping"

// VerifyWebhook checks a delivery: the base64 HMAC-SHA256 of the raw body with the
// webhook secret must equal X-WC-Webhook-Signature (constant-time compare). The
// creation ping (form body webhook_id=N, no signature) is recognised and returned as
// Topic "ping" without error. Order deliveries carry the full order, which is
// normalised into WebhookEvent.Order.
func (c *Connector) VerifyWebhook(ctx context.Context, conn domain.Connection, req platform.WebhookRequest) (platform.WebhookEvent, error) {
	const op = "verify_webhook"
	if len(req.Body) > MaxWebhookBody {
		return platform.WebhookEvent{}, permanent(op, "body of %d bytes exceeds %d", len(req.Body), MaxWebhookBody)
	}
	sig := strings.TrimSpace(req.Header.Get(HeaderSignature))
	if sig == "" {
		if id, ok := pingID(req.Body); ok {
			return platform.WebhookEvent{Topic: TopicPing, Resource: "webhook", ResourceID: id}, nil
		}
		return platform.WebhookEvent{}, authErr(op, "header %s is missing", HeaderSignature)
	}
	vals, err := c.secrets.GetSecret(ctx, conn.SecretRef)
	if err != nil {
		return platform.WebhookEvent{}, transient(op, "reading credentials for connection %s: %s", conn.ID, redact(err.Error()))
	}
	secret := vals[keyWebhookSecret]
	if secret == "" {
		return platform.WebhookEvent{}, authErr(op, "credentials of connection %s lack %s (the secret typed when creating the webhook)", conn.ID, keyWebhookSecret)
	}
	if !ValidSignature(req.Body, sig, secret) {
		return platform.WebhookEvent{}, authErr(op, "header %s does not match the body", HeaderSignature)
	}
	return ParseDelivery(req.Header, req.Body, conn)
}

// ValidSignature reports whether sig is base64(HMAC-SHA256(secret, body)).
func ValidSignature(body []byte, sig, secret string) bool {
	got, err := base64.StdEncoding.DecodeString(strings.TrimSpace(sig))
	if err != nil || len(got) != sha256.Size || secret == "" {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// Sign is what WooCommerce puts in X-WC-Webhook-Signature (for tests and simulators).
func Sign(body []byte, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// pingID recognises the creation ping: a form body whose only field is a numeric webhook_id.
func pingID(body []byte) (string, bool) {
	b := bytes.TrimSpace(body)
	if len(b) == 0 || len(b) > 200 || b[0] == '{' {
		return "", false
	}
	vals, err := url.ParseQuery(string(b))
	if err != nil || len(vals) != 1 || len(vals["webhook_id"]) != 1 {
		return "", false
	}
	id, ok := parseID(vals.Get("webhook_id"))
	if !ok {
		return "", false
	}
	return strconv.FormatInt(id, 10), true
}

// ParseDelivery reads a verified delivery's headers and JSON body. A body that does not
// parse is a *platform.UnparseableError naming the field; headers WooCommerce always
// sends (the topic) are checked first and stay a permanent error: they are outside the
// signature and no parser fix would read a delivery without them.
func ParseDelivery(h map[string][]string, body []byte, conn domain.Connection) (platform.WebhookEvent, error) {
	const op = "verify_webhook"
	header := httpHeader(h)
	topic := strings.TrimSpace(header.get(HeaderTopic))
	if topic == "" {
		return platform.WebhookEvent{}, permanent(op, "header %s is missing", HeaderTopic)
	}
	if len(topic) > 100 || !utf8.ValidString(topic) || strings.ContainsAny(topic, " \t\r\n") {
		return platform.WebhookEvent{}, permanent(op, "header %s is not a valid topic", HeaderTopic)
	}
	resource, event, _ := strings.Cut(topic, ".")
	if r := strings.TrimSpace(header.get(HeaderResource)); r != "" && validWord(r) {
		resource = r
	}
	if e := strings.TrimSpace(header.get(HeaderEvent)); e != "" && validWord(e) {
		event = e
	}
	ev := platform.WebhookEvent{Topic: topic, Resource: resource}
	if d := strings.TrimSpace(firstNonEmpty(header.get(HeaderDeliveryID), header.get(headerDeliveryIDDocs))); d != "" && len(d) <= 128 && utf8.ValidString(d) {
		ev.EventID = d
	}
	b := bytes.TrimSpace(body)
	if len(b) == 0 || b[0] != '{' {
		return platform.WebhookEvent{}, platform.Unparseable("body", "not a JSON object (%s)", snippet(body))
	}
	var head struct {
		ID  json.Number     `json:"id"`
		Arg json.RawMessage `json:"arg"` // action.* topics: {"action":..., "arg":...}
	}
	if err := json.Unmarshal(b, &head); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return platform.WebhookEvent{}, platform.Unparseable(truncate(te.Field, 60), "has the wrong type (%s where %s was expected)", te.Value, te.Type)
		}
		return platform.WebhookEvent{}, platform.Unparseable("body", "not valid JSON: %v", err)
	}
	id := head.ID.String()
	if id == "" && len(head.Arg) > 0 {
		var n json.Number
		var obj struct {
			ID json.Number `json:"id"`
		}
		switch {
		case json.Unmarshal(head.Arg, &n) == nil:
			id = n.String()
		case json.Unmarshal(head.Arg, &obj) == nil:
			id = obj.ID.String()
		}
	}
	if n, ok := parseID(id); ok {
		ev.ResourceID = strconv.FormatInt(n, 10)
	} else if resource != "action" {
		return platform.WebhookEvent{}, platform.Unparseable("id", "missing or not a positive integer")
	}
	if resource == "order" && event != "deleted" {
		o, err := NormaliseOrder(b, conn)
		if err != nil {
			// The signature held, so the hub keeps the delivery and replays it once the
			// parser reads it: every failure names the field it stopped at.
			var ue *platform.UnparseableError
			if errors.As(err, &ue) {
				return platform.WebhookEvent{}, ue
			}
			return platform.WebhookEvent{}, platform.Unparseable("body", "%v", err)
		}
		ev.Order = &o
		ev.TriggeredAt = o.UpdatedAt
	}
	return ev, nil
}

// validWord accepts header values like "order" or "created".
func validWord(s string) bool {
	if len(s) > 50 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// httpHeader looks headers up case-insensitively whether or not they were canonicalised.
type httpHeader map[string][]string

func (h httpHeader) get(name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}
