package mercos

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/mercos/mercossim"
)

func stockOf(t *testing.T, e *env, id int64) int64 {
	t.Helper()
	p, ok := e.sim.Product(testStore, id)
	if !ok || p.Stock == nil {
		t.Fatalf("product %d: no stock", id)
	}
	return p.Stock.IntPart()
}

func TestPushStockBatches(t *testing.T) {
	tests := []struct {
		name        string
		n           int
		batch       string
		wantBatches int64
	}{
		{"one item", 1, "", 1},
		{"exactly 300", 300, "", 1},
		{"701 split in 300s", 701, "", 3},
		{"batch_size setting", 25, "10", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, mercossim.Options{}, mercossim.StoreConfig{}, map[string]string{"batch_size": tt.batch})
			ids := e.products(tt.n)
			errs := e.c.Push(context.Background(), e.conn, stockUpdates(ids, 5))
			for i, err := range errs {
				if err != nil {
					t.Fatalf("update %d: %v", i, err)
				}
			}
			if got := e.calls().ByEndpoint[mercossim.EpStockBatch]; got != tt.wantBatches {
				t.Fatalf("batches = %d, want %d", got, tt.wantBatches)
			}
			if got := e.calls().Writes; got != tt.wantBatches {
				t.Fatalf("writes = %d, want %d", got, tt.wantBatches)
			}
			for i, id := range ids {
				if got := stockOf(t, e, id); got != 5+int64(i) {
					t.Fatalf("product %d stock %d, want %d", id, got, 5+i)
				}
			}
		})
	}
}

func TestPushPriceStockProductAndGrid(t *testing.T) {
	e := newEnv(t, mercossim.Options{}, mercossim.StoreConfig{}, nil)
	simple := e.products(1)[0]
	parent, kids := e.sim.AddGridProduct(testStore, "CAM", "Camiseta", dec("50"), []string{"P", "M"})
	ps, par := strconv.FormatInt(simple, 10), strconv.FormatInt(parent, 10)
	ups := []platform.Update{
		{Target: platform.Target{SKU: "SKU0", ProductID: ps}, Stock: i64(3), Price: brl("19.9")},
		{Target: platform.Target{SKU: "CAM-P", ProductID: par, VariantID: strconv.FormatInt(kids[0], 10)}, Stock: i64(7)},
		{Target: platform.Target{SKU: "CAM-M", ProductID: par, VariantID: strconv.FormatInt(kids[1], 10)}, Stock: i64(8), Price: brl("55.00")},
		{Target: platform.Target{SKU: "SKU0", ProductID: ps}, Product: &domain.ProductData{Name: "Caneca azul", Category: "Cozinha", Published: true}},
		{Target: platform.Target{SKU: "CAM", ProductID: par}, Stock: i64(1)}, // grid parent: Mercos refuses
		{Target: platform.Target{SKU: "X", ProductID: "abc"}, Stock: i64(1)},
		{Target: platform.Target{SKU: "X", ProductID: ps}, Price: &domain.Money{Amount: dec("1"), Currency: "USD"}},
		{Target: platform.Target{SKU: "SKU0", ProductID: ps}, Cost: brl("3")}, // no cost field on Mercos: nothing sent
	}
	errs := e.c.Push(context.Background(), e.conn, ups)
	for i := 0; i < 4; i++ {
		if errs[i] != nil {
			t.Fatalf("update %d: %v", i, errs[i])
		}
	}
	if kindOf(errs[4]) != platform.Permanent || !strings.Contains(errs[4].Error(), "possui grade") || !strings.Contains(errs[4].Error(), "sku CAM") {
		t.Fatalf("grid parent: %v", errs[4])
	}
	if kindOf(errs[5]) != platform.Permanent || kindOf(errs[6]) != platform.Permanent || errs[7] != nil {
		t.Fatalf("bad id / currency / cost-only: %v | %v | %v", errs[5], errs[6], errs[7])
	}
	p, _ := e.sim.Product(testStore, simple)
	if p.Stock.IntPart() != 3 || !p.Price.Equal(dec("19.9")) || p.Nome != "Caneca azul" || p.CategoriaID == 0 || !p.Ativo {
		t.Fatalf("simple product %+v", p)
	}
	if stockOf(t, e, kids[0]) != 7 || stockOf(t, e, kids[1]) != 8 {
		t.Fatal("grid children not adjusted")
	}
	if pp, _ := e.sim.Product(testStore, parent); !pp.Price.Equal(dec("55")) {
		t.Fatalf("grid price goes to the parent: %s", pp.Price)
	}
	// The category is created once and reused.
	if got := e.calls().ByEndpoint[mercossim.EpCategoryPost]; got != 1 {
		t.Fatalf("category posts = %d", got)
	}
}

func TestPushIsolatesBadItem(t *testing.T) {
	for _, opaque := range []bool{false, true} {
		t.Run("opaque="+strconv.FormatBool(opaque), func(t *testing.T) {
			e := newEnv(t, mercossim.Options{}, mercossim.StoreConfig{OpaqueBatchErrors: opaque}, nil)
			ids := e.products(40)
			e.sim.DeleteProduct(testStore, ids[17])
			errs := e.c.Push(context.Background(), e.conn, stockUpdates(ids, 1))
			for i, err := range errs {
				if i == 17 {
					if kindOf(err) != platform.Permanent || !strings.Contains(err.Error(), "sku SKU17") {
						t.Fatalf("bad item: %v", err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("good item %d failed: %v", i, err)
				}
				if got := stockOf(t, e, ids[i]); got != 1+int64(i) {
					t.Fatalf("item %d stock %d", i, got)
				}
			}
			calls := e.calls().ByEndpoint[mercossim.EpStockBatch]
			if !opaque && calls != 3 {
				t.Fatalf("named bad item should cost 3 calls, took %d", calls)
			}
			if opaque && calls > 14 {
				t.Fatalf("bisection took %d calls", calls)
			}
		})
	}
}

func TestPushErrors(t *testing.T) {
	tests := []struct {
		name     string
		fault    *mercossim.Fault
		cfg      mercossim.StoreConfig
		settings map[string]string
		secret   map[string]string
		wantKind platform.Kind
		wantMsg  string
	}{
		{name: "5xx", fault: &mercossim.Fault{Kind: mercossim.FaultServerError}, wantKind: platform.Transient, wantMsg: "HTTP 500"},
		{name: "timeout", fault: &mercossim.Fault{Kind: mercossim.FaultHang, Delay: 3 * time.Second},
			settings: map[string]string{"timeout_ms": "150"}, wantKind: platform.Transient, wantMsg: "timeout"},
		{name: "malformed", fault: &mercossim.Fault{Kind: mercossim.FaultMalformed}, wantKind: platform.Transient, wantMsg: "unexpected body"},
		{name: "truncated", fault: &mercossim.Fault{Kind: mercossim.FaultTruncated}, wantKind: platform.Transient, wantMsg: "truncated"},
		{name: "revoked", fault: &mercossim.Fault{Kind: mercossim.FaultUnauthorized}, wantKind: platform.Auth, wantMsg: "HTTP 401"},
		{name: "bad tokens", secret: map[string]string{"application_token": "nope", "company_token": compTok}, wantKind: platform.Auth, wantMsg: "refused"},
		{name: "missing tokens", secret: map[string]string{"application_token": appTok}, wantKind: platform.Auth, wantMsg: "company_token"},
		{name: "stock control off", cfg: mercossim.StoreConfig{StockControlOff: true}, wantKind: platform.Permanent, wantMsg: "não controla estoque"},
		{name: "bad setting", settings: map[string]string{"batch_size": "301"}, wantKind: platform.Permanent, wantMsg: "setting batch_size"},
		{name: "bad base_url", settings: map[string]string{"base_url": "ftp://x"}, wantKind: platform.Permanent, wantMsg: "setting base_url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, mercossim.Options{}, tt.cfg, tt.settings)
			if tt.secret != nil {
				e.c.secrets.(*memSecrets).data["mercos/conn1"] = tt.secret
			}
			ids := e.products(3)
			if tt.fault != nil {
				e.sim.InjectFault(testStore, *tt.fault)
			}
			errs := e.c.Push(context.Background(), e.conn, stockUpdates(ids, 1))
			for _, err := range errs {
				if err == nil || kindOf(err) != tt.wantKind || !strings.Contains(err.Error(), tt.wantMsg) {
					t.Fatalf("got %v (kind %v), want %v containing %q", err, kindOf(err), tt.wantKind, tt.wantMsg)
				}
				if strings.Contains(err.Error(), appTok) || strings.Contains(err.Error(), compTok) {
					t.Fatalf("error leaks a token: %v", err)
				}
			}
		})
	}
}

func TestRateLimited429HonoursWait(t *testing.T) {
	e := newEnv(t, mercossim.Options{}, mercossim.StoreConfig{}, nil)
	ids := e.products(2)
	e.sim.InjectFault(testStore, mercossim.Fault{Kind: mercossim.FaultRateLimit, RetryAfter: time.Second})
	ups := stockUpdates(ids, 1)
	ups = append(ups, platform.Update{Target: ups[0].Target, Price: brl("9.90")})
	errs := e.c.Push(context.Background(), e.conn, ups)
	for _, err := range errs {
		pe := platform.AsError(err)
		if pe.Kind != platform.RateLimited || pe.RetryAfter != time.Second || pe.StatusCode != 429 {
			t.Fatalf("got %+v, want rate_limited with RetryAfter 1s", pe)
		}
	}
	if got := e.calls().Total; got != 1 {
		t.Fatalf("a 429 must stop the push: %d calls", got)
	}
	start := time.Now()
	if errs := e.c.Push(context.Background(), e.conn, ups[:1]); errs[0] != nil {
		t.Fatal(errs[0])
	}
	if waited := time.Since(start); waited < 900*time.Millisecond {
		t.Fatalf("next call after %v, before the 1s wait Mercos asked for", waited)
	}
}

// TestLimiterPrevents429 pushes a burst, plus concurrent reads, against a simulator
// enforcing the configured limit and one request at a time: no 429 may come back.
func TestLimiterPrevents429(t *testing.T) {
	e := newEnv(t, mercossim.Options{RateLimitPerMin: 10, RateWindow: time.Second}, mercossim.StoreConfig{},
		map[string]string{"rate_limit_per_min": "10", "rate_window_ms": "1000", "batch_size": "2"})
	ids := e.products(24)
	done := make(chan error, 1)
	go func() {
		_, err := e.c.ListCatalog(context.Background(), e.conn, "")
		done <- err
	}()
	errs := e.c.Push(context.Background(), e.conn, stockUpdates(ids, 1))
	for i, err := range errs {
		if err != nil {
			t.Fatalf("update %d: %v", i, err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	c := e.calls()
	if c.RateLimited != 0 || c.Total != 13 {
		t.Fatalf("calls %d, 429s %d; want 13 calls and no 429", c.Total, c.RateLimited)
	}
}

func TestReadBackAndCatalog(t *testing.T) {
	e := newEnv(t, mercossim.Options{PageSize: 4}, mercossim.StoreConfig{}, nil)
	ids := e.products(5)
	parent, kids := e.sim.AddGridProduct(testStore, "CAM", "Camiseta", dec("50"), []string{"P", "M"})
	// Pages of 4 end in the middle of a second: 3 records in the first second, 2 in
	// the next, the deleted one after.
	at := time.Now().Truncate(time.Second).Add(-time.Minute)
	for i, id := range []int64{ids[0], ids[1], ids[2], ids[3], parent} {
		e.sim.Touch(testStore, id, at.Add(time.Duration(i/3)*time.Second))
	}
	e.sim.DeleteProduct(testStore, ids[4])
	e.sim.Touch(testStore, ids[4], at.Add(2*time.Second))
	if errs := e.c.Push(context.Background(), e.conn, stockUpdates(ids[:1], 42)); errs[0] != nil {
		t.Fatal(errs[0])
	}
	e.sim.Touch(testStore, ids[0], at)
	targets := []platform.Target{
		{SKU: "SKU0", ProductID: strconv.FormatInt(ids[0], 10)},
		{SKU: "CAM-M", ProductID: strconv.FormatInt(parent, 10), VariantID: strconv.FormatInt(kids[1], 10)},
		{SKU: "gone", ProductID: "999999"},
	}
	snaps, err := e.c.ReadBack(context.Background(), e.conn, targets)
	if err == nil || !strings.Contains(err.Error(), "999999") {
		t.Fatalf("missing target error: %v", err)
	}
	if len(snaps) != 2 || *snaps[0].Stock != 42 || snaps[0].Price.Amount.StringFixed(2) != "10.00" ||
		*snaps[1].Stock != 0 || snaps[1].Price.Amount.StringFixed(2) != "50.00" {
		t.Fatalf("snapshots %+v", snaps)
	}
	// The catalogue pages (3 records a page, several in one second) without loss or repeat.
	seen := map[string]int{}
	cur, pages := "", 0
	for {
		page, err := e.c.ListCatalog(context.Background(), e.conn, cur)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, it := range page.Items {
			seen[it.SKU]++
		}
		if page.Next == "" {
			break
		}
		cur = page.Next
	}
	want := []string{"SKU0", "SKU1", "SKU2", "SKU3", "CAM-P", "CAM-M"}
	if len(seen) != len(want) || pages < 2 {
		t.Fatalf("catalogue %v in %d pages", seen, pages)
	}
	for _, s := range want {
		if seen[s] != 1 {
			t.Fatalf("sku %s seen %d times (%v)", s, seen[s], seen)
		}
	}
}

func TestPageStuckInOneSecond(t *testing.T) {
	e := newEnv(t, mercossim.Options{PageSize: 2}, mercossim.StoreConfig{}, nil)
	at := time.Now().Truncate(time.Second)
	for _, id := range e.products(3) {
		e.sim.Touch(testStore, id, at)
	}
	_, err := e.c.ListCatalog(context.Background(), e.conn, "")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := e.c.ListCatalog(context.Background(), e.conn, "")
	_, err = e.c.ListCatalog(context.Background(), e.conn, page.Next)
	if kindOf(err) != platform.Permanent || !strings.Contains(err.Error(), "page_size") {
		t.Fatalf("want a permanent error naming page_size, got %v", err)
	}
}
