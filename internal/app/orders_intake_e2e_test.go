package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

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

// TestIdenticalThinNotificationsFollowTheOrder is issue 10's first defect end to end on
// the two platforms whose notifications carry ids only: the order's creation notice is
// lost, then three notifications with the very same body announce open (stock held),
// paid (accepted) and cancelled (released), and the hub follows each one.
func TestIdenticalThinNotificationsFollowTheOrder(t *testing.T) {
	tests := []struct {
		platform             string
		open, paid, canceled string
	}{
		{"tray", "AGUARDANDO PAGAMENTO", "A ENVIAR", "CANCELADO"},
		{"nuvemshop", "pending", "paid", "cancelled"},
	}
	for _, tc := range tests {
		t.Run(tc.platform, func(t *testing.T) {
			rules := domain.Rules{StatusMap: domain.StatusMap{Import: []string{tc.paid}, Reserve: []string{tc.open}}}
			w := newPlatformWorld(t, openEmbedded(t), tc.platform, 3, false, rules)
			sale := func(id, status string) (string, platformsim.Delivery) {
				t.Helper()
				pid, d, err := w.placer.PlaceOrder("store1", platformsim.SimOrder{ID: id, Status: status,
					Lines: []platformsim.SimOrderLine{{Product: w.prods["store1"], SKU: shopSKU, Quantity: 2, UnitPrice: decimal.RequireFromString("29.90")}},
					Customer: platformsim.SimCustomer{Name: "Davi", Document: "12345678909", Street: "Rua D", Number: "4", City: "Recife",
						State: "PE", PostalCode: "50000-000"}})
				if err != nil {
					t.Fatal(err)
				}
				return pid, d
			}
			pid, _ := sale("", tc.open) // its creation notice never arrives
			id := domain.OrderID("c1", pid)
			var first []byte
			for _, step := range []struct {
				status   string
				state    domain.OrderState
				reserved int64
				others   int64
			}{
				{tc.open, domain.OrderWaiting, 2, 8},
				{tc.paid, domain.OrderAccepted, 2, 8},
				{tc.canceled, domain.OrderCancelled, 0, 10},
			} {
				_, d := sale(pid, step.status)
				if first == nil {
					first = d.Body
				} else if !bytes.Equal(d.Body, first) {
					t.Fatalf("the simulator's %q notification differs from the first: %s vs %s", step.status, d.Body, first)
				}
				code, body := w.webhookBody(tc.platform, "c1", d)
				if code != http.StatusOK || strings.Contains(string(body), `"duplicate":true`) {
					t.Fatalf("%s: answered %d %s", step.status, code, body)
				}
				w.waitFor("order "+string(step.state), func() bool {
					rec, err := w.hub.Orders.GetOrder(context.Background(), shopTenant, id)
					return err == nil && rec.State == step.state && w.reserved() == step.reserved
				})
				w.waitStock(map[string]int64{"store2": step.others, "store3": step.others})
			}
			if n := len(w.pending()); n != 0 {
				t.Fatalf("%d orders pending for the ERP after the cancel", n)
			}
		})
	}
}

// TestLostWebhookIsImportedByThePoll: a sale whose notification never arrives is taken by
// the safety-net poll on every platform that also sends webhooks, and a later webhook of
// the same order makes no second one.
func TestLostWebhookIsImportedByThePoll(t *testing.T) {
	for _, name := range []string{"tray", "shopify", "nuvemshop", "woocommerce", "merchantpro"} {
		t.Run(name, func(t *testing.T) {
			w := newPlatformWorld(t, openEmbedded(t), name, 2, false, domain.Rules{})
			if name == "nuvemshop" {
				// Its poll reads closed windows of whole seconds, trailing now by a lag
				// (default 60 s) for orders still settling: no lag, and a window opened a
				// minute before the sale.
				w.setSetting("c1", "order_poll_lag_seconds", "0")
				w.setSetting("c1", "orders_since", time.Now().UTC().Add(-time.Minute).Format(time.RFC3339))
			}
			pid, d, err := w.placer.PlaceOrder("store1", platformsim.SimOrder{Lines: []platformsim.SimOrderLine{{Product: w.prods["store1"],
				SKU: shopSKU, Quantity: 3, UnitPrice: decimal.RequireFromString("29.90")}}, Customer: platformsim.SimCustomer{Name: "Eva",
				Document: "12345678909", Street: "Rua E", Number: "5", City: "Belém", State: "PA", PostalCode: "66000-000"}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.hub.Orders.PollAll(context.Background()); err != nil {
				t.Fatalf("poll: %v", err)
			}
			w.waitStock(map[string]int64{"store2": 7})
			rec, err := w.hub.Orders.GetOrder(context.Background(), shopTenant, domain.OrderID("c1", pid))
			if err != nil || rec.State != domain.OrderAccepted {
				t.Fatalf("polled order %+v: %v", rec, err)
			}
			// The webhook arrives late after all: still one order, one reservation.
			if code := w.webhook(name, "c1", d); code != http.StatusOK {
				t.Fatalf("late webhook answered %d", code)
			}
			w.waitFor("queues drained", func() bool {
				st, err := w.hub.OrderQueue.Stats(context.Background())
				return err == nil && st.Waiting+st.InFlight == 0
			})
			list, _, err := w.hub.Store.ListOrders(context.Background(), shopTenant, storeFilterAll, "", 10)
			if err != nil || len(list) != 1 || w.reserved() != 3 {
				t.Fatalf("%d orders, %d reserved (%v); want 1 and 3", len(list), w.reserved(), err)
			}
		})
	}
}

// setSetting changes one setting of a stored connection, as a setup reload would.
func (w *orderWorld) setSetting(connID, key, value string) {
	w.t.Helper()
	ctx := context.Background()
	c, err := w.hub.Store.GetConnection(ctx, connID)
	if err != nil {
		w.t.Fatal(err)
	}
	c.Settings = maps.Clone(c.Settings)
	c.Settings[key] = value
	if err := w.hub.Store.PutConnection(ctx, c); err != nil {
		w.t.Fatal(err)
	}
}
