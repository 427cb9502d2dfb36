package app_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/app"
	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/ingest"
	"github.com/ponte-hub/ponte/internal/notify"
	"github.com/ponte-hub/ponte/internal/platform/platformsim"
	"github.com/ponte-hub/ponte/internal/platforms"
	"github.com/ponte-hub/ponte/internal/store"
)

const (
	shopTenant = "shop"
	shopKey    = "shop-erp-key-0000000000123"
	shopSKU    = "CANECA"
	erpSecret  = app.EndpointSecretPrefix + "erp-hook"
)

var erpSigningSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))

// erpReceiver is the ERP's webhook endpoint: it verifies every delivery's Standard
// Webhooks signature and answers push-mode orders with its own number.
type erpReceiver struct {
	mu       sync.Mutex
	events   []string // type of each verified delivery
	bad      int
	number   string // answered as erp_order_number when set
	received map[string]int
}

func (e *erpReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := notify.Verify(erpSigningSecret, r.Header, body, 5*time.Minute, time.Now()); err != nil {
		e.bad++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var env struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(body, &env)
	if e.received == nil {
		e.received = map[string]int{}
	}
	e.received[r.Header.Get("webhook-id")]++
	if e.received[r.Header.Get("webhook-id")] == 1 {
		e.events = append(e.events, env.Type)
	}
	if e.number != "" && env.Type == "order.accepted" {
		fmt.Fprintf(w, `{"erp_order_number":%q}`, e.number)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (e *erpReceiver) seen() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.events...)
}

type orderWorld struct {
	t      *testing.T
	hub    *app.Hub
	api    http.Handler
	sim    platformsim.Simulator
	placer platformsim.OrderPlacer
	prods  map[string]platformsim.Product // store -> product
	erp    *erpReceiver
}

// newOrderWorld runs the embedded hub with three simulated Tray stores selling one SKU
// (10 in stock at the ERP) and an ERP endpoint subscribed to every event.
func newOrderWorld(t *testing.T, erpOrders bool, rules domain.Rules) *orderWorld {
	t.Helper()
	return newPlatformWorld(t, openEmbedded(t), "tray", 3, erpOrders, rules)
}

func newPlatformWorld(t *testing.T, hub *app.Hub, platformName string, stores int, erpOrders bool, rules domain.Rules) *orderWorld {
	t.Helper()
	ctx := context.Background()
	w := &orderWorld{t: t, hub: hub, prods: map[string]platformsim.Product{}, erp: &erpReceiver{}}
	if erpOrders {
		w.erp.number = "ERP-77"
	}
	erpSrv := httptest.NewServer(w.erp)
	t.Cleanup(erpSrv.Close)
	sim, err := platforms.Simulator(platformName)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	w.sim, w.placer = sim, sim.(platformsim.OrderPlacer)
	setup := app.Setup{
		Tenants: []app.TenantSetup{{ID: shopTenant, Name: "Shop", APIKey: shopKey, Currency: "BRL",
			Endpoints: []domain.WebhookEndpoint{{ID: "erp", URL: erpSrv.URL + "/hooks", SecretRef: erpSecret, ERPOrders: erpOrders}}}},
		Secrets: map[string]map[string]string{erpSecret: {"secret": erpSigningSecret}},
	}
	want := map[string]int64{}
	for i := 1; i <= stores; i++ {
		store, conn := fmt.Sprintf("store%d", i), fmt.Sprintf("c%d", i)
		want[store] = 10
		reach, err := sim.NewStore(store, 600)
		if err != nil {
			t.Fatal(err)
		}
		p, err := sim.NewProduct(store, shopSKU, 0, decimal.Zero)
		if err != nil {
			t.Fatal(err)
		}
		w.prods[store] = p
		setup.Connections = append(setup.Connections, domain.Connection{ID: conn, Tenant: shopTenant, Platform: platformName, Enabled: true,
			Rules: rules, SecretRef: conn, Currency: "BRL", Settings: reach.Settings})
		setup.Secrets[conn] = reach.Secrets
		setup.Mappings = append(setup.Mappings, domain.Mapping{ConnectionID: conn, SKU: shopSKU, ProductID: p.ProductID, VariantID: p.VariantID})
	}
	if err := w.hub.ApplySetup(ctx, setup); err != nil {
		t.Fatal(err)
	}
	_, err = w.hub.Ingest.Apply(ctx, shopTenant, []ingest.Change{
		{Kind: ingest.KindProduct, SKU: shopSKU, Version: 1, Product: &domain.Product{SKU: shopSKU, Name: "Caneca", Supplier: "Cerâmica SA",
			Publish: true, SyncStock: true, Version: 1}},
		{Kind: ingest.KindStock, SKU: shopSKU, Version: 1, Stock: &domain.StockLevel{Warehouse: ingest.DefaultWarehouse, Quantity: 10, Version: 1}},
		{Kind: ingest.KindPrice, SKU: shopSKU, Version: 1, Price: &domain.PriceInfo{Price: domain.MustMoney("29.90", "BRL"), Version: 1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); w.hub.RunWorkers(wctx, app.DefaultWorkers) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
	w.api = w.hub.API.Handler()
	w.waitStock(want)
	return w
}

func (w *orderWorld) waitStock(want map[string]int64) {
	w.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		got := map[string]int64{}
		ok := true
		for store, q := range want {
			n, _ := w.sim.Stock(store, w.prods[store])
			got[store] = n
			ok = ok && n == q
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("store stock %v, want %v", got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (w *orderWorld) waitFor(what string, cond func() bool) {
	w.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			w.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// place sells qty on a store and delivers the platform's webhook to the hub.
func (w *orderWorld) place(store, conn, id, status string, qty int64) (string, int) {
	w.t.Helper()
	pid, d, err := w.placer.PlaceOrder(store, platformsim.SimOrder{ID: id, Status: status,
		Lines:    []platformsim.SimOrderLine{{Product: w.prods[store], SKU: shopSKU, Quantity: qty, UnitPrice: decimal.RequireFromString("29.90")}},
		Customer: platformsim.SimCustomer{Name: "Ana Souza", Email: "ana@example.com", Document: "12345678909", Street: "Rua A", Number: "1", City: "São Paulo", State: "SP", PostalCode: "01000-000"}})
	if err != nil {
		w.t.Fatal(err)
	}
	if d.IsZero() { // polled platform (Mercos): the scheduler's poll takes it
		// A repeat within the same second may be filtered by the poll's same-second
		// overlap handling; the callers check what the poll took by its effects.
		if _, err := w.hub.Orders.PollAll(context.Background()); err != nil {
			w.t.Fatalf("poll: %v", err)
		}
		return pid, http.StatusOK
	}
	return pid, w.webhook(w.sim.Platform(), conn, d)
}

func (w *orderWorld) webhook(platformName, conn string, d platformsim.Delivery) int {
	code, _ := w.webhookBody(platformName, conn, d)
	return code
}

func (w *orderWorld) call(method, path, body string) (int, []byte) {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+shopKey)
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	w.api.ServeHTTP(rec, r)
	return rec.Code, rec.Body.Bytes()
}

func (w *orderWorld) pending() []domain.OrderRecord {
	code, body := w.call(http.MethodGet, "/v1/erp/orders?status=pending", "")
	if code != http.StatusOK {
		w.t.Fatalf("list orders: %d %s", code, body)
	}
	var page struct {
		Orders []domain.OrderRecord `json:"orders"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		w.t.Fatal(err)
	}
	return page.Orders
}

func (w *orderWorld) reserved() int64 {
	st, err := w.hub.Store.GetSKUs(context.Background(), shopTenant, []string{shopSKU})
	if err != nil {
		w.t.Fatal(err)
	}
	return st[shopSKU].ReservedQuantity()
}

// TestOrderReservesAcrossStoresUntilTheERPRegistersIt is DESIGN flows 4 and 5 on the
// embedded backend with simulated Tray stores: a sale on store 1 drops the other stores
// at once, the ERP pulls and acks it, its next stock level takes over from the
// reservation, a cancelled sale gives the stock back, and a shipped status is written
// back to the store.
func TestOrderReservesAcrossStoresUntilTheERPRegistersIt(t *testing.T) {
	orderFlow(t, newOrderWorld(t, false, domain.Rules{}))
}

// TestOrderFlowOnAWS runs the same flow on DynamoDB and SQS (moto's server).
func TestOrderFlowOnAWS(t *testing.T) {
	orderFlow(t, newPlatformWorld(t, openAWS(t), "tray", 3, false, domain.Rules{}))
}

func orderFlow(t *testing.T, w *orderWorld) {
	pid, code := w.place("store1", "c1", "", "", 3)
	if code != http.StatusOK {
		t.Fatalf("webhook answered %d", code)
	}
	// Store 1 sold 3 itself; stores 2 and 3 drop because the hub reserved them.
	w.waitStock(map[string]int64{"store1": 7, "store2": 7, "store3": 7})
	w.waitFor("one pending order", func() bool { return len(w.pending()) == 1 })
	o := w.pending()[0]
	if o.PlatformID != pid || o.State != domain.OrderAccepted || len(o.Lines) != 1 || o.Lines[0].SKU != shopSKU || o.Lines[0].Quantity != 3 {
		t.Fatalf("pending order %+v", o)
	}
	w.waitFor("order.accepted at the ERP", func() bool { return len(w.erp.seen()) >= 1 })

	code, body := w.call(http.MethodPost, "/v1/erp/orders/"+o.ID+"/ack", `{"erp_order_number":"ERP-1"}`)
	if code != http.StatusOK {
		t.Fatalf("ack: %d %s", code, body)
	}
	if len(w.pending()) != 0 {
		t.Fatal("order still pending after ack")
	}
	// Registered, but the ERP's stock has not moved yet: the reservation still holds.
	if got := w.reserved(); got != 3 {
		t.Fatalf("reserved %d after ack, want 3 until the ERP's next stock level", got)
	}
	_, err := w.hub.Ingest.Apply(context.Background(), shopTenant, []ingest.Change{{Kind: ingest.KindStock, SKU: shopSKU, Version: 2,
		Stock: &domain.StockLevel{Warehouse: ingest.DefaultWarehouse, Quantity: 7, Version: 2}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := w.reserved(); got != 0 {
		t.Fatalf("reserved %d after the ERP's stock level, want 0", got)
	}
	w.waitStock(map[string]int64{"store1": 7, "store2": 7, "store3": 7})

	// A sale on store 2, then cancelled there: every store drops, then gets it back.
	pid2, _ := w.place("store2", "c2", "", "", 2)
	w.waitStock(map[string]int64{"store1": 5, "store2": 5, "store3": 5})
	if _, code := w.place("store2", "c2", pid2, "CANCELADO", 2); code != http.StatusOK {
		t.Fatalf("cancel webhook answered %d", code)
	}
	w.waitStock(map[string]int64{"store1": 7, "store3": 7})
	w.waitFor("reservation released", func() bool { return w.reserved() == 0 })

	// The ERP ships order 1: the status and tracking code go back to store 1.
	code, body = w.call(http.MethodPost, "/v1/erp/changes", fmt.Sprintf(`{"changes":[{"type":"order_status","order_id":%q,"version":1,
		"status":"shipped","tracking_code":"QB123456789BR","tracking_url":"https://rastreamento.correios.com.br/?objetos=QB123456789BR"}]}`, o.ID))
	if code != http.StatusAccepted || !strings.Contains(string(body), `"accepted":1`) {
		t.Fatalf("order_status: %d %s", code, body)
	}
	w.waitFor("status written back", func() bool {
		s, _ := w.placer.OrderStatus("store1", pid)
		return s == "ENVIADO"
	})
	w.waitFor("events", func() bool {
		got := strings.Join(w.erp.seen(), ",")
		return strings.Count(got, "order.accepted") == 2 && strings.Count(got, "order.status_changed") >= 3
	})
	if w.erp.bad != 0 {
		t.Fatalf("%d deliveries failed signature verification", w.erp.bad)
	}
}

// TestERPPushModeRegistersFromTheAnswer: with an ERP order endpoint, the signed
// order.accepted push is the hand-off and its answer's number registers the order.
func TestERPPushModeRegistersFromTheAnswer(t *testing.T) {
	w := newOrderWorld(t, true, domain.Rules{})
	pid, _ := w.place("store1", "c1", "", "", 1)
	id := domain.OrderID("c1", pid)
	w.waitFor("order registered from the push answer", func() bool {
		code, body := w.call(http.MethodGet, "/v1/erp/orders/"+id, "")
		var rec domain.OrderRecord
		_ = json.Unmarshal(body, &rec)
		return code == http.StatusOK && rec.ERP.State == domain.ERPRegistered && rec.ERP.OrderNumber == "ERP-77"
	})
}

// TestWebhookRefusalsStoreNothing: a tampered delivery is 401, an unknown connection
// 404, a body over the limit 413, and none of them leaves a delivery behind.
func TestWebhookRefusalsStoreNothing(t *testing.T) {
	w := newOrderWorld(t, false, domain.Rules{})
	_, d, err := w.placer.PlaceOrder("store1", platformsim.SimOrder{Lines: []platformsim.SimOrderLine{{Product: w.prods["store1"], SKU: shopSKU, Quantity: 1,
		UnitPrice: decimal.RequireFromString("1")}}})
	if err != nil {
		t.Fatal(err)
	}
	tampered := d
	form, _ := url.ParseQuery(string(d.Body))
	form.Set("seller_id", "999999")
	tampered.Body = []byte(form.Encode())
	huge := d
	huge.Body = bytes.Repeat([]byte("a"), 2<<20)
	for _, tc := range []struct {
		name, platform, conn string
		d                    platformsim.Delivery
		want                 int
	}{
		{"tampered", "tray", "c1", tampered, http.StatusUnauthorized},
		{"unknown connection", "tray", "nope", d, http.StatusNotFound},
		{"wrong platform", "shopify", "c1", d, http.StatusNotFound},
		{"oversized", "tray", "c1", huge, http.StatusRequestEntityTooLarge},
	} {
		if got := w.webhook(tc.platform, tc.conn, tc.d); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
	left, err := w.hub.Store.ListUnprocessedDeliveries(context.Background(), time.Now().Add(time.Hour), 10)
	if err != nil || len(left) != 0 {
		t.Fatalf("refused deliveries left %d stored (%v)", len(left), err)
	}
	orders, _, err := w.hub.Store.ListOrders(context.Background(), shopTenant, storeFilterAll, "", 10)
	if err != nil || len(orders) != 0 {
		t.Fatalf("refused deliveries made %d orders (%v)", len(orders), err)
	}
}

var storeFilterAll = store.OrderFilter{}

// TestEveryPlatformsOrderDropsTheOtherStore takes one sale through each platform's real
// delivery shape (webhook, or polling for Mercos) and sees the other store drop.
func TestEveryPlatformsOrderDropsTheOtherStore(t *testing.T) {
	for _, name := range platforms.Names() {
		t.Run(name, func(t *testing.T) {
			w := newPlatformWorld(t, openEmbedded(t), name, 2, false, domain.Rules{})
			pid, code := w.place("store1", "c1", "", "", 4)
			if code != http.StatusOK {
				t.Fatalf("delivery answered %d", code)
			}
			w.waitStock(map[string]int64{"store1": 6, "store2": 6})
			rec, err := w.hub.Orders.GetOrder(context.Background(), shopTenant, domain.OrderID("c1", pid))
			if err != nil || rec.State != domain.OrderAccepted || rec.CustomerID == "" {
				t.Fatalf("order %+v: %v", rec, err)
			}
			// A repeated delivery or poll creates nothing new.
			w.place("store1", "c1", pid, "", 4)
			list, _, err := w.hub.Store.ListOrders(context.Background(), shopTenant, storeFilterAll, "", 10)
			if err != nil || len(list) != 1 {
				t.Fatalf("orders %d: %v", len(list), err)
			}
		})
	}
}

// TestSchedulerPollsMercosOrders: `ponte serve`'s scheduler takes a polled platform's
// orders on its own.
func TestSchedulerPollsMercosOrders(t *testing.T) {
	w := newPlatformWorld(t, openEmbedded(t), "mercos", 2, false, domain.Rules{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.hub.RunScheduler(ctx, app.Schedule{OrderPoll: 50 * time.Millisecond, Reconcile: time.Hour})
	}()
	t.Cleanup(func() { cancel(); <-done })
	pid, _, err := w.placer.PlaceOrder("store1", platformsim.SimOrder{Lines: []platformsim.SimOrderLine{{Product: w.prods["store1"], SKU: shopSKU,
		Quantity: 2, UnitPrice: decimal.RequireFromString("29.90")}}, Customer: platformsim.SimCustomer{Name: "Bia", Document: "98765432100",
		Street: "Rua B", City: "Recife", PostalCode: "50000-000"}})
	if err != nil {
		t.Fatal(err)
	}
	w.waitStock(map[string]int64{"store1": 8, "store2": 8})
	if _, err := w.hub.Orders.GetOrder(context.Background(), shopTenant, domain.OrderID("c1", pid)); err != nil {
		t.Fatalf("polled order: %v", err)
	}
}
