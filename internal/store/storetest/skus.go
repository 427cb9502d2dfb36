package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/store"
)

func testSKURoundTrip(t *testing.T, s store.Store) {
	c := ctx(t)
	full := skuState("ta", "SKU-1", 1)
	bare := domain.SKUState{Tenant: "ta", SKU: "SKU-2", Rev: 1, UpdatedAt: at} // unknown SKU: stock only later
	other := skuState("tb", "SKU-1", 1)                                        // same SKU, other tenant
	other.Product.Name = "Tenant B's product"
	errs, err := s.PutSKUs(c, []store.SKUWrite{{State: full}, {State: bare}, {State: other}})
	noErr(t, "put", err)
	for i, e := range errs {
		noErr(t, fmt.Sprintf("write %d", i), e)
	}

	for _, tc := range []struct {
		name   string
		tenant string
		skus   []string
		want   []domain.SKUState
	}{
		{"all fields", "ta", []string{"SKU-1"}, []domain.SKUState{full}},
		{"several with a missing one", "ta", []string{"SKU-1", "SKU-404", "SKU-2"}, []domain.SKUState{full, bare}},
		{"a SKU named twice", "ta", []string{"SKU-1", "SKU-1"}, []domain.SKUState{full}},
		{"other tenant sees its own", "tb", []string{"SKU-1", "SKU-2"}, []domain.SKUState{other}},
		{"unknown tenant", "tz", []string{"SKU-1"}, nil},
		{"empty list", "ta", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.GetSKUs(c, tc.tenant, tc.skus)
			noErr(t, "get", err)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d states, want %d: %v", len(got), len(tc.want), keys(got))
			}
			for _, w := range tc.want {
				g, ok := got[w.SKU]
				if !ok {
					t.Fatalf("missing %s", w.SKU)
				}
				sameJSON(t, "sku "+w.SKU, w, g)
				wantUTC(t, "updated_at", g.UpdatedAt)
				if w.Price != nil && !g.Price.Price.Amount.Equal(w.Price.Price.Amount) {
					t.Errorf("price %s came back as %s", w.Price.Price.Amount, g.Price.Price.Amount)
				}
			}
		})
	}
}

func testSKUOptimisticWrites(t *testing.T, s store.Store) {
	c := ctx(t)
	st := func(sku string, rev int64) domain.SKUState { return skuState("ta", sku, rev) }
	errs, err := s.PutSKUs(c, []store.SKUWrite{{State: st("A", 1)}, {State: st("B", 1)}, {State: st("C", 1)}})
	noErr(t, "seed", err)
	for i, e := range errs {
		noErr(t, fmt.Sprintf("seed %d", i), e)
	}

	// One call mixing good and bad writes: only the bad ones fail.
	a2 := st("A", 2)
	a2.Stock["main"] = domain.StockLevel{Warehouse: "main", Quantity: 99, Version: 20, UpdatedAt: at}
	writes := []store.SKUWrite{
		{State: a2, ExpectedRev: 1},                     // ok
		{State: st("B", 1)},                             // exists: ExpectedRev 0 must fail
		{State: st("C", 3), ExpectedRev: 2},             // stored rev is 1
		{State: st("D", 1)},                             // new: ok
		{State: st("E", 5), ExpectedRev: 4},             // does not exist
		{State: st("F", 7), ExpectedRev: 0},             // malformed: rev must be expected+1
		{State: st("G", 1)},                             // new: ok
		{State: skuState("tb", "A", 2), ExpectedRev: 1}, // tenant B has no A
	}
	want := []error{nil, store.ErrConflict, store.ErrConflict, nil, store.ErrConflict, errMalformed, nil, store.ErrConflict}
	errs, err = s.PutSKUs(c, writes)
	noErr(t, "mixed put", err)
	if len(errs) != len(writes) {
		t.Fatalf("got %d errs for %d writes", len(errs), len(writes))
	}
	for i, w := range want {
		switch {
		case w == nil && errs[i] != nil:
			t.Errorf("write %d (%s): unexpected %v", i, writes[i].State.SKU, errs[i])
		case w == errMalformed && (errs[i] == nil || errors.Is(errs[i], store.ErrConflict)):
			t.Errorf("write %d (%s): got %v, want a validation error", i, writes[i].State.SKU, errs[i])
		case w != nil && w != errMalformed:
			wantErr(t, fmt.Sprintf("write %d (%s)", i, writes[i].State.SKU), errs[i], w)
		}
	}

	got, err := s.GetSKUs(c, "ta", []string{"A", "B", "C", "D", "E", "F", "G"})
	noErr(t, "get", err)
	for _, w := range []domain.SKUState{a2, st("B", 1), st("C", 1), st("D", 1), st("G", 1)} {
		sameJSON(t, "after mixed put: "+w.SKU, w, got[w.SKU])
	}
	for _, sku := range []string{"E", "F"} {
		if _, ok := got[sku]; ok {
			t.Errorf("failed write created %s", sku)
		}
	}
	if b, _ := s.GetSKUs(c, "tb", []string{"A"}); len(b) != 0 {
		t.Errorf("tenant B write with a rev created %v", keys(b))
	}

	t.Run("empty call", func(t *testing.T) {
		errs, err := s.PutSKUs(c, nil)
		noErr(t, "empty", err)
		if len(errs) != 0 {
			t.Errorf("got %d errs", len(errs))
		}
	})
}

// errMalformed marks a write the store must refuse with some error other than ErrConflict.
var errMalformed = errors.New("malformed")

func testSKURace(t *testing.T, s store.Store) {
	c := ctx(t)
	errs, err := s.PutSKUs(c, []store.SKUWrite{{State: skuState("ta", "HOT", 1)}})
	noErr(t, "seed", err)
	noErr(t, "seed write", errs[0])

	for _, tc := range []struct {
		name     string
		expected int64
	}{{"update race", 1}, {"create race", 0}} {
		t.Run(tc.name, func(t *testing.T) {
			const n = 8
			sku := "HOT"
			if tc.expected == 0 {
				sku = "NEW"
			}
			var (
				wg      sync.WaitGroup
				results = make([]error, n)
			)
			for g := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					st := skuState("ta", sku, tc.expected+1)
					st.Stock["main"] = domain.StockLevel{Warehouse: "main", Quantity: int64(1000 + g), UpdatedAt: at}
					errs, err := s.PutSKUs(c, []store.SKUWrite{{State: st, ExpectedRev: tc.expected}})
					if err != nil {
						results[g] = err
						return
					}
					results[g] = errs[0]
				}()
			}
			wg.Wait()
			winner := -1
			for g, e := range results {
				switch {
				case e == nil && winner >= 0:
					t.Errorf("writers %d and %d both won", winner, g)
				case e == nil:
					winner = g
				case !errors.Is(e, store.ErrConflict):
					t.Errorf("writer %d: %v, want ErrConflict", g, e)
				}
			}
			if winner < 0 {
				t.Fatal("no writer won")
			}
			got, err := s.GetSKUs(c, "ta", []string{sku})
			noErr(t, "get", err)
			if q := got[sku].Stock["main"].Quantity; q != int64(1000+winner) || got[sku].Rev != tc.expected+1 {
				t.Errorf("stored quantity %d rev %d, want the winner's %d rev %d", q, got[sku].Rev, 1000+winner, tc.expected+1)
			}
		})
	}
}

// testSKUMany writes and reads more SKUs than one backend round trip carries (DynamoDB
// batches 100 keys, SQLite chunks its IN list at 500), then updates them all in one call.
func testSKUMany(t *testing.T, s store.Store) {
	c := ctx(t)
	const n = 510
	writes := make([]store.SKUWrite, n)
	names := make([]string, n)
	for i := range writes {
		names[i] = fmt.Sprintf("BULK-%04d", i)
		st := domain.SKUState{Tenant: "ta", SKU: names[i], Rev: 1, UpdatedAt: at,
			Stock: map[string]domain.StockLevel{"main": {Warehouse: "main", Quantity: int64(i), Version: 1, UpdatedAt: at}}}
		writes[i] = store.SKUWrite{State: st}
	}
	errs, err := s.PutSKUs(c, writes)
	noErr(t, "create", err)
	for i, e := range errs {
		noErr(t, "create "+names[i], e)
	}
	got, err := s.GetSKUs(c, "ta", names)
	noErr(t, "get", err)
	if len(got) != n {
		t.Fatalf("got %d of %d", len(got), n)
	}
	for i := range writes {
		st := got[names[i]].Clone()
		if st.Stock["main"].Quantity != int64(i) {
			t.Fatalf("%s: quantity %d, want %d", names[i], st.Stock["main"].Quantity, i)
		}
		st.Rev++
		st.Stock["main"] = domain.StockLevel{Warehouse: "main", Quantity: int64(i) * 2, Version: 2, UpdatedAt: at}
		writes[i] = store.SKUWrite{State: st, ExpectedRev: 1}
	}
	errs, err = s.PutSKUs(c, writes)
	noErr(t, "update", err)
	for i, e := range errs {
		noErr(t, "update "+names[i], e)
	}
	got, err = s.GetSKUs(c, "ta", names)
	noErr(t, "get after update", err)
	for i, name := range names {
		if st := got[name]; st.Rev != 2 || st.Stock["main"].Quantity != int64(i)*2 {
			t.Fatalf("%s: rev %d quantity %d after update", name, st.Rev, st.Stock["main"].Quantity)
		}
	}
}

func keys(m map[string]domain.SKUState) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
