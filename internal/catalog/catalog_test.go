package catalog_test

import (
	"context"
	"reflect"
	"slices"
	"testing"

	"github.com/ponte-hub/ponte/internal/catalog"
	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform/merchantpro/merchantprosim"
	"github.com/ponte-hub/ponte/internal/store"
)

// seedMatching: ERP products and a store catalogue with one item per outcome.
func seedMatching(t *testing.T, f *fixture) {
	f.erp(t, "a-1", "")
	f.erp(t, "B", "5901234123457")
	f.erp(t, "C", "", "  c-old ")
	f.erp(t, "D", "4006381333931")
	f.erp(t, "E", "4006381333931")
	f.erp(t, "F", "")
	f.erp(t, "G", "")
	must(t, f.st.PutMapping(f.ctx, domain.Mapping{Tenant: "t1", ConnectionID: "c1", SKU: "G", ProductID: "7",
		CreatedAt: f.clock.Now()}))
	for _, p := range []merchantprosim.Product{
		{ID: 1, SKU: " A-1 ", Name: "by sku, case and spaces aside"},
		{ID: 2, SKU: "X-2", EAN: "05901234123457", Name: "by ean, zero-padded"},
		{ID: 3, SKU: "C-OLD", Name: "by additional code"},
		{ID: 4, SKU: "Z-4", EAN: "4006381333931", Name: "one ean, two erp products"},
		{ID: 5, SKU: "NOPE", Name: "unmatched", Category: "Shoes"},
		{ID: 6, Name: "two variants for one erp sku", Category: "Shirts", Variants: []*merchantprosim.Variant{
			{ID: 61, SKU: "F"}, {ID: 62, SKU: "f"}}},
		{ID: 7, SKU: "G", Name: "linked before"},
	} {
		f.product(t, p)
	}
}

func TestFirstSyncMatches(t *testing.T) {
	f := newFixture(t, domain.Rules{})
	seedMatching(t, f)
	before := f.snapshot(t)
	j, rep := f.run(t)

	want := catalog.Counts{Checked: 8, AlreadyLinked: 1, LinkedBySKU: 2, LinkedByEAN: 1, LinkedByCode: 1, Ambiguous: 2, Unmatched: 1}
	if got := counts(rep.Products); !reflect.DeepEqual(got, want) {
		t.Errorf("counts %+v\nwant   %+v", got, want)
	}
	if j.Done != 8 || j.Total != 8 || j.Cursor != "" {
		t.Errorf("job done %d total %d cursor %q, want 8 8 \"\"", j.Done, j.Total, j.Cursor)
	}
	for _, c := range []struct{ product, variant, sku string }{
		{"1", "", "a-1"}, {"2", "", "B"}, {"3", "", "C"}, {"4", "", ""}, {"5", "", ""},
		{"6", "61", "F"}, {"6", "62", ""}, {"7", "", "G"},
	} {
		if got := f.mapped(t, c.product, c.variant); got != c.sku {
			t.Errorf("product %s/%s mapped to %q, want %q", c.product, c.variant, got, c.sku)
		}
	}
	amb := map[string]catalog.Entry{}
	for _, e := range rep.Products.AmbiguousItems {
		amb[e.ProductID+"/"+e.VariantID] = e
	}
	if e := amb["4/"]; e.MatchedBy != catalog.ByEAN || !slices.Equal(e.Candidates, []string{"D", "E"}) || e.Code != "4006381333931" {
		t.Errorf("ambiguous ean item = %+v, want matched by ean with candidates D, E", e)
	}
	if e := amb["6/62"]; e.MatchedBy != catalog.ByMapping || !slices.Equal(e.Candidates, []string{"F"}) {
		t.Errorf("second variant for F = %+v, want ambiguous by mapping with candidate F", e)
	}
	if u := rep.Products.UnmatchedItems; len(u) != 1 || u[0].ProductID != "5" || u[0].SKU != "NOPE" {
		t.Errorf("unmatched = %+v, want product 5 (NOPE)", u)
	}
	if !slices.Equal(rep.Categories, []string{"Shoes", "Shirts"}) {
		t.Errorf("categories = %v", rep.Categories)
	}
	if after := f.snapshot(t); !reflect.DeepEqual(after, before) {
		t.Errorf("ERP data changed by linking:\nbefore %v\nafter  %v", before, after)
	}

	// A second run links nothing new and reports the same problems.
	_, rep2 := f.run(t)
	want2 := catalog.Counts{Checked: 8, AlreadyLinked: 5, Ambiguous: 2, Unmatched: 1}
	if got := counts(rep2.Products); !reflect.DeepEqual(got, want2) {
		t.Errorf("second run counts %+v\nwant              %+v", got, want2)
	}
	if !reflect.DeepEqual(rep2.Products.AmbiguousItems, rep.Products.AmbiguousItems) ||
		!reflect.DeepEqual(rep2.Products.UnmatchedItems, rep.Products.UnmatchedItems) {
		t.Errorf("second run lists differ:\n%+v\n%+v", rep2.Products, rep.Products)
	}
	if after := f.snapshot(t); !reflect.DeepEqual(after, before) {
		t.Error("ERP data changed by the second run")
	}
	jobs, err := f.svc.Jobs(f.ctx, "t1", "c1", 0)
	must(t, err)
	if len(jobs) != 2 {
		t.Errorf("Jobs lists %d jobs, want 2", len(jobs))
	}
}

func TestImportUnmatched(t *testing.T) {
	f := newFixture(t, domain.Rules{ImportUnmatched: true})
	f.erp(t, "A", "")
	f.product(t, merchantprosim.Product{ID: 1, SKU: "A", Name: "matched"})
	f.product(t, merchantprosim.Product{ID: 2, SKU: "NEW-1", EAN: "123", Name: "Rochie", Description: "<p>din in</p>",
		Category: "Rochii", Images: []string{"https://img/1.jpg"}})
	f.product(t, merchantprosim.Product{ID: 3, Name: "no sku"})
	_, rep := f.run(t)
	if want := (catalog.Counts{Checked: 3, LinkedBySKU: 1, Imported: 1, Unmatched: 1}); !reflect.DeepEqual(counts(rep.Products), want) {
		t.Errorf("counts %+v, want %+v", counts(rep.Products), want)
	}
	if u := rep.Products.UnmatchedItems; len(u) != 1 || u[0].ProductID != "3" || u[0].Reason == "" {
		t.Errorf("unmatched = %+v, want product 3 with a reason", u)
	}
	got, err := f.st.GetSKUs(f.ctx, "t1", []string{"NEW-1"})
	must(t, err)
	s, ok := got["NEW-1"]
	if !ok || s.Product == nil {
		t.Fatal("NEW-1 was not imported")
	}
	p := s.Product
	if p.Name != "Rochie" || p.EAN != "123" || p.Category != "Rochii" || p.Description == "" || len(p.Images) != 1 ||
		!p.Publish || !p.SyncStock || p.Version != 0 || s.Rev != 1 || len(s.Stock) != 0 || s.Price != nil {
		t.Errorf("imported state = %+v product %+v", s, p)
	}
	if f.mapped(t, "2", "") != "NEW-1" {
		t.Error("the imported product is not linked")
	}
	before := f.snapshot(t)
	_, rep2 := f.run(t)
	if want := (catalog.Counts{Checked: 3, AlreadyLinked: 2, Unmatched: 1}); !reflect.DeepEqual(counts(rep2.Products), want) {
		t.Errorf("second run counts %+v, want %+v", counts(rep2.Products), want)
	}
	if after := f.snapshot(t); !reflect.DeepEqual(after, before) {
		t.Error("the second run wrote products")
	}
}

// An operator adds the store's code to the ERP product as an additional code and runs
// the first sync again: the item is linked by code.
func TestAdditionalCodeThenRerun(t *testing.T) {
	f := newFixture(t, domain.Rules{})
	f.erp(t, "INT-9", "")
	f.product(t, merchantprosim.Product{ID: 1, SKU: "SHOP-9", Name: "x"})
	if _, rep := f.run(t); rep.Products.Unmatched != 1 {
		t.Fatalf("first run: %+v", counts(rep.Products))
	}
	got, err := f.st.GetSKUs(f.ctx, "t1", []string{"INT-9"})
	must(t, err)
	s := got["INT-9"].Clone()
	s.Product.AdditionalCodes = append(s.Product.AdditionalCodes, "shop-9")
	s.Product.Version++
	s.Rev++
	f.putSKU(t, s, s.Rev-1)
	_, rep := f.run(t)
	if want := (catalog.Counts{Checked: 1, LinkedByCode: 1}); !reflect.DeepEqual(counts(rep.Products), want) {
		t.Errorf("counts %+v, want %+v", counts(rep.Products), want)
	}
	if f.mapped(t, "1", "") != "INT-9" {
		t.Error("not linked by the new additional code")
	}
}

// racingERP writes the ERP's own product for a SKU just before the import's write, as a
// concurrent ERP change would.
type racingERP struct {
	catalog.Store
	f *fixture
	t *testing.T
}

func (r racingERP) PutSKUs(ctx context.Context, w []store.SKUWrite) ([]error, error) {
	r.f.erp(r.t, w[0].State.SKU, "")
	return r.Store.PutSKUs(ctx, w)
}

// An import that loses to a concurrent ERP write links the ERP's product and leaves its
// data alone.
func TestImportLosesToERPWrite(t *testing.T) {
	f := newFixture(t, domain.Rules{ImportUnmatched: true})
	f.product(t, merchantprosim.Product{ID: 1, SKU: "NEW", Name: "store name"})
	f.svc.Store = racingERP{Store: f.st, f: f, t: t}
	_, rep := f.run(t)
	if want := (catalog.Counts{Checked: 1, LinkedBySKU: 1}); !reflect.DeepEqual(counts(rep.Products), want) {
		t.Errorf("counts %+v, want %+v", counts(rep.Products), want)
	}
	got, err := f.st.GetSKUs(f.ctx, "t1", []string{"NEW"})
	must(t, err)
	if p := got["NEW"].Product; p == nil || p.Name != "ERP NEW" || p.Version != 5 {
		t.Errorf("ERP product overwritten: %+v", p)
	}
	if f.mapped(t, "1", "") != "NEW" {
		t.Error("not linked")
	}
}
