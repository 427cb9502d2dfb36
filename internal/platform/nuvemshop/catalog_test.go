package nuvemshop

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/nuvemshop/nuvemshopsim"
)

func TestReadBack(t *testing.T) {
	e := newEnv(t, nuvemshopsim.Options{}, nil)
	e.seed(35)
	// A promotion: read-back reports what the buyer pays.
	if err := e.c.Push(context.Background(), e.conn, []platform.Update{{Target: target(1), Stock: i64(5),
		Price: brl("7.90"), ListPrice: brl("9.90")}})[0]; err != nil {
		t.Fatal(err)
	}
	targets := []platform.Target{{SKU: "sku-1", ProductID: "1"}} // single-variant product without a variant id
	for i := 2; i <= 35; i++ {
		targets = append(targets, target(i))
	}
	targets = append(targets,
		platform.Target{SKU: "gone", ProductID: "404", VariantID: "1"},
		platform.Target{SKU: "wrong-variant", ProductID: "2", VariantID: "999"})
	before := e.calls().ByEndpoint[nuvemshopsim.EpProducts]
	snaps, err := e.c.ReadBack(context.Background(), e.conn, targets)
	if err == nil || kindOf(err) != platform.Permanent || !strings.Contains(err.Error(), "product 404 not found") || !strings.Contains(err.Error(), "variant 999") {
		t.Fatalf("missing product/variant: got %v", err)
	}
	if len(snaps) != 35 {
		t.Fatalf("snapshots = %d, want 35", len(snaps))
	}
	if s := snaps[0]; *s.Stock != 5 || s.Price.String() != "7.90 BRL" || s.ReadAt.IsZero() {
		t.Fatalf("first snapshot %+v", s)
	}
	if s := snaps[1]; *s.Stock != 0 || s.Price.String() != "10.00 BRL" || s.VariantID != vid(2) {
		t.Fatalf("second snapshot %+v", s)
	}
	// 36 products in chunks of 30 ids: two list calls, plus one GET for the missing one.
	if got := e.calls().ByEndpoint[nuvemshopsim.EpProducts] - before; got != 2 {
		t.Fatalf("GET /products calls %d, want 2", got)
	}
}

func TestReadBackGarbage(t *testing.T) {
	for _, kind := range []nuvemshopsim.FaultKind{nuvemshopsim.FaultMalformed, nuvemshopsim.FaultTruncated, nuvemshopsim.FaultServerError} {
		e := newEnv(t, nuvemshopsim.Options{}, nil)
		e.seed(1)
		e.sim.InjectFault(testStore, nuvemshopsim.Fault{Kind: kind})
		if _, err := e.c.ReadBack(context.Background(), e.conn, []platform.Target{target(1)}); kindOf(err) != platform.Transient {
			t.Fatalf("fault %d: got %v, want transient", kind, err)
		}
	}
}

func TestListCatalog(t *testing.T) {
	e := newEnv(t, nuvemshopsim.Options{}, map[string]string{"catalog_page_size": "2"})
	e.seed(5)
	if err := e.sim.AddVariant(testStore, "3", "3001", "sku-3b", 4, dec("11.5")); err != nil {
		t.Fatal(err)
	}
	var items []platform.CatalogItem
	cursor, pages := "", 0
	for {
		page, err := e.c.ListCatalog(context.Background(), e.conn, cursor)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		items = append(items, page.Items...)
		if page.Next == "" {
			break
		}
		cursor = page.Next
		if pages > 10 {
			t.Fatal("paging does not end")
		}
	}
	if pages != 3 || len(items) != 6 {
		t.Fatalf("pages %d items %d; want 3 and 6", pages, len(items))
	}
	var skus []string
	for _, it := range items {
		skus = append(skus, it.SKU+"@"+it.ProductID+"/"+it.VariantID+"="+strconv.FormatInt(*it.Stock, 10)+"/"+it.Price.Amount.StringFixed(2))
	}
	want := "sku-1@1/1001=0/10.00 sku-2@2/1002=0/10.00 sku-3@3/1003=0/10.00 sku-3b@3/3001=4/11.50 sku-4@4/1004=0/10.00 sku-5@5/1005=0/10.00"
	if strings.Join(skus, " ") != want {
		t.Fatalf("items\n%s\nwant\n%s", strings.Join(skus, " "), want)
	}
	if items[0].Name != "Product 1" {
		t.Fatalf("name %q", items[0].Name)
	}
	// A page past the end (the platform answers 404) is an empty last page.
	page, err := e.c.ListCatalog(context.Background(), e.conn, "9")
	if err != nil || len(page.Items) != 0 || page.Next != "" {
		t.Fatalf("past the end: %+v %v", page, err)
	}
	if _, err := e.c.ListCatalog(context.Background(), e.conn, "x"); kindOf(err) != platform.Permanent {
		t.Fatalf("bad cursor: %v", err)
	}
}
