package merchantpro

import (
	"context"
	"strings"
	"testing"

	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/merchantpro/merchantprosim"
)

// TestListCatalogPages walks 250 products (one with 3 variants) at 100 a page.
func TestListCatalogPages(t *testing.T) {
	e := newEnv(t, merchantprosim.Options{}, nil)
	e.addSimple(249)
	e.addMulti(900, 3)
	var items []platform.CatalogItem
	cursor, pages := "", 0
	for {
		p, err := e.c.ListCatalog(context.Background(), e.conn, cursor)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		items = append(items, p.Items...)
		if p.Next == "" {
			break
		}
		cursor = p.Next
		if pages > 10 {
			t.Fatal("paging does not end")
		}
	}
	if pages != 3 || len(items) != 249+3 || e.endpoint(merchantprosim.EpProductList) != 3 {
		t.Fatalf("%d pages, %d items, %d list calls", pages, len(items), e.endpoint(merchantprosim.EpProductList))
	}
	first := items[0]
	if first.SKU != "S1" || first.ProductID != "1" || first.VariantID != "" || *first.Stock != 0 ||
		first.Price.Amount.StringFixed(2) != "10.00" || first.Price.Currency != "RON" {
		t.Fatalf("first item %+v", first)
	}
	v := items[len(items)-1]
	if v.ProductID != "900" || v.VariantID != "900003" || v.SKU != "M900-3" || v.Attributes["Mărime"] != "3" ||
		!strings.HasPrefix(v.Name, "Tricou (") || v.Price.Amount.StringFixed(2) != "50.00" {
		t.Fatalf("variant item %+v", v)
	}
}

func TestListCatalogErrors(t *testing.T) {
	e := newEnv(t, merchantprosim.Options{}, nil)
	e.addSimple(3)
	if _, err := e.c.ListCatalog(context.Background(), e.conn, "abc"); kindOf(err) != platform.Permanent {
		t.Fatalf("bad cursor: %v", err)
	}
	e.sim.InjectFault(testStore, merchantprosim.Fault{Kind: merchantprosim.FaultMalformed})
	if _, err := e.c.ListCatalog(context.Background(), e.conn, ""); kindOf(err) != platform.Transient {
		t.Fatalf("malformed: %v", err)
	}
	e.conn.Settings["page_size"] = "500"
	if _, err := e.c.ListCatalog(context.Background(), e.conn, ""); kindOf(err) != platform.Permanent ||
		!strings.Contains(err.Error(), "page_size") {
		t.Fatalf("page_size over 100: %v", err)
	}
}

func TestNextStartRefusesLoops(t *testing.T) {
	back := "/api/v2/products?start=0&limit=100"
	l := listJSON{}
	l.Meta.Links.Next = &back
	if _, _, bad := l.nextStart(100, 100); !bad {
		t.Fatal("a next link pointing backwards must be refused")
	}
}
