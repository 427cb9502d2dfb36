package shopify

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
)

// MaxWebhookBody is the largest delivery accepted.
const MaxWebhookBody = 1 << 20

// Delivery headers (Shopify's own Node library spells them this way; Go canonicalises).
const (
	HeaderHmac        = "X-Shopify-Hmac-Sha256"
	HeaderTopic       = "X-Shopify-Topic"
	HeaderShopDomain  = "X-Shopify-Shop-Domain"
	HeaderEventID     = "X-Shopify-Event-Id"
	HeaderWebhookID   = "X-Shopify-Webhook-Id"
	HeaderTriggeredAt = "X-Shopify-Triggered-At"
)

// Sign is the X-Shopify-Hmac-Sha256 value of body under secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// checkSignature compares the header with the body's HMAC under each secret, in
// constant time (webhook_secret, and webhook_secret_previous during a rotation).
func checkSignature(header string, body []byte, secrets ...string) bool {
	got, err := base64.StdEncoding.DecodeString(strings.TrimSpace(header))
	if err != nil || len(got) != sha256.Size {
		return false
	}
	ok := false
	for _, s := range secrets {
		if s == "" {
			continue
		}
		m := hmac.New(sha256.New, []byte(s))
		m.Write(body)
		if hmac.Equal(got, m.Sum(nil)) {
			ok = true
		}
	}
	return ok
}

// VerifyWebhook checks X-Shopify-Hmac-Sha256 (base64 HMAC-SHA256 of the raw body with the
// app's client secret, secret key webhook_secret) and parses the delivery. orders/*
// deliveries carry the full REST order, returned normalised in Order. EventID is
// X-Shopify-Event-Id (the same on every retry of one event; X-Shopify-Webhook-Id when
// absent) and TriggeredAt X-Shopify-Triggered-At (kept across retries, so stale retries
// are recognisable). Once the signature checks out, a delivery that cannot be read
// (body, an order field, a header) fails with *platform.UnparseableError naming it, so
// the hub stores it and answers 2xx instead of making Shopify drop the subscription;
// before that, failures are the plain verification errors.
func (c *Connector) VerifyWebhook(ctx context.Context, conn domain.Connection, req platform.WebhookRequest) (platform.WebhookEvent, error) {
	const op = "verify_webhook"
	if len(req.Body) > MaxWebhookBody {
		return platform.WebhookEvent{}, permanent(op, "body of %d bytes exceeds %d", len(req.Body), MaxWebhookBody)
	}
	sig := req.Header.Get(HeaderHmac)
	if sig == "" {
		return platform.WebhookEvent{}, authErr(op, "header %s is missing", HeaderHmac)
	}
	if conn.SecretRef == "" {
		return platform.WebhookEvent{}, authErr(op, "connection %s has no secret_ref", conn.ID)
	}
	sec, err := c.secrets.GetSecret(ctx, conn.SecretRef)
	if err != nil {
		return platform.WebhookEvent{}, transient(op, "reading credentials: %v", err)
	}
	if sec["webhook_secret"] == "" {
		return platform.WebhookEvent{}, authErr(op, "secret %s has no webhook_secret", conn.SecretRef)
	}
	if !checkSignature(sig, req.Body, sec["webhook_secret"], sec["webhook_secret_previous"]) {
		return platform.WebhookEvent{}, authErr(op, "header %s does not match the body", HeaderHmac)
	}
	return parseDelivery(conn, req, strings.ToUpper(conn.Currency))
}

// parseDelivery reads a delivery whose signature has been checked.
func parseDelivery(conn domain.Connection, req platform.WebhookRequest, currency string) (platform.WebhookEvent, error) {
	const op = "verify_webhook"
	if shop := strings.ToLower(strings.TrimSpace(conn.Setting("shop_domain", ""))); shop != "" {
		if got := strings.ToLower(strings.TrimSpace(req.Header.Get(HeaderShopDomain))); got != "" && got != shop {
			return platform.WebhookEvent{}, authErr(op, "header %s names another shop", HeaderShopDomain)
		}
	}
	// From here the signature is good: what does not parse is stored by the hub and
	// replayed once the parser is fixed, so every failure names what it could not read.
	topic := strings.TrimSpace(req.Header.Get(HeaderTopic))
	if topic == "" {
		return platform.WebhookEvent{}, platform.Unparseable("header "+HeaderTopic, "missing")
	}
	if !validTopic(topic) {
		return platform.WebhookEvent{}, platform.Unparseable("header "+HeaderTopic, "%q is not a topic like orders/create", truncate(topic, 64))
	}
	ev := platform.WebhookEvent{Topic: topic, Resource: resourceOf(topic)}
	ev.EventID = strings.TrimSpace(req.Header.Get(HeaderEventID))
	if ev.EventID == "" {
		ev.EventID = strings.TrimSpace(req.Header.Get(HeaderWebhookID))
	}
	if len(ev.EventID) > 128 || !utf8.ValidString(ev.EventID) {
		return platform.WebhookEvent{}, platform.Unparseable("header "+HeaderEventID, "not a valid id")
	}
	if v := strings.TrimSpace(req.Header.Get(HeaderTriggeredAt)); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return platform.WebhookEvent{}, platform.Unparseable("header "+HeaderTriggeredAt, "%q is not an RFC 3339 time", truncate(v, 40))
		}
		ev.TriggeredAt = t.UTC()
	}
	body := bytes.TrimSpace(req.Body)
	if len(body) == 0 || body[0] != '{' {
		return platform.WebhookEvent{}, platform.Unparseable("body", "not a JSON object")
	}
	var ids struct {
		ID              flex `json:"id"`
		InventoryItemID flex `json:"inventory_item_id"`
	}
	if err := json.Unmarshal(body, &ids); err != nil {
		return platform.WebhookEvent{}, unparseableJSON("", err)
	}
	ev.ResourceID = cmp.Or(ids.ID.str(), ids.InventoryItemID.str())
	if ev.ResourceID == "" || !allDigits(ev.ResourceID) || len(ev.ResourceID) > 24 {
		return platform.WebhookEvent{}, platform.Unparseable("id", "missing or not a Shopify id")
	}
	if ev.Resource == "order" && topic != "orders/delete" {
		raw, err := parseRESTOrder(body)
		if err != nil {
			return platform.WebhookEvent{}, fmt.Errorf("shopify %s: order %s: %w", op, ev.ResourceID, err)
		}
		if currency == "" {
			currency = "USD"
		}
		o, err := normalise(raw, conn, currency)
		if err != nil {
			return platform.WebhookEvent{}, fmt.Errorf("shopify %s: order %s: %w", op, ev.ResourceID, err)
		}
		ev.Order = &o
	}
	return ev, nil
}

// validTopic accepts "resource/event" in lower-case letters and underscores.
func validTopic(t string) bool {
	res, event, ok := strings.Cut(t, "/")
	if !ok || len(t) > 64 || res == "" || event == "" {
		return false
	}
	for _, r := range res + event {
		if !(r >= 'a' && r <= 'z' || r == '_') {
			return false
		}
	}
	return true
}

// resourceOf names the topic's resource in the singular: orders/create -> order.
func resourceOf(topic string) string {
	res, _, _ := strings.Cut(topic, "/")
	switch {
	case strings.HasSuffix(res, "ies"):
		return strings.TrimSuffix(res, "ies") + "y"
	case strings.HasSuffix(res, "s"):
		return strings.TrimSuffix(res, "s")
	}
	return res
}
