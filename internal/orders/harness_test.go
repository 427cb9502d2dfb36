package orders

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/queue"
	queuesqlite "github.com/ponte-hub/ponte/internal/queue/sqlite"
	"github.com/ponte-hub/ponte/internal/store"
	storesqlite "github.com/ponte-hub/ponte/internal/store/sqlite"
	"github.com/ponte-hub/ponte/internal/worker"
)

// testPlatform is a platform double for the order use case: deliveries carry a whole
// domain.Order (or only its id, like Tray's thin webhooks) signed with an HMAC header.
// The connectors' own wire formats are tested in their packages and end to end in
// internal/app against the simulators.
type testPlatform struct {
	mu      sync.Mutex
	orders  map[string]domain.Order
	written []domain.OrderStatusUpdate
	failW   error
	fetches int
	// lenientIDs is the "fixed parser": it also reads numeric order ids.
	lenientIDs bool
}

const testSecret = "s3cret"

func (p *testPlatform) Platform() string { return "testplat" }
func (p *testPlatform) Push(context.Context, domain.Connection, []platform.Update) []error {
	return nil
}
func (p *testPlatform) ReadBack(context.Context, domain.Connection, []platform.Target) ([]platform.Snapshot, error) {
	return nil, nil
}
func (p *testPlatform) VerifyWebhook(_ context.Context, _ domain.Connection, req platform.WebhookRequest) (platform.WebhookEvent, error) {
	mac := hmac.New(sha256.New, []byte(testSecret))
	mac.Write(req.Body)
	if !hmac.Equal([]byte(hex.EncodeToString(mac.Sum(nil))), []byte(req.Header.Get("X-Test-Signature"))) {
		return platform.WebhookEvent{}, errors.New("bad signature")
	}
	var body struct {
		ID    json.RawMessage `json:"id"`
		Order *domain.Order   `json:"order"`
	}
	if err := json.Unmarshal(req.Body, &body); err != nil {
		return platform.WebhookEvent{}, platform.Unparseable("body", "%v", err)
	}
	var id string
	if len(body.ID) > 0 && json.Unmarshal(body.ID, &id) != nil {
		var n json.Number
		p.mu.Lock()
		lenient := p.lenientIDs
		p.mu.Unlock()
		if !lenient || json.Unmarshal(body.ID, &n) != nil {
			return platform.WebhookEvent{}, platform.Unparseable("id", "%s is not a string", body.ID)
		}
		id = n.String()
	}
	return platform.WebhookEvent{Topic: "order", Resource: "order", ResourceID: id, Order: body.Order}, nil
}
func (p *testPlatform) FetchOrder(_ context.Context, _ domain.Connection, id string) (domain.Order, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fetches++
	o, ok := p.orders[id]
	if !ok {
		return o, &platform.Error{Platform: "testplat", Op: "fetch_order", Kind: platform.Permanent, StatusCode: 404, Message: "no order " + id}
	}
	return o, nil
}
func (p *testPlatform) WriteOrderStatus(_ context.Context, _ domain.Connection, _ string, u domain.OrderStatusUpdate) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.failW != nil {
		return p.failW
	}
	p.written = append(p.written, u)
	return nil
}

type harness struct {
	t       *testing.T
	svc     *Service
	st      *storesqlite.Store
	orders  queue.Queue
	changes queue.Queue
	plat    *testPlatform
	conn    domain.Connection
	events  *eventLog
}

type eventLog struct {
	mu     sync.Mutex
	events []domain.OrderEvent
}

func (l *eventLog) Publish(_ context.Context, _ string, es []domain.OrderEvent) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, es...)
	return nil
}

func (l *eventLog) types() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	seen := map[string]bool{}
	for _, e := range l.events {
		if !seen[e.ID] {
			seen[e.ID] = true
			out = append(out, e.Type)
		}
	}
	return out
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// newHarness stores tenant t1 with connection c1 (rules as given), SKUs A (10 in stock,
// supplier S1, mapped from platform product P-A) and B (none in stock, supplier S2).
func newHarness(t *testing.T, rules domain.Rules) *harness {
	t.Helper()
	dir := t.TempDir()
	st, err := storesqlite.Open(ctx(t), filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	broker, err := queuesqlite.OpenBroker(ctx(t), filepath.Join(dir, "queue.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = broker.Close() })
	oq, err := broker.Queue("orders", queuesqlite.Config{VisibilityTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	cq, err := broker.Queue("changes", queuesqlite.Config{VisibilityTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, st: st, orders: oq, changes: cq, plat: &testPlatform{orders: map[string]domain.Order{}}, events: &eventLog{}}
	h.conn = domain.Connection{ID: "c1", Tenant: "t1", Platform: "testplat", Enabled: true, Rules: rules}
	must(t, st.PutTenant(ctx(t), domain.Tenant{ID: "t1", Name: "T1", APIKeyHash: "h1"}))
	must(t, st.PutConnection(ctx(t), h.conn))
	must(t, st.PutMapping(ctx(t), domain.Mapping{Tenant: "t1", ConnectionID: "c1", SKU: "A", ProductID: "P-A"}))
	h.putSKU("A", 10, "S1")
	h.putSKU("B", 0, "S2")
	h.svc = &Service{Store: st, Queue: oq, Changes: cq, Events: h.events, Connectors: map[string]platform.Connector{"testplat": h.plat},
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	return h
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (h *harness) putSKU(sku string, qty int64, supplier string) {
	st := domain.SKUState{Tenant: "t1", SKU: sku, Rev: 1,
		Product: &domain.Product{SKU: sku, Name: "Product " + sku, Supplier: supplier, Publish: true, SyncStock: true, Version: 1},
		Stock:   map[string]domain.StockLevel{"main": {Warehouse: "main", Quantity: qty, Version: 1}}}
	errs, err := h.st.PutSKUs(ctx(h.t), []store.SKUWrite{{State: st}})
	must(h.t, err)
	must(h.t, errs[0])
}

func (h *harness) sku(sku string) domain.SKUState {
	got, err := h.st.GetSKUs(ctx(h.t), "t1", []string{sku})
	must(h.t, err)
	return got[sku]
}

// order builds a platform order: one line per (product, sku, qty) triple.
func order(id, status string, updated time.Time, lines ...domain.OrderLine) domain.Order {
	return domain.Order{PlatformID: id, Number: "#" + id, PlatformStatus: status, UpdatedAt: updated, PlacedAt: updated,
		Customer: domain.Customer{Name: "Ana Souza", Document: "123.456.789-09", Email: "ana@example.com"},
		Shipping: &domain.Address{Street: "Rua A", Number: "1", City: "São Paulo", PostalCode: "01000-000", Country: "BR"},
		Lines:    lines}
}

func line(productID, sku string, qty int64) domain.OrderLine {
	return domain.OrderLine{ProductID: productID, SKU: sku, Quantity: qty, UnitPrice: domain.MustMoney("10.00", "BRL")}
}

func (h *harness) delivery(body any) platform.WebhookRequest {
	b, err := json.Marshal(body)
	must(h.t, err)
	mac := hmac.New(sha256.New, []byte(testSecret))
	mac.Write(b)
	hdr := map[string][]string{"X-Test-Signature": {hex.EncodeToString(mac.Sum(nil))}}
	return platform.WebhookRequest{Header: hdr, Body: b}
}

// deliver sends the full order as a webhook.
func (h *harness) deliver(o domain.Order) Receipt {
	h.t.Helper()
	r, err := h.svc.Receive(ctx(h.t), "testplat", "c1", h.delivery(map[string]any{"id": o.PlatformID, "order": o}))
	must(h.t, err)
	return r
}

// drain handles every visible orders-queue message until none is left.
func (h *harness) drain() {
	h.t.Helper()
	for i := 0; i < 100; i++ {
		msgs, err := h.orders.Receive(ctx(h.t), 10, 50*time.Millisecond)
		must(h.t, err)
		if len(msgs) == 0 {
			return
		}
		for _, m := range msgs {
			if err := h.svc.Handle(ctx(h.t), m); err != nil {
				h.t.Fatalf("handle %s: %v", m.Body, err)
			}
			must(h.t, h.orders.Delete(ctx(h.t), m.Receipt))
		}
	}
	h.t.Fatal("orders queue never drained")
}

func (h *harness) record(platformID string) domain.OrderRecord {
	h.t.Helper()
	r, err := h.st.GetOrder(ctx(h.t), "t1", domain.OrderID("c1", platformID))
	must(h.t, err)
	return r
}

var _ worker.Handler = (*Service)(nil)

type failingSender struct{}

func (failingSender) Send(context.Context, ...queue.OutMessage) error {
	return errors.New("queue down")
}
