package merchantpro

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/merchantpro/merchantprosim"
)

func sign(body, secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(body))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func TestVerifyWebhook(t *testing.T) {
	const body = `{"event":"order.created","event_id":"evt-77","created_at":"2025-11-28T20:41:08Z","data":{"id":20431}}`
	hexSig := func() string {
		m := hmac.New(sha256.New, []byte(testWHSec))
		m.Write([]byte(body))
		return hex.EncodeToString(m.Sum(nil))
	}()
	huge := `{"event":"order.created","data":{"id":1},"pad":"` + strings.Repeat("x", MaxWebhookBody) + `"}`
	tests := []struct {
		name    string
		body    string
		headers map[string]string
		kind    platform.Kind
		want    string // error substring; "" means success
	}{
		{"good", body, map[string]string{SignatureHeader: sign(body, testWHSec)}, 0, ""},
		{"good, hex digest, lower-case header name", body, map[string]string{"x-webhook-signature": hexSig}, 0, ""},
		{"bad signature", body, map[string]string{SignatureHeader: sign(body, "other-secret")}, platform.Auth, "does not match"},
		{"missing header", body, nil, platform.Auth, "is missing"},
		{"garbage signature", body, map[string]string{SignatureHeader: "not base64!!"}, platform.Auth, "not a base64"},
		{"tampered body", strings.Replace(body, "20431", "20432", 1), map[string]string{SignatureHeader: sign(body, testWHSec)}, platform.Auth, "does not match"},
		{"huge body", huge, map[string]string{SignatureHeader: sign(huge, testWHSec)}, platform.Permanent, "exceeds"},
		{"signed but not JSON", "event=order", map[string]string{SignatureHeader: sign("event=order", testWHSec)}, platform.Permanent, "not a JSON object"},
		{"signed, no event", `{"data":{"id":1}}`, map[string]string{SignatureHeader: sign(`{"data":{"id":1}}`, testWHSec)}, platform.Permanent, "field event"},
		{"signed, event from header", `{"data":{"id":5}}`, map[string]string{SignatureHeader: sign(`{"data":{"id":5}}`, testWHSec), "X-Webhook-Event": "order.updated"}, 0, ""},
		{"signed, no id", `{"event":"order.updated"}`, map[string]string{SignatureHeader: sign(`{"event":"order.updated"}`, testWHSec)}, platform.Permanent, "field data.id"},
		{"signed, bad order id", `{"event":"order.updated","data":{"id":"1/../2"}}`, map[string]string{SignatureHeader: sign(`{"event":"order.updated","data":{"id":"1/../2"}}`, testWHSec)}, platform.Permanent, "not a valid id"},
	}
	// Signed deliveries that do not parse are unparseable (kept by the hub and replayed),
	// naming the field; the rest are refused.
	unparseable := map[string]string{"signed but not JSON": "body", "signed, no event": "event",
		"signed, no id": "data.id", "signed, bad order id": "data.id"}
	e := newEnv(t, merchantprosim.Options{}, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.headers {
				h[k] = []string{v} // as given: not canonicalised
			}
			ev, err := e.c.VerifyWebhook(context.Background(), e.conn, platform.WebhookRequest{Header: h, Body: []byte(tt.body)})
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected %v", err)
				}
				if ev.Resource != "order" || ev.ResourceID == "" || ev.Order != nil {
					t.Fatalf("event %+v", ev)
				}
				return
			}
			var ue *platform.UnparseableError
			if field, ok := unparseable[tt.name]; ok {
				if !errors.As(err, &ue) || ue.Field != field || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("got %v, want an unparseable %s containing %q", err, field, tt.want)
				}
				return
			}
			if errors.As(err, &ue) {
				t.Fatalf("%v: only a verified body may be unparseable", err)
			}
			if err == nil || kindOf(err) != tt.kind || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %s containing %q", err, tt.kind, tt.want)
			}
		})
	}
	ev, err := e.c.VerifyWebhook(context.Background(), e.conn, platform.WebhookRequest{
		Header: http.Header{SignatureHeader: {sign(body, testWHSec)}}, Body: []byte(body)})
	if err != nil || ev.Topic != "order.created" || ev.ResourceID != "20431" || ev.EventID != "evt-77" ||
		!ev.TriggeredAt.Equal(time.Date(2025, 11, 28, 20, 41, 8, 0, time.UTC)) {
		t.Fatalf("event %+v, %v", ev, err)
	}
	e.secrets.set("mp/conn1", map[string]string{"api_key": testKey, "api_secret": testSecret})
	if _, err := e.c.VerifyWebhook(context.Background(), e.conn, platform.WebhookRequest{
		Header: http.Header{SignatureHeader: {sign(body, testWHSec)}}, Body: []byte(body)}); kindOf(err) != platform.Auth ||
		!strings.Contains(err.Error(), "webhook_secret") {
		t.Fatalf("no webhook secret: %v", err)
	}
}

func TestResourceOf(t *testing.T) {
	for in, want := range map[string]string{"order.created": "order", "orders/update": "order",
		"order_status_changed": "order", "Product.Updated": "product", "customers": "customer"} {
		if got := resourceOf(in); got != want {
			t.Fatalf("%s: %s, want %s", in, got, want)
		}
	}
}
