package shopify

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
)

func webhookConnector(secrets map[string]string) (*Connector, domain.Connection) {
	c := New(&memSecrets{data: map[string]map[string]string{"s": secrets}}, Options{})
	return c, domain.Connection{ID: "c1", Tenant: "t1", SecretRef: "s", Currency: "BRL",
		Settings: map[string]string{"shop_domain": "loja.myshopify.com"}}
}

func TestVerifyWebhook(t *testing.T) {
	order := string(readFile(t, "orders_create.json"))
	product := `{"id":788032119674292900,"title":"Caneca","variants":[]}`
	inventory := `{"inventory_item_id":271878346596884000,"location_id":24826418,"available":3,"updated_at":"2026-03-14T21:37:52-03:00"}`
	headers := func(topic, sig string, extra ...string) http.Header {
		h := http.Header{}
		if sig != "" {
			h.Set(HeaderHmac, sig)
		}
		if topic != "" {
			h.Set(HeaderTopic, topic)
		}
		h.Set(HeaderEventID, "ev-1")
		h.Set(HeaderTriggeredAt, "2026-03-15T00:37:56Z")
		h.Set(HeaderShopDomain, "loja.myshopify.com")
		for i := 0; i+1 < len(extra); i += 2 {
			if extra[i+1] == "" {
				h.Del(extra[i])
			} else {
				h.Set(extra[i], extra[i+1])
			}
		}
		return h
	}
	tests := []struct {
		name     string
		secrets  map[string]string
		header   http.Header
		body     string
		wantRes  string
		wantID   string
		wantEv   string
		wantOrd  bool
		kind     platform.Kind
		wantErr  string
		signBody string // sign this instead of body (tampering)
		// field is the UnparseableError's field: the signature checked out, the body did not parse.
		field string
	}{
		{name: "order create", header: headers("orders/create", "sign"), body: order, wantRes: "order", wantID: "5813404221603", wantEv: "ev-1", wantOrd: true},
		{name: "order updated", header: headers("orders/updated", "sign"), body: order, wantRes: "order", wantID: "5813404221603", wantEv: "ev-1", wantOrd: true},
		{name: "order delete carries only the id", header: headers("orders/delete", "sign"), body: `{"id":5813404221603}`, wantRes: "order", wantID: "5813404221603", wantEv: "ev-1"},
		{name: "product update", header: headers("products/update", "sign"), body: product, wantRes: "product", wantID: "788032119674292900", wantEv: "ev-1"},
		{name: "inventory level", header: headers("inventory_levels/update", "sign"), body: inventory, wantRes: "inventory_level", wantID: "271878346596884000", wantEv: "ev-1"},
		{name: "webhook id when event id is missing", header: headers("products/update", "sign", HeaderEventID, "", HeaderWebhookID, "wh-9"), body: product, wantRes: "product", wantID: "788032119674292900", wantEv: "wh-9"},
		{name: "previous secret during rotation", secrets: map[string]string{"webhook_secret": "new", "webhook_secret_previous": testSecret}, header: headers("products/update", "sign"), body: product, wantRes: "product", wantID: "788032119674292900", wantEv: "ev-1"},
		{name: "bad signature", header: headers("orders/create", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="), body: order, kind: platform.Auth, wantErr: "does not match"},
		{name: "signature not base64", header: headers("orders/create", "not base64!"), body: order, kind: platform.Auth, wantErr: "does not match"},
		{name: "missing signature header", header: headers("orders/create", ""), body: order, kind: platform.Auth, wantErr: "X-Shopify-Hmac-Sha256 is missing"},
		{name: "tampered body", header: headers("orders/create", "sign"), body: strings.Replace(order, `"263.80"`, `"1.00"`, 1), signBody: order, kind: platform.Auth, wantErr: "does not match"},
		{name: "wrong secret", secrets: map[string]string{"webhook_secret": "other"}, header: headers("orders/create", "sign"), body: order, kind: platform.Auth, wantErr: "does not match"},
		{name: "no webhook secret", secrets: map[string]string{"access_token": "x"}, header: headers("orders/create", "sign"), body: order, kind: platform.Auth, wantErr: "no webhook_secret"},
		{name: "other shop", header: headers("orders/create", "sign", HeaderShopDomain, "other.myshopify.com"), body: order, kind: platform.Auth, wantErr: "another shop"},
		{name: "missing topic", header: headers("", "sign"), body: order, field: "header X-Shopify-Topic"},
		{name: "bad topic", header: headers("ORDERS CREATE", "sign"), body: order, field: "header X-Shopify-Topic"},
		{name: "bad triggered-at", header: headers("orders/create", "sign", HeaderTriggeredAt, "yesterday"), body: order, field: "header X-Shopify-Triggered-At"},
		{name: "not json", header: headers("orders/create", "sign"), body: "id=1", field: "body"},
		{name: "missing id", header: headers("orders/create", "sign"), body: `{"name":"#1"}`, field: "id"},
		{name: "order with bad line", header: headers("orders/create", "sign"), body: `{"id":1,"created_at":"2026-01-01T00:00:00Z","line_items":[{"quantity":0,"price":"1"}]}`, field: "line_items[0].quantity"},
		{name: "order with wrong type", header: headers("orders/create", "sign"), body: `{"id":1,"line_items":{"a":1}}`, field: "line_items"},
		{name: "order with a line of the wrong type", header: headers("orders/create", "sign"), body: `{"id":1,"line_items":[{"quantity":1},{"quantity":{"n":1}}]}`, field: "line_items[1].quantity"},
		{name: "order with a bad tax line", header: headers("orders/create", "sign"), body: `{"id":1,"line_items":[{"quantity":1,"tax_lines":[{"price":"x"}]}]}`, field: "line_items[0].tax_lines[0].price"},
		{name: "order with bad taxes_included", header: headers("orders/create", "sign"), body: `{"id":1,"taxes_included":"maybe"}`, field: "taxes_included"},
		{name: "order with bad total tax", header: headers("orders/create", "sign"), body: `{"id":1,"created_at":"2026-01-01T00:00:00Z","total_tax":"1,5"}`, field: "total_tax"},
		{name: "order without created_at", header: headers("orders/create", "sign"), body: `{"id":1}`, field: "created_at"},
		{name: "huge body", header: headers("orders/create", "sign"), body: `{"id":1,"pad":"` + strings.Repeat("x", MaxWebhookBody) + `"}`, kind: platform.Permanent, wantErr: "exceeds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			secrets := tt.secrets
			if secrets == nil {
				secrets = map[string]string{"webhook_secret": testSecret}
			}
			c, conn := webhookConnector(secrets)
			if tt.header.Get(HeaderHmac) == "sign" {
				signed := tt.body
				if tt.signBody != "" {
					signed = tt.signBody
				}
				tt.header.Set(HeaderHmac, Sign(testSecret, []byte(signed)))
			}
			ev, err := c.VerifyWebhook(context.Background(), conn, platform.WebhookRequest{Header: tt.header, Body: []byte(tt.body)})
			var ue *platform.UnparseableError
			if tt.field != "" {
				if !errors.As(err, &ue) || ue.Field != tt.field {
					t.Fatalf("got %v, want an unparseable error naming %q", err, tt.field)
				}
				return
			}
			if errors.As(err, &ue) {
				t.Fatalf("%v: only a verified delivery may be unparseable", err)
			}
			if tt.wantErr != "" {
				if err == nil || kindOf(err) != tt.kind || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want %v error with %q", err, tt.kind, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ev.Resource != tt.wantRes || ev.ResourceID != tt.wantID || ev.EventID != tt.wantEv || (ev.Order != nil) != tt.wantOrd || ev.TriggeredAt.IsZero() {
				t.Fatalf("event %+v", ev)
			}
		})
	}
}

func FuzzVerifyWebhook(f *testing.F) {
	f.Add("orders/create", readFile(f, "orders_create.json"), true)
	f.Add("products/update", []byte(`{"id":1}`), true)
	f.Add("orders/create", []byte(`{"id":"1","created_at":null,"line_items":[null,{"quantity":"2"}]}`), true)
	f.Add("x", []byte(`{`), false)
	c, conn := webhookConnector(map[string]string{"webhook_secret": testSecret})
	f.Fuzz(func(t *testing.T, topic string, body []byte, sign bool) {
		defer tooSlow(t, time.Now())
		h := http.Header{}
		h.Set(HeaderTopic, topic)
		h.Set(HeaderHmac, "bm90IGEgc2lnbmF0dXJl")
		if sign {
			h.Set(HeaderHmac, Sign(testSecret, body))
		}
		ev, err := c.VerifyWebhook(context.Background(), conn, platform.WebhookRequest{Header: h, Body: body})
		if err != nil {
			var ue *platform.UnparseableError
			if errors.As(err, &ue) {
				if !sign || ue.Field == "" {
					t.Fatalf("unparseable without a good signature or a field: %v", err)
				}
				return
			}
			if platform.AsError(err).Platform != Name {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if !sign || ev.ResourceID == "" || ev.Topic != topic || (ev.Resource == "order" && topic != "orders/delete" && ev.Order == nil) {
			t.Fatalf("accepted %+v (signed %v)", ev, sign)
		}
	})
}

func FuzzCheckSignature(f *testing.F) {
	f.Add("secret", []byte("body"), Sign("secret", []byte("body")))
	f.Add("", []byte{}, "")
	f.Add("k", []byte("x"), "====")
	f.Fuzz(func(t *testing.T, secret string, body []byte, header string) {
		ok := checkSignature(header, body, secret)
		if ok && (secret == "" || header == "") {
			t.Fatal("accepted without a secret or header")
		}
		if secret != "" && !checkSignature(Sign(secret, body), body, secret) {
			t.Fatal("rejected its own signature")
		}
	})
}
