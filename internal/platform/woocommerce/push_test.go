package woocommerce

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/woocommerce/woocommercesim"
)

func TestPushFields(t *testing.T) {
	tests := []struct {
		name     string
		settings map[string]string
		update   func(pid, vid string) platform.Update
		variant  bool
		check    func(t *testing.T, it woocommercesim.Item)
	}{
		{name: "stock sets manage_stock", update: func(pid, _ string) platform.Update {
			return platform.Update{Target: platform.Target{SKU: "A", ProductID: pid}, Stock: i64(7)}
		}, check: func(t *testing.T, it woocommercesim.Item) {
			if it.Stock != 7 || !it.ManageStock || it.Regular != "10.00" {
				t.Fatalf("%+v", it)
			}
		}},
		{name: "price clears an old sale", update: func(pid, _ string) platform.Update {
			return platform.Update{Target: platform.Target{SKU: "A", ProductID: pid}, Price: brl("19.9")}
		}, check: func(t *testing.T, it woocommercesim.Item) {
			if it.Regular != "19.90" || it.Sale != "" || it.Stock != 0 {
				t.Fatalf("%+v", it)
			}
		}},
		{name: "list price above price makes a sale", update: func(pid, _ string) platform.Update {
			return platform.Update{Target: platform.Target{SKU: "A", ProductID: pid}, Stock: i64(3), Price: brl("79.90"), ListPrice: brl("99.90")}
		}, check: func(t *testing.T, it woocommercesim.Item) {
			if it.Regular != "99.90" || it.Sale != "79.90" || it.Stock != 3 || !it.Price().Equal(dec("79.90")) {
				t.Fatalf("%+v", it)
			}
		}},
		{name: "list price not above price is ignored", update: func(pid, _ string) platform.Update {
			return platform.Update{Target: platform.Target{SKU: "A", ProductID: pid}, Price: brl("50"), ListPrice: brl("40")}
		}, check: func(t *testing.T, it woocommercesim.Item) {
			if it.Regular != "50.00" || it.Sale != "" {
				t.Fatalf("%+v", it)
			}
		}},
		{name: "cost goes to the configured meta key", settings: map[string]string{"cost_meta_key": "_wc_cog_cost"},
			update: func(pid, _ string) platform.Update {
				return platform.Update{Target: platform.Target{SKU: "A", ProductID: pid}, Price: brl("20"), Cost: brl("8.5")}
			}, check: func(t *testing.T, it woocommercesim.Item) {
				if it.Meta["_wc_cog_cost"] != "8.50" {
					t.Fatalf("%+v", it)
				}
			}},
		{name: "variation", variant: true, update: func(pid, vid string) platform.Update {
			return platform.Update{Target: platform.Target{SKU: "V", ProductID: pid, VariantID: vid}, Stock: i64(4), Price: brl("12.5")}
		}, check: func(t *testing.T, it woocommercesim.Item) {
			if it.Stock != 4 || it.Regular != "12.50" || it.ParentID == 0 {
				t.Fatalf("%+v", it)
			}
		}},
		{name: "full sync product data", update: func(pid, _ string) platform.Update {
			return platform.Update{Target: platform.Target{SKU: "A", ProductID: pid}, Stock: i64(9),
				Product: &domain.ProductData{Name: "Mug", Description: "Blue mug", EAN: "7891234567895", WeightGrams: 350, Published: false}}
		}, check: func(t *testing.T, it woocommercesim.Item) {
			if it.Name != "Mug" || it.Description != "Blue mug" || it.GlobalID != "7891234567895" || it.Weight != "0.35" || it.Status != "draft" || it.Stock != 9 {
				t.Fatalf("%+v", it)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, woocommercesim.Options{}, tt.settings)
			pid := e.products(1)[0]
			e.item(pid) // exists
			it0 := e.item(pid)
			_ = it0
			var vid string
			if tt.variant {
				p, vids, err := e.sim.AddVariable(testStore, "Shirt", []string{"V"}, 1, dec("10"))
				if err != nil {
					t.Fatal(err)
				}
				pid, vid = strconv.FormatInt(p, 10), strconv.FormatInt(vids[0], 10)
			} else {
				// an old sale the price push must clear
				e.c.Push(ctx(t), e.conn, []platform.Update{{Target: platform.Target{SKU: "A", ProductID: pid}, Price: brl("10"), ListPrice: brl("15")}})
				e.c.Push(ctx(t), e.conn, []platform.Update{{Target: platform.Target{SKU: "A", ProductID: pid}, Price: brl("10")}})
			}
			before := e.calls().Writes
			errs := e.c.Push(ctx(t), e.conn, []platform.Update{tt.update(pid, vid)})
			if errs[0] != nil {
				t.Fatalf("push: %v", errs[0])
			}
			if got := e.calls().Writes - before; got != 1 {
				t.Fatalf("writes = %d, want 1", got)
			}
			id := pid
			if vid != "" {
				id = vid
			}
			tt.check(t, e.item(id))
		})
	}
}

func TestPushSplitsBatches(t *testing.T) {
	tests := []struct {
		name     string
		n        int
		settings map[string]string
		want     []int
	}{
		{"250 at the default 100", 250, nil, []int{100, 100, 50}},
		{"exactly 100", 100, nil, []int{100}},
		{"batch_size 40", 90, map[string]string{"batch_size": "40"}, []int{40, 40, 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, woocommercesim.Options{}, tt.settings, Options{MaxConcurrency: 1})
			ids := e.products(tt.n)
			ups := make([]platform.Update, tt.n)
			for i, id := range ids {
				ups[i] = platform.Update{Target: platform.Target{SKU: "SKU-" + strconv.Itoa(i), ProductID: id}, Stock: i64(int64(i + 1)), Price: brl("9.99")}
			}
			for i, err := range e.c.Push(ctx(t), e.conn, ups) {
				if err != nil {
					t.Fatalf("update %d: %v", i, err)
				}
			}
			got := e.sim.Batches(testStore)
			if len(got) != len(tt.want) {
				t.Fatalf("batches %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("batches %v, want %v", got, tt.want)
				}
			}
			if c := e.calls(); c.Writes != int64(len(tt.want)) || c.Total != int64(len(tt.want)) {
				t.Fatalf("calls %+v", c)
			}
			for i, id := range ids {
				if it := e.item(id); it.Stock != int64(i+1) || it.Regular != "9.99" {
					t.Fatalf("item %d: %+v", i, it)
				}
			}
		})
	}
}

func TestPushGroupsVariationsByParent(t *testing.T) {
	e := newEnv(t, woocommercesim.Options{}, nil, Options{MaxConcurrency: 1})
	simple := e.products(1)[0]
	p1, v1, _ := e.sim.AddVariable(testStore, "Shirt", []string{"S-P", "S-M"}, 0, dec("10"))
	p2, v2, _ := e.sim.AddVariable(testStore, "Cap", []string{"C-1"}, 0, dec("10"))
	s := strconv.FormatInt
	ups := []platform.Update{
		{Target: platform.Target{SKU: "S-P", ProductID: s(p1, 10), VariantID: s(v1[0], 10)}, Stock: i64(1)},
		{Target: platform.Target{SKU: "X", ProductID: simple}, Stock: i64(2)},
		{Target: platform.Target{SKU: "C-1", ProductID: s(p2, 10), VariantID: s(v2[0], 10)}, Stock: i64(3)},
		{Target: platform.Target{SKU: "S-M", ProductID: s(p1, 10), VariantID: s(v1[1], 10)}, Stock: i64(4)},
		{Target: platform.Target{SKU: "none", ProductID: simple}}, // nothing to send
	}
	for i, err := range e.c.Push(ctx(t), e.conn, ups) {
		if err != nil {
			t.Fatalf("update %d: %v", i, err)
		}
	}
	c := e.calls()
	if c.ByEndpoint[woocommercesim.EpVariationsBatch] != 2 || c.ByEndpoint[woocommercesim.EpProductsBatch] != 1 || c.Total != 3 {
		t.Fatalf("calls %+v", c)
	}
	for id, want := range map[int64]int64{v1[0]: 1, v2[0]: 3, v1[1]: 4} {
		if it, _ := e.sim.Item(testStore, id); it.Stock != want {
			t.Fatalf("variation %d stock %d, want %d", id, it.Stock, want)
		}
	}
}

func TestPushIsolatesBadItems(t *testing.T) {
	t.Run("per-item errors in the batch answer", func(t *testing.T) {
		e := newEnv(t, woocommercesim.Options{}, nil)
		ids := e.products(3)
		ups := []platform.Update{
			{Target: platform.Target{SKU: "a", ProductID: ids[0]}, Stock: i64(1)},
			{Target: platform.Target{SKU: "gone", ProductID: "999999"}, Stock: i64(2)},
			{Target: platform.Target{SKU: "c", ProductID: ids[2]}, Stock: i64(3)},
			{Target: platform.Target{SKU: "bad-id", ProductID: "../1"}, Stock: i64(3)},
			{Target: platform.Target{SKU: "usd", ProductID: ids[1]}, Price: &domain.Money{Amount: dec("1"), Currency: "USD"}},
		}
		errs := e.c.Push(ctx(t), e.conn, ups)
		if errs[0] != nil || errs[2] != nil {
			t.Fatalf("good items failed: %v %v", errs[0], errs[2])
		}
		if kindOf(errs[1]) != platform.Permanent || !strings.Contains(errs[1].Error(), "sku gone (product 999999): Invalid ID.") {
			t.Fatalf("unknown product: %v", errs[1])
		}
		for _, i := range []int{3, 4} {
			if kindOf(errs[i]) != platform.Permanent {
				t.Fatalf("update %d: %v", i, errs[i])
			}
		}
		if e.calls().Writes != 1 {
			t.Fatalf("writes %d", e.calls().Writes)
		}
		if e.item(ids[0]).Stock != 1 || e.item(ids[2]).Stock != 3 {
			t.Fatal("good items not applied")
		}
	})
	t.Run("a batch refused as a whole is bisected", func(t *testing.T) {
		e := newEnv(t, woocommercesim.Options{}, nil, Options{MaxConcurrency: 1})
		ids := e.products(8)
		bad, _ := strconv.ParseInt(ids[5], 10, 64)
		e.sim.Poison(testStore, bad)
		ups := make([]platform.Update, len(ids))
		for i, id := range ids {
			ups[i] = platform.Update{Target: platform.Target{SKU: "s" + strconv.Itoa(i), ProductID: id}, Stock: i64(5)}
		}
		errs := e.c.Push(ctx(t), e.conn, ups)
		for i, err := range errs {
			if i == 5 {
				if kindOf(err) != platform.Permanent || !strings.Contains(err.Error(), "sku s5") || !strings.Contains(err.Error(), "rest_invalid_param") {
					t.Fatalf("poisoned item: %v", err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("update %d: %v", i, err)
			}
			if e.item(ids[i]).Stock != 5 {
				t.Fatalf("item %d not applied", i)
			}
		}
		// 8 -> 4+4 -> (4 ok) 2+2 -> (2 ok) 1+1: 1 + 2 + 2 + 2 = 7 requests, bounded by 2*log2(n)+1.
		if got := e.calls().Total; got > 7 {
			t.Fatalf("%d requests to isolate one item", got)
		}
	})
	t.Run("413 splits and remembers the store's limit", func(t *testing.T) {
		e := newEnv(t, woocommercesim.Options{BatchLimit: 30}, nil, Options{MaxConcurrency: 1})
		ids := e.products(100)
		ups := make([]platform.Update, len(ids))
		for i, id := range ids {
			ups[i] = platform.Update{Target: platform.Target{SKU: "s" + strconv.Itoa(i), ProductID: id}, Stock: i64(7)}
		}
		for i, err := range e.c.Push(ctx(t), e.conn, ups) {
			if err != nil {
				t.Fatalf("update %d: %v", i, err)
			}
		}
		first := e.calls().Total
		e.c.Push(ctx(t), e.conn, ups)
		second := e.calls().Total - first
		// Learned 25 a batch: 4 requests, no more 413s.
		if second != 4 || e.calls().ByEndpoint[woocommercesim.EpProductsBatch] != first+4 {
			t.Fatalf("first push %d requests, second %d", first, second)
		}
	})
}

func TestPushErrors(t *testing.T) {
	tests := []struct {
		name     string
		fault    *woocommercesim.Fault
		settings map[string]string
		wantKind platform.Kind
		wantMsg  string
	}{
		{name: "5xx", fault: &woocommercesim.Fault{Kind: woocommercesim.FaultServerError}, wantKind: platform.Transient, wantMsg: "HTTP 500"},
		{name: "timeout", fault: &woocommercesim.Fault{Kind: woocommercesim.FaultHang, Delay: 3 * time.Second},
			settings: map[string]string{"timeout_ms": "150"}, wantKind: platform.Transient, wantMsg: "timeout"},
		{name: "malformed body", fault: &woocommercesim.Fault{Kind: woocommercesim.FaultMalformed}, wantKind: platform.Transient, wantMsg: "unexpected body"},
		{name: "truncated body", fault: &woocommercesim.Fault{Kind: woocommercesim.FaultTruncated}, wantKind: platform.Transient, wantMsg: "truncated"},
		{name: "injected 429", fault: &woocommercesim.Fault{Kind: woocommercesim.FaultRateLimit, RetryAfter: 7 * time.Second}, wantKind: platform.RateLimited, wantMsg: "HTTP 429"},
		{name: "bad setting", settings: map[string]string{"batch_size": "abc"}, wantKind: platform.Permanent, wantMsg: "setting batch_size"},
		{name: "plain http refused", settings: map[string]string{"insecure_http": ""}, wantKind: platform.Permanent, wantMsg: "https"},
		{name: "query auth works", settings: map[string]string{"auth": "query"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, woocommercesim.Options{}, tt.settings)
			ids := e.products(2)
			if tt.fault != nil {
				e.sim.InjectFault(testStore, *tt.fault)
			}
			ups := []platform.Update{
				{Target: platform.Target{SKU: "S1", ProductID: ids[0]}, Stock: i64(2)},
				{Target: platform.Target{SKU: "S2", ProductID: ids[1]}, Stock: i64(3)},
			}
			errs := e.c.Push(ctx(t), e.conn, ups)
			for i, err := range errs {
				if tt.wantMsg == "" {
					if err != nil {
						t.Fatalf("update %d: %v", i, err)
					}
					continue
				}
				if err == nil || kindOf(err) != tt.wantKind || !strings.Contains(err.Error(), tt.wantMsg) {
					t.Fatalf("update %d: got %v (kind %v), want %v containing %q", i, err, kindOf(err), tt.wantKind, tt.wantMsg)
				}
				if strings.Contains(err.Error(), testSecret) || strings.Contains(err.Error(), testKey) {
					t.Fatalf("error leaks credentials: %v", err)
				}
			}
			if tt.wantKind == platform.RateLimited {
				if ra := platform.AsError(errs[0]).RetryAfter; ra != 7*time.Second {
					t.Fatalf("RetryAfter %v", ra)
				}
			}
		})
	}
}

func TestPushAuth(t *testing.T) {
	t.Run("bad secret", func(t *testing.T) {
		e := newEnv(t, woocommercesim.Options{}, nil)
		ids := e.products(1)
		e.secrets.set("woo/conn1", "consumer_secret", "cs_wrong")
		err := e.c.Push(ctx(t), e.conn, []platform.Update{{Target: platform.Target{SKU: "a", ProductID: ids[0]}, Stock: i64(1)}})[0]
		if kindOf(err) != platform.Auth || !strings.Contains(err.Error(), "Consumer secret is invalid") || strings.Contains(err.Error(), "cs_wrong") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("revoked key", func(t *testing.T) {
		e := newEnv(t, woocommercesim.Options{}, map[string]string{"auth": "query"})
		ids := e.products(1)
		e.sim.RevokeKeys(testStore)
		err := e.c.Push(ctx(t), e.conn, []platform.Update{{Target: platform.Target{SKU: "a", ProductID: ids[0]}, Stock: i64(1)}})[0]
		if kindOf(err) != platform.Auth || strings.Contains(err.Error(), testSecret) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("rotated key is picked up after a 401", func(t *testing.T) {
		e := newEnv(t, woocommercesim.Options{}, nil)
		ids := e.products(1)
		up := []platform.Update{{Target: platform.Target{SKU: "a", ProductID: ids[0]}, Stock: i64(1)}}
		if err := e.c.Push(ctx(t), e.conn, up)[0]; err != nil {
			t.Fatal(err)
		}
		e.sim.AddStore(testStore, woocommercesim.StoreConfig{ConsumerKey: testKey, ConsumerSecret: "cs_new"})
		e.sim.AddProduct(testStore, "x", 0, dec("1"))
		e.secrets.set("woo/conn1", "consumer_secret", "cs_new")
		// The cached secret fails once, then the fresh one is read and used.
		errs := e.c.Push(ctx(t), e.conn, []platform.Update{{Target: platform.Target{SKU: "x", ProductID: "1001"}, Stock: i64(2)}})
		if errs[0] != nil {
			t.Fatal(errs[0])
		}
	})
	t.Run("missing credentials", func(t *testing.T) {
		e := newEnv(t, woocommercesim.Options{}, nil)
		e.secrets.set("woo/conn1", "consumer_key", "")
		err := e.c.Push(ctx(t), e.conn, []platform.Update{{Target: platform.Target{SKU: "a", ProductID: "5"}, Stock: i64(1)}})[0]
		if kindOf(err) != platform.Auth || !strings.Contains(err.Error(), "consumer_key") {
			t.Fatalf("got %v", err)
		}
	})
}
