package platformsim

import (
	"maps"
	"testing"
	"time"
)

func TestStockDelta(t *testing.T) {
	a, b := Product{ProductID: "1"}, Product{ProductID: "2", VariantID: "20"}
	cases := []struct {
		name       string
		prev, next []SimOrderLine
		want       map[Product]int64
	}{
		{"new order takes its lines", nil, []SimOrderLine{{Product: a, Quantity: 3}, {Product: b, Quantity: 1}},
			map[Product]int64{a: -3, b: -1}},
		{"same lines move nothing", []SimOrderLine{{Product: a, Quantity: 3}}, []SimOrderLine{{Product: a, Quantity: 3}},
			map[Product]int64{}},
		{"more of a line takes the difference", []SimOrderLine{{Product: a, Quantity: 3}}, []SimOrderLine{{Product: a, Quantity: 5}},
			map[Product]int64{a: -2}},
		{"a dropped line is given back", []SimOrderLine{{Product: a, Quantity: 3}, {Product: b, Quantity: 2}},
			[]SimOrderLine{{Product: a, Quantity: 3}}, map[Product]int64{b: 2}},
		{"two lines of one product add up", nil, []SimOrderLine{{Product: a, Quantity: 1}, {Product: a, Quantity: 2}},
			map[Product]int64{a: -3}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := StockDelta(tc.prev, tc.next); !maps.Equal(got, tc.want) {
				t.Errorf("StockDelta = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestOrderBookPlace(t *testing.T) {
	var b OrderBook
	line := []SimOrderLine{{Product: Product{ProductID: "1"}, Quantity: 2}}
	steps := []struct {
		store, id   string
		wantID      string
		wantExisted bool
		wantDelta   int64
	}{
		{"s1", "", "101", false, -2},
		{"s1", "", "102", false, -2},
		{"s2", "", "101", false, -2}, // ids are per store
		{"s1", "101", "101", true, 0},
		{"s1", "77", "77", false, -2},
	}
	for i, s := range steps {
		id, delta, existed := b.Place(s.store, SimOrder{ID: s.id, Lines: line}, 100)
		if id != s.wantID || existed != s.wantExisted || delta[Product{ProductID: "1"}] != s.wantDelta {
			t.Errorf("step %d: Place = %q, %v, existed %v; want %q, %d, %v", i, id, delta, existed, s.wantID, s.wantDelta, s.wantExisted)
		}
	}
}

func TestSimOrderNormalise(t *testing.T) {
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.FixedZone("BRT", -3*3600))
	ok := []SimOrderLine{{Product: Product{ProductID: "1"}, Quantity: 1}}
	cases := []struct {
		name      string
		in        SimOrder
		numericID bool
		wantErr   bool
	}{
		{"defaults UpdatedAt to now in UTC", SimOrder{Lines: ok}, false, false},
		{"no lines", SimOrder{}, false, true},
		{"zero quantity", SimOrder{Lines: []SimOrderLine{{Product: Product{ProductID: "1"}}}}, false, true},
		{"no product", SimOrder{Lines: []SimOrderLine{{Quantity: 1}}}, false, true},
		{"numeric id", SimOrder{ID: "42", Lines: ok}, true, false},
		{"non-numeric id where ids are numbers", SimOrder{ID: "A-1", Lines: ok}, true, true},
		{"any id where ids are text", SimOrder{ID: "A-1", Lines: ok}, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.in.Normalise(now, "paid", tc.numericID)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if err == nil && (!got.UpdatedAt.Equal(now) || got.UpdatedAt.Location() != time.UTC) {
				t.Errorf("UpdatedAt = %v, want %v in UTC", got.UpdatedAt, now)
			}
			if err == nil && got.Status != "paid" {
				t.Errorf("Status = %q, want the default", got.Status)
			}
		})
	}
}
