package woocommerce

import (
	"strconv"
	"strings"
	"testing"

	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/woocommerce/woocommercesim"
)

func TestReadBack(t *testing.T) {
	e := newEnv(t, woocommercesim.Options{}, nil, Options{MaxConcurrency: 1})
	ids := e.products(3)
	p, vids, _ := e.sim.AddVariable(testStore, "Shirt", []string{"S-P", "S-M"}, 4, dec("30"))
	pid := strconv.FormatInt(p, 10)
	// a sale: the active price is the sale price
	e.c.Push(ctx(t), e.conn, []platform.Update{{Target: platform.Target{SKU: "SKU-1", ProductID: ids[1]}, Stock: i64(8), Price: brl("15"), ListPrice: brl("20")}})
	before := e.calls().Total
	targets := []platform.Target{
		{SKU: "SKU-0", ProductID: ids[0]},
		{SKU: "SKU-1", ProductID: ids[1]},
		{SKU: "S-P", ProductID: pid, VariantID: strconv.FormatInt(vids[0], 10)},
		{SKU: "S-M", ProductID: pid, VariantID: strconv.FormatInt(vids[1], 10)},
		{SKU: "gone", ProductID: "999999"},
		{SKU: "bad", ProductID: "x"},
	}
	snaps, err := e.c.ReadBack(ctx(t), e.conn, targets)
	if err == nil || !strings.Contains(err.Error(), "sku gone") || !strings.Contains(err.Error(), "sku bad") {
		t.Fatalf("errors: %v", err)
	}
	got := map[string]string{}
	for _, s := range snaps {
		got[s.SKU] = strconv.FormatInt(*s.Stock, 10) + "@" + s.Price.Amount.StringFixed(2) + " " + s.Price.Currency
		if s.ReadAt.IsZero() {
			t.Fatal("no ReadAt")
		}
	}
	want := map[string]string{"SKU-0": "0@10.00 BRL", "SKU-1": "8@15.00 BRL", "S-P": "4@30.00 BRL", "S-M": "4@30.00 BRL"}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("%s: got %q, want %q", k, got[k], v)
		}
	}
	// One GET for the products, one for the variations of the parent.
	if n := e.calls().Total - before; n != 2 {
		t.Fatalf("%d requests, want 2", n)
	}
}

func TestReadBackErrors(t *testing.T) {
	e := newEnv(t, woocommercesim.Options{}, nil)
	ids := e.products(1)
	e.sim.InjectFault(testStore, woocommercesim.Fault{Kind: woocommercesim.FaultMalformed})
	if _, err := e.c.ReadBack(ctx(t), e.conn, []platform.Target{{SKU: "a", ProductID: ids[0]}}); kindOf(err) != platform.Transient {
		t.Fatalf("malformed: %v", err)
	}
	if _, err := e.c.ReadBack(ctx(t), e.conn, []platform.Target{{SKU: "v", ProductID: "424242", VariantID: "5"}}); kindOf(err) != platform.Permanent || !strings.Contains(err.Error(), "product 424242 not found") {
		t.Fatalf("missing parent: %v", err)
	}
}

func TestListCatalogPages(t *testing.T) {
	e := newEnv(t, woocommercesim.Options{}, map[string]string{"page_size": "3"})
	e.products(4)
	_, vids, _ := e.sim.AddVariable(testStore, "Shirt", []string{"S-P", "S-M", "S-G", "S-GG"}, 2, dec("30"))
	var items []platform.CatalogItem
	cursor, pages := "", 0
	for {
		page, err := e.c.ListCatalog(ctx(t), e.conn, cursor)
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
			t.Fatal("no end")
		}
	}
	// 5 products on 2 pages; the variable one is listed as its 4 variations (2 variation pages).
	if pages != 2 || len(items) != 8 {
		t.Fatalf("%d pages, %d items: %+v", pages, len(items), items)
	}
	var variations int
	for _, it := range items {
		if it.VariantID != "" {
			variations++
			if it.Name != "Shirt - "+it.SKU || it.Stock == nil || *it.Stock != 2 || it.Price == nil || it.Attributes["Option"] != it.SKU {
				t.Fatalf("variation %+v", it)
			}
		}
	}
	if variations != len(vids) {
		t.Fatalf("%d variations", variations)
	}
	if _, err := e.c.ListCatalog(ctx(t), e.conn, "zero"); kindOf(err) != platform.Permanent {
		t.Fatalf("bad cursor: %v", err)
	}
}
