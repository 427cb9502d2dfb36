package tray

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/tray/traysim"
)

func TestListCatalogPagesProductsThenVariants(t *testing.T) {
	e := newEnv(t, traysim.Options{}, nil)
	// 60 simple products (two pages of 50), and one product sold through 55 variants.
	for i := 1; i <= 60; i++ {
		e.sim.AddProduct(testStore, strconv.Itoa(i), int64(i), decimal.NewFromInt(int64(i)))
	}
	e.sim.AddProduct(testStore, "1000", 0, decimal.Zero)
	for i := 1; i <= 55; i++ {
		e.sim.AddVariant(testStore, "1000", strconv.Itoa(5000+i), int64(i%3), decimal.RequireFromString("9.90"))
	}
	ctx := context.Background()
	items := map[platform.Target]platform.CatalogItem{}
	pages, cursor := 0, ""
	for {
		page, err := e.c.ListCatalog(ctx, e.conn, cursor)
		if err != nil {
			t.Fatalf("page %d (%q): %v", pages+1, cursor, err)
		}
		pages++
		for _, it := range page.Items {
			if _, dup := items[it.Target]; dup {
				t.Fatalf("item %+v listed twice", it.Target)
			}
			items[it.Target] = it
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
		if pages > 10 {
			t.Fatal("paging does not end")
		}
	}
	if len(items) != 60+55 {
		t.Fatalf("listed %d items, want 115 (60 simple products + 55 variants; the parent is not sellable)", len(items))
	}
	p7 := items[platform.Target{ProductID: "7"}]
	if p7.Stock == nil || *p7.Stock != 7 || p7.Price == nil || p7.Price.String() != "7.00 BRL" {
		t.Fatalf("product 7 listed as %+v", p7)
	}
	v := items[platform.Target{ProductID: "1000", VariantID: "5004"}]
	if v.Stock == nil || *v.Stock != 1 || v.Price == nil || v.Price.String() != "9.90 BRL" {
		t.Fatalf("variant 5004 listed as %+v", v)
	}
	if got := e.endpoint(traysim.EpProductList) + e.endpoint(traysim.EpVariantList); got != int64(pages) {
		t.Fatalf("%d list calls for %d pages", got, pages)
	}
}

func TestListCatalogFailures(t *testing.T) {
	tests := []struct {
		name   string
		cursor string
		fault  *traysim.Fault
		want   platform.Kind
	}{
		{"bad cursor", "pages:x", nil, platform.Permanent},
		{"unknown phase", "orders:1", nil, platform.Permanent},
		{"server error", "", &traysim.Fault{Kind: traysim.FaultServerError}, platform.Transient},
		{"garbage body", "", &traysim.Fault{Kind: traysim.FaultMalformed}, platform.Transient},
		{"truncated body", "", &traysim.Fault{Kind: traysim.FaultTruncated}, platform.Transient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, traysim.Options{}, nil)
			e.sim.AddProduct(testStore, "1", 1, decimal.NewFromInt(1))
			if _, err := e.c.ListCatalog(context.Background(), e.conn, ""); err != nil {
				t.Fatalf("warm-up: %v", err) // obtains the token, so the fault hits the list call
			}
			if tt.fault != nil {
				e.sim.InjectFault(testStore, *tt.fault)
			}
			_, err := e.c.ListCatalog(context.Background(), e.conn, tt.cursor)
			var pe *platform.Error
			if !errors.As(err, &pe) || pe.Kind != tt.want {
				t.Fatalf("got %v, want a %s error", err, tt.want)
			}
		})
	}
}
