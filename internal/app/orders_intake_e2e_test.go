package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/app"
	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/platformsim"
)

// brokenParser is a connector whose parser has a bug: the signature check is the real
// connector's, but every verified order body "fails" on one field until the fix ships.
type brokenParser struct {
	platform.Connector
	mu    sync.Mutex
	fixed bool
}

func (b *brokenParser) VerifyWebhook(ctx context.Context, conn domain.Connection, req platform.WebhookRequest) (platform.WebhookEvent, error) {
	ev, err := b.Connector.VerifyWebhook(ctx, conn, req)
	b.mu.Lock()
	defer b.mu.Unlock()
	if err != nil || b.fixed {
		return ev, err
	}
	return platform.WebhookEvent{}, platform.Unparseable("line_items[0].price", "%q is not a decimal", "3,00")
}

// TestSignedBodyThatDoesNotParseIsKeptAndReplayed is issue 10's third defect through the
// public API: a correctly signed body the parser cannot read is answered 200 (the platform
// would disable the hook otherwise), shows in the failure inbox naming the field, and is
// imported when the operator retries it after the fix.
func TestSignedBodyThatDoesNotParseIsKeptAndReplayed(t *testing.T) {
	unparsedReplay(t, openEmbedded(t))
}

// TestSignedBodyThatDoesNotParseIsKeptAndReplayedOnAWS: the same on DynamoDB and SQS.
func TestSignedBodyThatDoesNotParseIsKeptAndReplayedOnAWS(t *testing.T) {
	unparsedReplay(t, openAWS(t))
}

func unparsedReplay(t *testing.T, hub *app.Hub) {
	broken := &brokenParser{Connector: hub.Connectors["woocommerce"]}
	hub.Connectors["woocommerce"] = broken
	w := newPlatformWorld(t, hub, "woocommerce", 2, false, domain.Rules{})
	_, d, err := w.placer.PlaceOrder("store1", platformsim.SimOrder{Lines: []platformsim.SimOrderLine{{Product: w.prods["store1"], SKU: shopSKU,
		Quantity: 1, UnitPrice: decimal.RequireFromString("29.90")}}, Customer: platformsim.SimCustomer{Name: "Caio", Street: "Rua C", Number: "3",
		City: "Natal", State: "RN", PostalCode: "59000-000"}})
	if err != nil {
		t.Fatal(err)
	}
	code, body := w.webhookBody("woocommerce", "c1", d)
	if code != http.StatusOK || !strings.Contains(string(body), "line_items[0].price") {
		t.Fatalf("delivery answered %d %s; want 200 naming the field", code, body)
	}
	var failures struct {
		Failures []struct {
			ID       string `json:"id"`
			Queue    string `json:"queue"`
			Reason   string `json:"reason"`
			Delivery string `json:"delivery"`
		} `json:"failures"`
	}
	w.waitFor("the delivery in the failure inbox", func() bool {
		code, body := w.call(http.MethodGet, "/v1/admin/failures", "")
		if code != http.StatusOK {
			t.Fatalf("failures: %d %s", code, body)
		}
		failures.Failures = nil
		_ = json.Unmarshal(body, &failures)
		return len(failures.Failures) == 1
	})
	f := failures.Failures[0]
	if !strings.Contains(f.Reason, "line_items[0].price") || f.Delivery == "" {
		t.Fatalf("failure %+v: want the field in the reason and the delivery named", f)
	}
	if n := len(w.pending()); n != 0 {
		t.Fatalf("%d orders before the replay", n)
	}
	broken.mu.Lock()
	broken.fixed = true
	broken.mu.Unlock()
	code, body = w.call(http.MethodPost, "/v1/admin/failures/retry", `{"queue":"`+f.Queue+`","ids":["`+f.ID+`"]}`)
	if code != http.StatusOK || !strings.Contains(string(body), `"moved":1`) {
		t.Fatalf("retry: %d %s", code, body)
	}
	w.waitFor("the replayed order pending for the ERP", func() bool { return len(w.pending()) == 1 })
	w.waitStock(map[string]int64{"store1": 9, "store2": 9})
}

// webhookBody delivers d and returns the answer's status and body.
func (w *orderWorld) webhookBody(platformName, conn string, d platformsim.Delivery) (int, []byte) {
	target := "/v1/webhooks/" + platformName + "/" + conn
	if len(d.Query) > 0 {
		target += "?" + d.Query.Encode()
	}
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(string(d.Body)))
	for k, vs := range d.Header {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	rec := httptest.NewRecorder()
	w.api.ServeHTTP(rec, r)
	return rec.Code, rec.Body.Bytes()
}
