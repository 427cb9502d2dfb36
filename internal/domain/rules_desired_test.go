package domain

import (
	"reflect"
	"testing"
	"time"
)

var rulesNow = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func rulesConn(r Rules) Connection {
	return Connection{ID: "c1", Tenant: "t1", Platform: "tray", Enabled: true, Rules: r}
}

func rulesState() SKUState {
	cost, list := MustMoney("6.5", "BRL"), MustMoney("25", "BRL")
	return SKUState{
		Tenant: "t1", SKU: "AB-1", Rev: 7,
		Product: &Product{
			SKU: "AB-1", EAN: "7891234567895", Name: "Mug", Description: "Blue", Brand: "Acme",
			Category: "Kitchen", Images: []string{"a.jpg", "b.jpg"}, Attributes: map[string]string{"color": "blue"},
			WeightGrams: 350, Publish: true, SyncStock: true, Version: 30,
		},
		Stock: map[string]StockLevel{
			"A": {Warehouse: "A", Quantity: 10, Version: 11},
			"B": {Warehouse: "B", Quantity: 5, Version: 15},
		},
		Price:        &PriceInfo{Price: MustMoney("19.12", "BRL"), Cost: &cost, List: &list, Version: 20},
		Reservations: map[string]Reservation{"o1": {Quantity: 2}},
	}
}

func TestComputeDesiredFull(t *testing.T) {
	r := Rules{Warehouses: []string{"A"}, MarkupPct: rulesDec("10"), PriceEnding: rulesPct("0.90")}
	st := rulesState()
	d, skip := ComputeDesired(rulesConn(r), st, rulesNow)
	if skip != SkipNone {
		t.Fatalf("skip = %q", skip)
	}
	stock, price, cost, list := int64(8), MustMoney("21.90", "BRL"), MustMoney("6.5", "BRL"), MustMoney("27.50", "BRL")
	want := DesiredState{
		Tenant: "t1", ConnectionID: "c1", SKU: "AB-1", Stock: &stock, Price: &price, Cost: &cost, ListPrice: &list,
		Product: &ProductData{
			Name: "Mug", Description: "Blue", Brand: "Acme", Category: "Kitchen", EAN: "7891234567895",
			Images: []string{"a.jpg", "b.jpg"}, Attributes: map[string]string{"color": "blue"}, WeightGrams: 350, Published: true,
		},
		Rev: 7, Versions: Versions{Stock: 11, Price: 20, Product: 30}, ComputedAt: rulesNow,
	}
	if !reflect.DeepEqual(d, want) {
		t.Fatalf("got  %+v\nwant %+v", d, want)
	}
	// The desired state must not alias the SKU state.
	d.Product.Images[0], d.Product.Attributes["color"], d.Cost.Currency = "x", "x", "x"
	if st.Product.Images[0] != "a.jpg" || st.Product.Attributes["color"] != "blue" || st.Price.Cost.Currency != "BRL" {
		t.Fatal("ComputeDesired shares memory with the SKU state")
	}
}

func TestComputeDesiredParts(t *testing.T) {
	type parts struct{ stock, price, product bool }
	tests := []struct {
		name   string
		r      Rules
		change func(*SKUState)
		want   parts
		vers   Versions
	}{
		{"defaults", Rules{}, nil, parts{true, true, true}, Versions{15, 20, 30}},
		{"explicit full and erp", Rules{SyncMode: SyncFull, PriceSource: PriceFromERP}, nil, parts{true, true, true}, Versions{15, 20, 30}},
		{"price_stock leaves product", Rules{SyncMode: SyncPriceStock}, nil, parts{true, true, false}, Versions{15, 20, 30}},
		{"platform owns price", Rules{PriceSource: PriceFromPlatform}, nil, parts{true, false, true}, Versions{15, 0, 30}},
		{"sync stock off", Rules{}, func(s *SKUState) { s.Product.SyncStock = false }, parts{false, true, true}, Versions{0, 20, 30}},
		{"no stock ever received", Rules{}, func(s *SKUState) { s.Stock = nil }, parts{false, true, true}, Versions{0, 20, 30}},
		{"no price received", Rules{}, func(s *SKUState) { s.Price = nil }, parts{true, false, true}, Versions{15, 0, 30}},
		{"stock version of selected only", Rules{Warehouses: []string{"A", "Z"}}, nil, parts{true, true, true}, Versions{11, 20, 30}},
		{"selected warehouses unknown", Rules{Warehouses: []string{"Z"}}, nil, parts{true, true, true}, Versions{0, 20, 30}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := rulesState()
			if tc.change != nil {
				tc.change(&st)
			}
			d, skip := ComputeDesired(rulesConn(tc.r), st, rulesNow)
			got := parts{d.Stock != nil, d.Price != nil, d.Product != nil}
			if skip != SkipNone || got != tc.want || d.Versions != tc.vers {
				t.Fatalf("skip %q parts %+v versions %+v; want parts %+v versions %+v", skip, got, d.Versions, tc.want, tc.vers)
			}
			if (d.Cost != nil) != got.price || (d.ListPrice != nil) != got.price {
				t.Fatalf("cost/list must follow price: %+v", d)
			}
		})
	}
}

func TestComputeDesiredSkips(t *testing.T) {
	tests := []struct {
		name   string
		conn   func(*Connection)
		change func(*SKUState)
		want   Skip
	}{
		{"disabled", func(c *Connection) { c.Enabled = false }, nil, SkipConnectionDisabled},
		{"other tenant", func(c *Connection) { c.Tenant = "t2" }, nil, SkipTenantMismatch},
		{"unknown product", nil, func(s *SKUState) { s.Product = nil }, SkipUnknownProduct},
		{"not allowlisted", func(c *Connection) { c.Rules.Allowlist = []string{"CD-2"} }, nil, SkipNotAllowlisted},
		{"allowlisted by ean", func(c *Connection) { c.Rules.Allowlist = []string{"7891234567895"} }, nil, SkipNone},
		{"not published", nil, func(s *SKUState) { s.Product.Publish = false }, SkipNotPublished},
		{"disabled wins over unknown", func(c *Connection) { c.Enabled = false }, func(s *SKUState) { s.Product = nil }, SkipConnectionDisabled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, st := rulesConn(Rules{}), rulesState()
			if tc.conn != nil {
				tc.conn(&c)
			}
			if tc.change != nil {
				tc.change(&st)
			}
			d, skip := ComputeDesired(c, st, rulesNow)
			if skip != tc.want {
				t.Fatalf("skip = %q, want %q", skip, tc.want)
			}
			if skip != SkipNone && (d.Stock != nil || d.Price != nil || d.Product != nil || d.SKU != "AB-1" || d.Rev != 7) {
				t.Fatalf("skipped state should carry identity only: %+v", d)
			}
		})
	}
}

func TestPending(t *testing.T) {
	n5, n6 := int64(5), int64(6)
	p1, p2 := MustMoney("10", "BRL"), MustMoney("10.00", "BRL")
	p3, usd := MustMoney("11", "BRL"), MustMoney("10", "USD")
	prod := &ProductData{Name: "Mug", Images: []string{"a"}, Attributes: map[string]string{}}
	prodSame := &ProductData{Name: "Mug", Images: []string{"a"}} // nil map == empty map
	prodOther := &ProductData{Name: "Mug", Images: []string{"a"}, Published: true}
	tests := []struct {
		name string
		d    DesiredState
		p    *PushedState
		want Pending
	}{
		{"nothing desired, never pushed", DesiredState{}, nil, Pending{}},
		{"never pushed", DesiredState{Stock: &n5, Price: &p1, Product: prod}, nil, Pending{true, true, true}},
		{"never pushed, only cost", DesiredState{Cost: &p1}, nil, Pending{Price: true}},
		{"all equal", DesiredState{Stock: &n5, Price: &p1, Cost: &p1, Product: prod},
			&PushedState{Stock: &n5, Price: &p2, Cost: &p2, Product: prodSame}, Pending{}},
		{"stock differs", DesiredState{Stock: &n6}, &PushedState{Stock: &n5}, Pending{Stock: true}},
		{"stock never pushed", DesiredState{Stock: &n5}, &PushedState{Price: &p1}, Pending{Stock: true}},
		{"nil desired stock never pending", DesiredState{Price: &p1}, &PushedState{Stock: &n5, Price: &p1}, Pending{}},
		{"price differs", DesiredState{Price: &p3}, &PushedState{Price: &p1}, Pending{Price: true}},
		{"currency differs", DesiredState{Price: &usd}, &PushedState{Price: &p1}, Pending{Price: true}},
		{"cost differs", DesiredState{Price: &p1, Cost: &p3}, &PushedState{Price: &p1, Cost: &p1}, Pending{Price: true}},
		{"list newly set", DesiredState{Price: &p1, ListPrice: &p3}, &PushedState{Price: &p1}, Pending{Price: true}},
		{"nil list not pending", DesiredState{Price: &p1}, &PushedState{Price: &p1, ListPrice: &p3}, Pending{}},
		{"product differs", DesiredState{Product: prod}, &PushedState{Product: prodOther}, Pending{Product: true}},
		{"image order counts", DesiredState{Product: &ProductData{Images: []string{"a", "b"}}},
			&PushedState{Product: &ProductData{Images: []string{"b", "a"}}}, Pending{Product: true}},
		{"attribute value differs", DesiredState{Product: &ProductData{Attributes: map[string]string{"k": "1"}}},
			&PushedState{Product: &ProductData{Attributes: map[string]string{"k": "2"}}}, Pending{Product: true}},
		{"nil product never pending", DesiredState{}, &PushedState{Product: prod}, Pending{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.d.Pending(tc.p)
			if got != tc.want {
				t.Fatalf("Pending = %+v, want %+v", got, tc.want)
			}
			if got.Any() != (tc.want.Stock || tc.want.Price || tc.want.Product) {
				t.Fatalf("Any = %v for %+v", got.Any(), got)
			}
		})
	}
}
