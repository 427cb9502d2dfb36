package fanout_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/fanout"
	"github.com/ponte-hub/ponte/internal/queue"
	queuesqlite "github.com/ponte-hub/ponte/internal/queue/sqlite"
	"github.com/ponte-hub/ponte/internal/store"
	storesqlite "github.com/ponte-hub/ponte/internal/store/sqlite"
)

type fixture struct {
	ctx    context.Context
	store  *storesqlite.Store
	push   queue.Queue
	svc    *fanout.Service
	broker *queuesqlite.Broker
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := storesqlite.Open(ctx, filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	b, err := queuesqlite.OpenBroker(ctx, filepath.Join(dir, "queue.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	q, err := b.Queue("push-tray", queuesqlite.Config{FIFO: true, VisibilityTimeout: time.Minute, MaxReceives: 5})
	if err != nil {
		t.Fatal(err)
	}
	markup := decimal.NewFromInt(10)
	conns := []domain.Connection{
		{ID: "plain", Tenant: "t1", Platform: "tray", Enabled: true},
		{ID: "markup", Tenant: "t1", Platform: "tray", Enabled: true, Rules: domain.Rules{MarkupPct: markup, SafetyStock: 2}},
		{ID: "off", Tenant: "t1", Platform: "tray", Enabled: false},
		{ID: "unmapped", Tenant: "t1", Platform: "tray", Enabled: true},
		{ID: "test-mode", Tenant: "t1", Platform: "tray", Enabled: true, Rules: domain.Rules{Allowlist: []string{"OTHER"}}},
		{ID: "other-tenant", Tenant: "t2", Platform: "tray", Enabled: true},
	}
	for _, c := range conns {
		if err := st.PutConnection(ctx, c); err != nil {
			t.Fatal(err)
		}
		if c.ID == "unmapped" {
			continue
		}
		if err := st.PutMapping(ctx, domain.Mapping{Tenant: c.Tenant, ConnectionID: c.ID, SKU: "A", ProductID: "1"}); err != nil {
			t.Fatal(err)
		}
	}
	svc := &fanout.Service{Store: st, PushQueues: map[string]fanout.Sender{"tray": q}, Now: time.Now,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	return &fixture{ctx: ctx, store: st, push: q, svc: svc, broker: b}
}

func (f *fixture) setSKU(t *testing.T, rev int64, qty int64, price string) {
	t.Helper()
	st := domain.SKUState{Tenant: "t1", SKU: "A", Rev: rev,
		Product: &domain.Product{SKU: "A", Name: "A", Publish: true, SyncStock: true, Version: 1},
		Stock:   map[string]domain.StockLevel{"default": {Warehouse: "default", Quantity: qty, Version: domain.Version(rev)}},
		Price:   &domain.PriceInfo{Price: domain.MustMoney(price, "BRL"), Version: domain.Version(rev)}}
	errs, err := f.store.PutSKUs(f.ctx, []store.SKUWrite{{State: st, ExpectedRev: rev - 1}})
	if err != nil || errs[0] != nil {
		t.Fatalf("put SKU: %v %v", err, errs)
	}
}

func (f *fixture) drain(t *testing.T) map[string]fanout.PushMessage {
	t.Helper()
	got := map[string]fanout.PushMessage{}
	for {
		msgs, err := f.push.Receive(f.ctx, 10, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) == 0 {
			return got
		}
		for _, m := range msgs {
			var pm fanout.PushMessage
			if err := json.Unmarshal(m.Body, &pm); err != nil {
				t.Fatal(err)
			}
			if m.Group != pm.ConnectionID {
				t.Fatalf("push message grouped by %q, want its connection %q", m.Group, pm.ConnectionID)
			}
			got[pm.ConnectionID] = pm
			if err := f.push.Delete(f.ctx, m.Receipt); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestFanOutComputesPerConnectionAndQueuesKeys(t *testing.T) {
	f := newFixture(t)
	f.setSKU(t, 1, 10, "20.00")
	if err := f.svc.FanOut(f.ctx, "t1", "A"); err != nil {
		t.Fatal(err)
	}
	queued := f.drain(t)
	if len(queued) != 2 || queued["plain"].SKU != "A" || queued["markup"].Rev != 1 {
		t.Fatalf("queued %+v; want plain and markup only (off is disabled, unmapped has no mapping, test-mode is not allowlisted, other-tenant is not t1's)", queued)
	}
	plain, err := f.store.GetDesired(f.ctx, "t1", "plain", "A")
	if err != nil || *plain.Stock != 10 || plain.Price.Amount.String() != "20" {
		t.Fatalf("plain desired %+v %v", plain, err)
	}
	marked, err := f.store.GetDesired(f.ctx, "t1", "markup", "A")
	if err != nil || *marked.Stock != 8 || marked.Price.Amount.StringFixed(2) != "22.00" {
		t.Fatalf("markup desired stock %v price %v err %v", marked.Stock, marked.Price, err)
	}
}

func TestFanOutRequeuesUntilPushedAndThenStops(t *testing.T) {
	f := newFixture(t)
	f.setSKU(t, 1, 10, "20.00")
	must(t, f.svc.FanOut(f.ctx, "t1", "A"))
	f.drain(t)
	// A crash after the desired write but before the push: running again must queue again.
	must(t, f.svc.FanOut(f.ctx, "t1", "A"))
	if q := f.drain(t); len(q) != 2 {
		t.Fatalf("re-run did not re-queue the unpushed state: %+v", q)
	}
	// Once the store holds the state, a re-run queues nothing.
	for _, c := range []string{"plain", "markup"} {
		d, err := f.store.GetDesired(f.ctx, "t1", c, "A")
		must(t, err)
		must(t, f.store.PutPushed(f.ctx, domain.PushedState{Tenant: "t1", ConnectionID: c, SKU: "A", Stock: d.Stock,
			Price: d.Price, Cost: d.Cost, ListPrice: d.ListPrice, Product: d.Product, Rev: d.Rev, PushedAt: time.Now()}))
	}
	must(t, f.svc.FanOut(f.ctx, "t1", "A"))
	if q := f.drain(t); len(q) != 0 {
		t.Fatalf("queued a push for a store already in sync: %+v", q)
	}
	// A newer change queues again.
	f.setSKU(t, 2, 9, "20.00")
	must(t, f.svc.FanOut(f.ctx, "t1", "A"))
	if q := f.drain(t); len(q) != 2 || q["plain"].Rev != 2 {
		t.Fatalf("newer change queued %+v", q)
	}
}

func TestHandleRejectsGarbage(t *testing.T) {
	f := newFixture(t)
	for _, body := range []string{`nope`, `{}`, `{"tenant":"t1"}`} {
		if err := f.svc.Handle(f.ctx, queue.Message{Body: []byte(body)}); err == nil {
			t.Fatalf("accepted %q", body)
		}
	}
	if err := f.svc.Handle(f.ctx, queue.Message{Body: []byte(`{"tenant":"t1","sku":"UNKNOWN"}`)}); err != nil {
		t.Fatalf("an unknown SKU has nothing to fan out: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
