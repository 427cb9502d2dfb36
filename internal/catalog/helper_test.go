package catalog_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/catalog"
	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/merchantpro"
	"github.com/ponte-hub/ponte/internal/platform/merchantpro/merchantprosim"
	"github.com/ponte-hub/ponte/internal/store"
	storesqlite "github.com/ponte-hub/ponte/internal/store/sqlite"
)

// clock moves a millisecond on every reading, so every write of a test is strictly
// ordered in time; add jumps it (to make a job stale).
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// reader wraps a real connector: it records the cursors asked for and runs a hook
// before each page (1-based), which may fail the page.
type reader struct {
	platform.Connector
	mu      sync.Mutex
	cursors []string
	before  func(page int, cursor string) error
}

func (r *reader) ListCatalog(ctx context.Context, conn domain.Connection, cursor string) (platform.CatalogPage, error) {
	r.mu.Lock()
	r.cursors = append(r.cursors, cursor)
	n, hook := len(r.cursors), r.before
	r.mu.Unlock()
	if hook != nil {
		if err := hook(n, cursor); err != nil {
			return platform.CatalogPage{}, err
		}
	}
	return r.Connector.(platform.CatalogReader).ListCatalog(ctx, conn, cursor)
}

func (r *reader) asked() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.cursors...)
}

type fixture struct {
	ctx   context.Context
	st    *storesqlite.Store
	sim   *merchantprosim.Server
	rd    *reader
	clock *clock
	svc   *catalog.Service
	conn  domain.Connection
}

const shop = "shop1"

// newFixture: a MerchantPro store (pages of 2 products) on connection c1 of tenant t1.
func newFixture(t *testing.T, rules domain.Rules) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := storesqlite.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	must(t, err)
	t.Cleanup(func() { _ = st.Close() })
	sim := merchantprosim.New(merchantprosim.Options{RateLimit: 1000, RateWindow: time.Second})
	sim.AddStore(shop, merchantprosim.StoreConfig{APIKey: "k", APISecret: "s"})
	base, err := sim.Start(":0")
	must(t, err)
	t.Cleanup(sim.Close)
	clk := &clock{t: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
	conn := domain.Connection{ID: "c1", Tenant: "t1", Platform: merchantpro.Name, Enabled: true, Rules: rules,
		SecretRef: "mp/c1", Currency: "RON", Settings: map[string]string{"base_url": merchantprosim.StoreURL(base, shop),
			"rate_limit": "1000", "rate_window_ms": "1000", "page_size": "2"}}
	must(t, st.PutTenant(ctx, domain.Tenant{ID: "t1", Name: "T1", Currency: "RON", CreatedAt: clk.Now()}))
	must(t, st.PutConnection(ctx, conn))
	must(t, st.PutSecret(ctx, "mp/c1", map[string]string{"api_key": "k", "api_secret": "s"}))
	rd := &reader{Connector: merchantpro.New(st, merchantpro.Options{})}
	svc := &catalog.Service{Store: st, Connectors: map[string]platform.Connector{merchantpro.Name: rd}, Now: clk.Now, PageSize: 3}
	return &fixture{ctx: ctx, st: st, sim: sim, rd: rd, clock: clk, svc: svc, conn: conn}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// erp stores an ERP product as the ingest path would (version 5, with stock and price).
func (f *fixture) erp(t *testing.T, sku, ean string, codes ...string) {
	t.Helper()
	st := domain.SKUState{Tenant: "t1", SKU: sku, Rev: 1, UpdatedAt: f.clock.Now(),
		Product: &domain.Product{SKU: sku, EAN: ean, AdditionalCodes: codes, Name: "ERP " + sku, Publish: true, Version: 5},
		Stock:   map[string]domain.StockLevel{"main": {Warehouse: "main", Quantity: 3, Version: 5}},
		Price:   &domain.PriceInfo{Price: domain.MustMoney("10.00", "RON"), Version: 5}}
	f.putSKU(t, st, 0)
}

func (f *fixture) putSKU(t *testing.T, st domain.SKUState, expected int64) {
	t.Helper()
	errs, err := f.st.PutSKUs(f.ctx, []store.SKUWrite{{State: st, ExpectedRev: expected}})
	must(t, err)
	must(t, errors.Join(errs...))
}

func (f *fixture) product(t *testing.T, p merchantprosim.Product) {
	t.Helper()
	must(t, f.sim.AddProduct(shop, p))
}

// run starts a first sync and works it to the end.
func (f *fixture) run(t *testing.T) (store.Job, catalog.Report) {
	t.Helper()
	j, err := f.svc.Start(f.ctx, "t1", "c1")
	must(t, err)
	j, err = f.svc.Run(f.ctx, j)
	must(t, err)
	if j.Status != store.JobDone {
		t.Fatalf("job %s is %s (%s), want done", j.ID, j.Status, j.Error)
	}
	return j, report(t, j)
}

func report(t *testing.T, j store.Job) catalog.Report {
	t.Helper()
	r, err := catalog.ParseReport(j)
	must(t, err)
	return r
}

// mapped returns the SKU mapped to a store item ("" when none).
func (f *fixture) mapped(t *testing.T, productID, variantID string) string {
	t.Helper()
	m, err := f.st.MappingByPlatformID(f.ctx, "c1", productID, variantID)
	if errors.Is(err, store.ErrNotFound) {
		return ""
	}
	must(t, err)
	return m.SKU
}

// snapshot is every SKU aggregate of the tenant as JSON, to prove what a run left alone.
func (f *fixture) snapshot(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	cursor := ""
	for {
		states, next, err := f.st.ListSKUs(f.ctx, "t1", cursor, 100)
		must(t, err)
		for _, s := range states {
			b, err := json.Marshal(s)
			must(t, err)
			out[s.SKU] = string(b)
		}
		if next == "" {
			return out
		}
		cursor = next
	}
}

// counts strips a report's section down to its numbers, for comparing runs.
func counts(c catalog.Counts) catalog.Counts {
	c.AmbiguousItems, c.UnmatchedItems, c.FailedItems = nil, nil, nil
	return c
}
