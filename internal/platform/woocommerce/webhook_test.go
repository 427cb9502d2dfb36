package woocommerce

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
)

func webhookConn() domain.Connection {
	return domain.Connection{ID: "conn1", Tenant: "t1", Platform: Name, SecretRef: "woo/conn1", Currency: "BRL",
		Settings: map[string]string{"base_url": "https://loja.example.com.br"}}
}

func hookHeaders(topic, sig string) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "WooCommerce/9.4.2 Hookshot (WordPress/6.7.1)")
	h.Set("X-WC-Webhook-Source", "https://loja.example.com.br/")
	if topic != "" {
		h.Set(HeaderTopic, topic)
		res, ev, _ := strings.Cut(topic, ".")
		h.Set(HeaderResource, res)
		h.Set(HeaderEvent, ev)
	}
	h.Set(HeaderWebhookID, "14")
	h.Set(HeaderDeliveryID, "a3f1c0de9b8e7d6c5b4a39281706f5e4")
	if sig != "" {
		h.Set(HeaderSignature, sig)
	}
	return h
}

// Signed bodies that are JSON objects but not readable orders.
const (
	brokenLine = `{"id":5,"date_created_gmt":"2025-01-01T00:00:00","line_items":[{"quantity":1,"subtotal":"1.00","total":"1.00"},{"quantity":1,"subtotal":"1,00"}]}`
	wrongType  = `{"id":5,"date_created_gmt":"2025-01-01T00:00:00","billing":"Rua X"}`
)

func TestVerifyWebhook(t *testing.T) {
	order, err := os.ReadFile(filepath.Join("testdata", "order_created.json"))
	if err != nil {
		t.Fatal(err)
	}
	product := []byte(`{"id":3301,"name":"Camiseta","type":"variable"}`)
	deleted := []byte(`{"id":5123}`)
	tampered := []byte(strings.Replace(string(order), `"219.78"`, `"2.19"`, 1))
	docsHeader := hookHeaders("order.updated", Sign(order, testHook))
	docsHeader.Del(HeaderDeliveryID)
	docsHeader.Set("X-WC-Delivery-ID", "docs-name")
	pingHeader := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	tests := []struct {
		name    string
		header  http.Header
		body    []byte
		want    platform.WebhookEvent
		order   bool
		kind    platform.Kind
		wantErr string
		// field is set when the signature holds but the body does not parse: the
		// error must be a *platform.UnparseableError naming it, so the hub keeps it.
		field string
	}{
		{name: "order created", header: hookHeaders("order.created", Sign(order, testHook)), body: order, order: true,
			want: platform.WebhookEvent{Topic: "order.created", Resource: "order", ResourceID: "5123", EventID: "a3f1c0de9b8e7d6c5b4a39281706f5e4"}},
		{name: "delivery id under the documented name", header: docsHeader, body: order, order: true,
			want: platform.WebhookEvent{Topic: "order.updated", Resource: "order", ResourceID: "5123", EventID: "docs-name"}},
		{name: "order deleted carries only the id", header: hookHeaders("order.deleted", Sign(deleted, testHook)), body: deleted,
			want: platform.WebhookEvent{Topic: "order.deleted", Resource: "order", ResourceID: "5123", EventID: "a3f1c0de9b8e7d6c5b4a39281706f5e4"}},
		{name: "product updated", header: hookHeaders("product.updated", Sign(product, testHook)), body: product,
			want: platform.WebhookEvent{Topic: "product.updated", Resource: "product", ResourceID: "3301", EventID: "a3f1c0de9b8e7d6c5b4a39281706f5e4"}},
		{name: "creation ping", header: pingHeader, body: []byte("webhook_id=14"),
			want: platform.WebhookEvent{Topic: TopicPing, Resource: "webhook", ResourceID: "14"}},
		{name: "ping lookalike with extra fields", header: pingHeader, body: []byte("webhook_id=14&x=1"), kind: platform.Auth, wantErr: "X-WC-Webhook-Signature is missing"},
		{name: "missing signature", header: hookHeaders("order.created", ""), body: order, kind: platform.Auth, wantErr: "X-WC-Webhook-Signature is missing"},
		{name: "bad signature", header: hookHeaders("order.created", Sign(order, "other-secret")), body: order, kind: platform.Auth, wantErr: "does not match"},
		{name: "signature not base64", header: hookHeaders("order.created", "!!!"), body: order, kind: platform.Auth, wantErr: "does not match"},
		{name: "tampered body", header: hookHeaders("order.created", Sign(order, testHook)), body: tampered, kind: platform.Auth, wantErr: "does not match"},
		{name: "missing topic", header: hookHeaders("", Sign(order, testHook)), body: order, kind: platform.Permanent, wantErr: "X-WC-Webhook-Topic is missing"},
		{name: "signed garbage", header: hookHeaders("order.created", Sign([]byte("<html>"), testHook)), body: []byte("<html>"), field: "body", wantErr: "not a JSON object"},
		{name: "signed truncated JSON", header: hookHeaders("order.created", Sign([]byte(`{"id":5,`), testHook)), body: []byte(`{"id":5,`), field: "body", wantErr: "not valid JSON"},
		{name: "signed order without id", header: hookHeaders("order.created", Sign([]byte(`{"status":"x"}`), testHook)), body: []byte(`{"status":"x"}`), field: "id", wantErr: "field id"},
		{name: "signed broken order", header: hookHeaders("order.created", Sign([]byte(`{"id":5,"total":"x"}`), testHook)), body: []byte(`{"id":5,"total":"x"}`), field: "total", wantErr: "field total"},
		{name: "signed order with a broken line", header: hookHeaders("order.updated", Sign([]byte(brokenLine), testHook)), body: []byte(brokenLine), field: "line_items[1].subtotal", wantErr: "not a decimal number"},
		{name: "signed order with a wrong type", header: hookHeaders("order.updated", Sign([]byte(wrongType), testHook)), body: []byte(wrongType), field: "billing", wantErr: "wrong type"},
		{name: "huge body", header: hookHeaders("order.created", "x"), body: make([]byte, MaxWebhookBody+1), kind: platform.Permanent, wantErr: "exceeds"},
	}
	secrets := &memSecrets{data: map[string]map[string]string{"woo/conn1": {"webhook_secret": testHook}}}
	c := New(secrets, Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := c.VerifyWebhook(ctx(t), webhookConn(), platform.WebhookRequest{Header: tt.header, Body: tt.body})
			var ue *platform.UnparseableError
			if tt.field != "" {
				if !errors.As(err, &ue) || ue.Field != tt.field || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want an unparseable %s with %q", err, tt.field, tt.wantErr)
				}
				return
			}
			if errors.As(err, &ue) {
				t.Fatalf("%v: only a verified body may be unparseable", err)
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
			if tt.order != (ev.Order != nil) {
				t.Fatalf("order set = %v, want %v", ev.Order != nil, tt.order)
			}
			if ev.Order != nil {
				if ev.Order.PlatformID != ev.ResourceID || ev.TriggeredAt.IsZero() || len(ev.Order.Lines) != 2 {
					t.Fatalf("order %+v", ev.Order)
				}
				ev.Order, ev.TriggeredAt = nil, tt.want.TriggeredAt
			}
			if ev != tt.want {
				t.Fatalf("got %+v, want %+v", ev, tt.want)
			}
		})
	}
	t.Run("no webhook secret configured", func(t *testing.T) {
		c := New(&memSecrets{data: map[string]map[string]string{"woo/conn1": {}}}, Options{})
		_, err := c.VerifyWebhook(ctx(t), webhookConn(), platform.WebhookRequest{Header: hookHeaders("order.created", Sign(order, testHook)), Body: order})
		if kindOf(err) != platform.Auth || !strings.Contains(err.Error(), "webhook_secret") {
			t.Fatalf("got %v", err)
		}
	})
}

// smallOrder is a compact realistic order: the Go fuzzer slows to a crawl on
// multi-kilobyte seeds, so the full testdata payloads stay in the golden tests.
const smallOrder = `{"id":5123,"number":"5123","status":"processing","currency":"BRL","date_created_gmt":"2025-11-29T01:41:07",` +
	`"date_modified_gmt":"2025-11-29T01:45:30","discount_total":"15.00","discount_tax":"0.00","shipping_total":"23.40",` +
	`"shipping_tax":"0.00","total":"219.78","customer_id":87,"billing":{"first_name":"Mariana","last_name":"Lima",` +
	`"company":"","address_1":"Rua Harmonia","city":"São Paulo","state":"SP","postcode":"05435-000","country":"BR",` +
	`"email":"m@example.com","phone":"11 3333","number":"1250","neighborhood":"Vila","persontype":"J","cnpj":"12345678000195"},` +
	`"shipping":{"first_name":"M","address_1":"Av Paulista","number":"1578","postcode":"01310-100"},"payment_method":"pix",` +
	`"meta_data":[{"key":"_billing_cpf","value":"123"}],"line_items":[{"name":"Camiseta","product_id":3301,"variation_id":3305,` +
	`"quantity":2,"subtotal":"119.80","subtotal_tax":"0.00","total":"109.80","total_tax":"0.00","sku":"CAM-M"}],` +
	`"shipping_lines":[{"method_title":"SEDEX"}],"fee_lines":[{"total":"-3.12","total_tax":"0.00"}]}`

func FuzzVerifyWebhook(f *testing.F) {
	f.Add("order.created", true, []byte(smallOrder))
	f.Add("order.deleted", true, []byte(`{"id":1}`))
	f.Add("action.woocommerce_order_status_changed", true, []byte(`{"action":"x","arg":{"id":3}}`))
	f.Add("", false, []byte("webhook_id=12"))
	f.Add("order.updated", false, []byte(`{"id":`))
	c := New(&memSecrets{data: map[string]map[string]string{"woo/conn1": {"webhook_secret": testHook}}}, Options{})
	f.Fuzz(func(t *testing.T, topic string, signed bool, body []byte) {
		h := http.Header{}
		h.Set(HeaderTopic, topic)
		if signed {
			h.Set(HeaderSignature, Sign(body, testHook))
		}
		ev, err := c.VerifyWebhook(t.Context(), webhookConn(), platform.WebhookRequest{Header: h, Body: body})
		if err != nil {
			if platform.AsError(err).Message == "" {
				t.Fatalf("error without a message: %v", err)
			}
			return
		}
		if ev.Topic == "" {
			t.Fatalf("accepted delivery without a topic: %+v", ev)
		}
		if !signed && ev.Topic != TopicPing {
			t.Fatalf("unsigned delivery accepted: %+v", ev)
		}
	})
}

func FuzzValidSignature(f *testing.F) {
	f.Add([]byte(`{"id":1}`), "secret", "")
	f.Add([]byte(""), "", "AAAA")
	f.Fuzz(func(t *testing.T, body []byte, secret, sig string) {
		if ValidSignature(body, sig, secret) && sig != Sign(body, secret) && strings.TrimSpace(sig) != Sign(body, secret) {
			t.Fatalf("accepted a signature that is not the HMAC")
		}
		if secret != "" && !ValidSignature(body, Sign(body, secret), secret) {
			t.Fatal("rejected the right signature")
		}
	})
}

func FuzzNormaliseOrder(f *testing.F) {
	f.Add([]byte(smallOrder))
	f.Add([]byte(`{"id":1,"date_created_gmt":"2025-01-01T00:00:00","line_items":[{"quantity":"2","subtotal":1e400}]}`))
	conn := domain.Connection{ID: "c1", Currency: "BRL"}
	f.Fuzz(func(t *testing.T, body []byte) {
		o, err := NormaliseOrder(body, conn)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if o.PlatformID == "" || o.PlacedAt.IsZero() || o.Lines == nil {
			t.Fatalf("accepted an incomplete order: %+v", o)
		}
		for _, l := range o.Lines {
			if l.Quantity <= 0 || l.UnitPrice.Amount.IsNegative() || l.Discount.Amount.IsNegative() {
				t.Fatalf("bad line %+v", l)
			}
		}
	})
}
