package reconcile_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/fanout"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/tray"
	"github.com/ponte-hub/ponte/internal/platform/tray/traysim"
	"github.com/ponte-hub/ponte/internal/push"
	"github.com/ponte-hub/ponte/internal/queue"
	queuesqlite "github.com/ponte-hub/ponte/internal/queue/sqlite"
	"github.com/ponte-hub/ponte/internal/reconcile"
	storesqlite "github.com/ponte-hub/ponte/internal/store/sqlite"
)

// lister pages a fixed list of products read back from the simulator over HTTP, with a
// hook before each page, so tests can change the store mid-run or fail a chosen page.
// Targets carry no SKU, as a real catalogue page does not have to.
type lister struct {
	*tray.Connector
	ids        []string
	size       int
	beforePage func(page int) // 1-based, optional
}

func (l *lister) ListCatalog(ctx context.Context, conn domain.Connection, cursor string) (platform.CatalogPage, error) {
	start := 0
	if cursor != "" {
		var err error
		if start, err = strconv.Atoi(cursor); err != nil {
			return platform.CatalogPage{}, err
		}
	}
	if l.beforePage != nil {
		l.beforePage(start/l.size + 1)
	}
	end := min(start+l.size, len(l.ids))
	var targets []platform.Target
	for _, id := range l.ids[start:end] {
		targets = append(targets, platform.Target{ProductID: id})
	}
	snaps, err := l.ReadBack(ctx, conn, targets)
	if err != nil {
		return platform.CatalogPage{}, err
	}
	var page platform.CatalogPage
	for _, s := range snaps {
		page.Items = append(page.Items, platform.CatalogItem{Target: s.Target, Name: "Product " + s.ProductID, Stock: s.Stock, Price: s.Price})
	}
	if end < len(l.ids) {
		page.Next = strconv.Itoa(end)
	}
	return page, nil
}

type fixture struct {
	ctx    context.Context
	store  *storesqlite.Store
	sim    *traysim.Server
	queue  *queuesqlite.Queue
	lister *lister
	pusher *push.Service
	svc    *reconcile.Service
}

// The catalogue: A, B, C (sold out), D mapped with desired states, E mapped without one,
// product 99 not mapped at all.
var (
	products = map[string]string{"A": "11", "B": "12", "C": "13", "D": "14", "E": "15"}
	catalog  = []string{"11", "12", "13", "14", "15", "99"}
)

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := storesqlite.Open(ctx, filepath.Join(dir, "state.db"))
	must(t, err)
	t.Cleanup(func() { _ = st.Close() })
	broker, err := queuesqlite.OpenBroker(ctx, filepath.Join(dir, "queue.db"))
	must(t, err)
	t.Cleanup(func() { _ = broker.Close() })
	q, err := broker.Queue("push-tray", queuesqlite.Config{FIFO: true, VisibilityTimeout: 30 * time.Second, MaxReceives: 5})
	must(t, err)

	sim := traysim.New(traysim.Options{})
	base, err := sim.Start(":0")
	must(t, err)
	t.Cleanup(sim.Close)
	sim.AddStore("s1", traysim.StoreConfig{ConsumerKey: "ck", ConsumerSecret: "cs", Code: "code"})
	for _, id := range catalog {
		sim.AddProduct("s1", id, 0, decimal.Zero)
	}
	conn := domain.Connection{ID: "c1", Tenant: "t1", Platform: "tray", Enabled: true, SecretRef: "c1", Currency: "BRL",
		Settings: map[string]string{"api_address": traysim.APIAddress(base, "s1"), "store_id": "1", "rate_limit_per_min": "6000"}}
	must(t, st.PutTenant(ctx, domain.Tenant{ID: "t1", Name: "T1", Currency: "BRL", CreatedAt: time.Now().UTC()}))
	must(t, st.PutConnection(ctx, conn))
	must(t, st.PutSecret(ctx, "c1", map[string]string{"consumer_key": "ck", "consumer_secret": "cs", "code": "code"}))
	for sku, pid := range products {
		must(t, st.PutMapping(ctx, domain.Mapping{Tenant: "t1", ConnectionID: "c1", SKU: sku, ProductID: pid}))
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	l := &lister{Connector: tray.New(st, tray.Options{Logger: log}), ids: catalog, size: 2}
	connectors := map[string]platform.Connector{"tray": l}
	f := &fixture{ctx: ctx, store: st, sim: sim, queue: q, lister: l,
		pusher: &push.Service{Store: st, Connectors: connectors, Now: time.Now, Log: log},
		svc: &reconcile.Service{Store: st, PushQueues: map[string]reconcile.Sender{"tray": q}, Connectors: connectors,
			Now: time.Now, Log: log}}

	// The hub's view: A 7 @ 19.90, B 3 @ 10.00, C sold out, D 5; pushed, so the store agrees.
	f.desire(t, "A", 7, "19.90")
	f.desire(t, "B", 3, "10.00")
	f.desire(t, "C", 0, "")
	f.desire(t, "D", 5, "")
	if errs := f.pusher.PushSKUs(ctx, "t1", "c1", []string{"A", "B", "C", "D"}); errors.Join(errs...) != nil {
		t.Fatalf("initial push: %v", errs)
	}
	f.want(t, map[string]int64{"11": 7, "12": 3, "13": 0, "14": 5})
	return f
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) desire(t *testing.T, sku string, stock int64, price string) {
	t.Helper()
	d := domain.DesiredState{Tenant: "t1", ConnectionID: "c1", SKU: sku, Rev: 1, Stock: &stock, ComputedAt: time.Now().UTC()}
	if price != "" {
		m := domain.MustMoney(price, "BRL")
		d.Price = &m
	}
	must(t, f.store.PutDesired(f.ctx, d))
}

// want checks the simulated store's stock per product id.
func (f *fixture) want(t *testing.T, stock map[string]int64) {
	t.Helper()
	for id, n := range stock {
		if p, ok := f.sim.Product("s1", id); !ok || p.Stock != n {
			t.Errorf("product %s holds stock %d (exists %v), want %d", id, p.Stock, ok, n)
		}
	}
}

// drift changes the store behind the hub's back: A sold 5 elsewhere, B repriced by hand,
// C's zero was lost (the store shows 4 of a sold-out SKU: the classic oversell).
func (f *fixture) drift() {
	f.sim.AddProduct("s1", "11", 2, decimal.RequireFromString("19.90"))
	f.sim.AddProduct("s1", "12", 3, decimal.RequireFromString("12.50"))
	f.sim.AddProduct("s1", "13", 4, decimal.Zero)
}

// drain receives (and deletes) every queued message.
func (f *fixture) drain(t *testing.T) []queue.Message {
	t.Helper()
	var all []queue.Message
	for {
		msgs, err := f.queue.Receive(f.ctx, 10, 0)
		must(t, err)
		if len(msgs) == 0 {
			return all
		}
		// A FIFO group has one message in flight at a time: settle each to see the next.
		for _, m := range msgs {
			must(t, f.queue.Delete(f.ctx, m.Receipt))
		}
		all = append(all, msgs...)
	}
}

func skusOf(t *testing.T, msgs []queue.Message) []string {
	t.Helper()
	var out []string
	for _, m := range msgs {
		var pm fanout.PushMessage
		must(t, json.Unmarshal(m.Body, &pm))
		if pm.Tenant != "t1" || pm.ConnectionID != "c1" || pm.Rev != 1 || m.Group != "c1" {
			t.Errorf("push message %s group %q", m.Body, m.Group)
		}
		out = append(out, pm.SKU)
	}
	slices.Sort(out)
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func TestReconcile(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, f *fixture)
		dry   bool
		check func(t *testing.T, f *fixture, rep reconcile.Report, err error)
	}{
		{
			name: "in sync: nothing drifted, nothing queued, unmapped items reported",
			check: func(t *testing.T, f *fixture, rep reconcile.Report, err error) {
				must(t, err)
				if rep.Pages != 3 || rep.Checked != 6 || rep.Drifted != 0 || rep.Corrected != 0 || rep.Failed != 0 || rep.Unmapped != 1 {
					t.Fatalf("report %+v", rep)
				}
				if len(rep.UnmappedItems) != 1 || !strings.Contains(rep.UnmappedItems[0], "99") {
					t.Fatalf("unmapped items %q", rep.UnmappedItems)
				}
				if msgs := f.drain(t); len(msgs) != 0 {
					t.Fatalf("queued %d pushes for a store in sync", len(msgs))
				}
			},
		},
		{
			name:  "drift is found, corrected through the push queue, and the store holds the desired values again",
			setup: func(t *testing.T, f *fixture) { f.drift() },
			check: func(t *testing.T, f *fixture, rep reconcile.Report, err error) {
				must(t, err)
				if rep.Checked != 6 || rep.Drifted != 3 || rep.Corrected != 3 || rep.Failed != 0 || rep.Unmapped != 1 {
					t.Fatalf("report %+v", rep)
				}
				if got := sorted(rep.DriftedSKUs); !slices.Equal(got, []string{"A", "B", "C"}) {
					t.Fatalf("drifted SKUs %q", got)
				}
				// The pushed state now records what the store really holds.
				p, err := f.store.GetPushed(f.ctx, "t1", "c1", "C")
				must(t, err)
				if p.Stock == nil || *p.Stock != 4 || p.Rev != 1 {
					t.Fatalf("pushed state of C %+v, want the store's 4 at rev 1", p)
				}
				msgs := f.drain(t)
				if got := skusOf(t, msgs); !slices.Equal(got, []string{"A", "B", "C"}) {
					t.Fatalf("queued pushes for %q, want A, B, C (D is in sync)", got)
				}
				for i, err := range f.pusher.HandleBatch(f.ctx, msgs) {
					if err != nil {
						t.Fatalf("push %s: %v", msgs[i].Body, err)
					}
				}
				f.want(t, map[string]int64{"11": 7, "12": 3, "13": 0, "14": 5})
				if p, _ := f.sim.Product("s1", "12"); !p.Price.Equal(decimal.RequireFromString("10.00")) {
					t.Fatalf("B's price is %s, want 10.00 again", p.Price)
				}
				// A second run finds nothing left to correct.
				again, err := f.svc.Run(f.ctx, "c1")
				must(t, err)
				if again.Drifted != 0 || again.Corrected != 0 {
					t.Fatalf("second run %+v", again)
				}
				if msgs := f.drain(t); len(msgs) != 0 {
					t.Fatalf("second run queued %d pushes", len(msgs))
				}
			},
		},
		{
			name:  "dry run reports drift, queues and records nothing",
			setup: func(t *testing.T, f *fixture) { f.drift() },
			dry:   true,
			check: func(t *testing.T, f *fixture, rep reconcile.Report, err error) {
				must(t, err)
				if !rep.DryRun || rep.Drifted != 3 || rep.Corrected != 0 {
					t.Fatalf("report %+v", rep)
				}
				if msgs := f.drain(t); len(msgs) != 0 {
					t.Fatalf("dry run queued %d pushes", len(msgs))
				}
				p, err := f.store.GetPushed(f.ctx, "t1", "c1", "C")
				must(t, err)
				if p.Stock == nil || *p.Stock != 0 {
					t.Fatalf("dry run changed the pushed state: %+v", p)
				}
				f.want(t, map[string]int64{"11": 2, "13": 4})
			},
		},
		{
			name: "a page error stops the run with the report so far",
			setup: func(t *testing.T, f *fixture) {
				f.drift()
				f.lister.beforePage = func(page int) {
					if page == 2 {
						f.sim.InjectFault("s1", traysim.Fault{Kind: traysim.FaultServerError, Count: 100})
					}
				}
			},
			check: func(t *testing.T, f *fixture, rep reconcile.Report, err error) {
				if err == nil || rep.Error == "" {
					t.Fatalf("no error for a failed page; report %+v", rep)
				}
				// Page 1 (A, B) was read and corrected before page 2 failed.
				if rep.Pages != 1 || rep.Checked != 2 || rep.Drifted != 2 || rep.Corrected != 2 || rep.FinishedAt.IsZero() {
					t.Fatalf("partial report %+v", rep)
				}
				if got := skusOf(t, f.drain(t)); !slices.Equal(got, []string{"A", "B"}) {
					t.Fatalf("queued %q", got)
				}
			},
		},
		{
			name: "a cancelled context stops the run",
			setup: func(t *testing.T, f *fixture) {
				ctx, cancel := context.WithCancel(f.ctx)
				f.ctx = ctx
				f.lister.beforePage = func(page int) {
					if page == 1 {
						cancel()
					}
				}
			},
			check: func(t *testing.T, f *fixture, rep reconcile.Report, err error) {
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("err %v, want context.Canceled", err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			if tt.setup != nil {
				tt.setup(t, f)
			}
			f.svc.DryRun = tt.dry
			rep, err := f.svc.Run(f.ctx, "c1")
			if rep.ConnectionID != "c1" || rep.Tenant != "t1" || rep.StartedAt.IsZero() {
				t.Fatalf("report identity %+v", rep)
			}
			f.ctx = context.Background()
			tt.check(t, f, rep, err)
		})
	}
}

func TestRunAll(t *testing.T) {
	f := newFixture(t)
	f.drift()
	// A disabled connection and one of another tenant without a catalogue reader.
	off := domain.Connection{ID: "c-off", Tenant: "t1", Platform: "tray", Enabled: false}
	must(t, f.store.PutConnection(f.ctx, off))
	must(t, f.store.PutTenant(f.ctx, domain.Tenant{ID: "t2", Name: "T2", Currency: "BRL", CreatedAt: time.Now().UTC()}))
	must(t, f.store.PutConnection(f.ctx, domain.Connection{ID: "c-x", Tenant: "t2", Platform: "nowhere", Enabled: true}))
	reports, err := f.svc.RunAll(f.ctx)
	if err == nil || !strings.Contains(err.Error(), "nowhere") {
		t.Fatalf("err %v, want the connector-less connection's error", err)
	}
	if len(reports) != 2 || reports[0].ConnectionID != "c1" || reports[0].Corrected != 3 || reports[1].ConnectionID != "c-x" || reports[1].Error == "" {
		t.Fatalf("reports %+v", reports)
	}
	if got := skusOf(t, f.drain(t)); !slices.Equal(got, []string{"A", "B", "C"}) {
		t.Fatalf("queued %q", got)
	}
}

func TestReportListsAreCapped(t *testing.T) {
	f := newFixture(t)
	var ids []string
	for i := range reconcile.MaxListed + 20 {
		id := strconv.Itoa(1000 + i)
		f.sim.AddProduct("s1", id, 0, decimal.Zero)
		ids = append(ids, id)
	}
	f.lister.ids, f.lister.size = ids, 50
	rep, err := f.svc.Run(f.ctx, "c1")
	must(t, err)
	if rep.Unmapped != reconcile.MaxListed+20 || len(rep.UnmappedItems) != reconcile.MaxListed || rep.Pages != 3 {
		t.Fatalf("unmapped %d, listed %d, pages %d", rep.Unmapped, len(rep.UnmappedItems), rep.Pages)
	}
}
