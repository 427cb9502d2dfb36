package domain

import (
	"math"
	"math/rand"
	"slices"
	"testing"

	"github.com/shopspring/decimal"
)

func rulesPct(s string) *decimal.Decimal { d := decimal.RequireFromString(s); return &d }
func rulesInt(n int64) *int64            { return &n }

func rulesStockState(res int64, levels map[string]int64) SKUState {
	st := SKUState{Stock: map[string]StockLevel{}}
	for w, q := range levels {
		st.Stock[w] = StockLevel{Warehouse: w, Quantity: q}
	}
	if res != 0 {
		st.Reservations = map[string]Reservation{"o1": {OrderKey: "o1", Quantity: res}}
	}
	return st
}

func TestAvailable(t *testing.T) {
	levels := map[string]int64{"A": 10, "B": 5, "C": 3}
	tests := []struct {
		name   string
		r      Rules
		res    int64
		levels map[string]int64
		want   int64
	}{
		{"all warehouses", Rules{}, 0, levels, 18},
		{"selected warehouses", Rules{Warehouses: []string{"A", "C"}}, 0, levels, 13},
		{"unknown warehouse adds nothing", Rules{Warehouses: []string{"A", "Z"}}, 0, levels, 10},
		{"only unknown warehouses", Rules{Warehouses: []string{"Z"}}, 0, levels, 0},
		{"duplicate selection counts once", Rules{Warehouses: []string{"A", "A"}}, 0, levels, 10},
		{"no stock at all", Rules{}, 0, nil, 0},
		{"reservations", Rules{}, 4, levels, 14},
		{"reservations exceed stock", Rules{}, 30, levels, 0},
		{"safety stock", Rules{SafetyStock: 8}, 0, levels, 10},
		{"reservations and safety exactly zero", Rules{SafetyStock: 8}, 10, levels, 0},
		{"negative warehouse counts as zero", Rules{}, 0, map[string]int64{"A": -7, "B": 5}, 5},
		{"pct 80 floors", Rules{StockPct: rulesPct("80")}, 0, levels, 14}, // 14.4
		{"pct 50 of 1 is 0", Rules{StockPct: rulesPct("50")}, 0, map[string]int64{"A": 1}, 0},
		{"pct 33.3", Rules{StockPct: rulesPct("33.3")}, 0, levels, 5}, // 5.994
		{"pct 100", Rules{StockPct: rulesPct("100")}, 0, levels, 18},
		{"pct 0", Rules{StockPct: rulesPct("0")}, 0, levels, 0},
		{"pct after reservations and safety", Rules{StockPct: rulesPct("50"), SafetyStock: 2}, 4, levels, 6},
		{"cap", Rules{MaxListed: rulesInt(7)}, 0, levels, 7},
		{"cap above available", Rules{MaxListed: rulesInt(50)}, 0, levels, 18},
		{"cap zero", Rules{MaxListed: rulesInt(0)}, 0, levels, 0},
		{"cap after pct", Rules{StockPct: rulesPct("50"), MaxListed: rulesInt(8)}, 0, levels, 8},
		{"pct under cap", Rules{StockPct: rulesPct("10"), MaxListed: rulesInt(8)}, 0, levels, 1},
		{"invalid pct above 100 clamps", Rules{StockPct: rulesPct("150")}, 0, levels, 18},
		{"invalid negatives clamp", Rules{SafetyStock: -5, MaxListed: rulesInt(-1)}, -3, levels, 0},
		{"invalid negative safety ignored", Rules{SafetyStock: -5}, 0, levels, 18},
		{"sum saturates", Rules{}, 0, map[string]int64{"A": math.MaxInt64, "B": math.MaxInt64}, math.MaxInt64},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Available(tc.r, rulesStockState(tc.res, tc.levels)); got != tc.want {
				t.Fatalf("Available = %d, want %d", got, tc.want)
			}
		})
	}
}

// Property: whatever the inputs, valid or not, the result is within [0, cap] and never
// more than the selected positive stock.
func TestAvailableNeverNegative(t *testing.T) {
	rng := rand.New(rand.NewSource(42))
	names := []string{"A", "B", "C", "D"}
	q := func() int64 {
		switch rng.Intn(6) {
		case 0:
			return math.MaxInt64 - rng.Int63n(10)
		case 1:
			return math.MinInt64 + rng.Int63n(10)
		default:
			return rng.Int63n(2000) - 500
		}
	}
	for i := 0; i < 20000; i++ {
		st := SKUState{Stock: map[string]StockLevel{}, Reservations: map[string]Reservation{}}
		var selectedPos int64
		var r Rules
		for _, w := range names {
			if rng.Intn(3) > 0 {
				st.Stock[w] = StockLevel{Quantity: q()}
			}
			if rng.Intn(2) == 0 {
				r.Warehouses = append(r.Warehouses, w)
			}
		}
		for j := 0; j < rng.Intn(4); j++ {
			st.Reservations[string(rune('a'+j))] = Reservation{Quantity: rng.Int63n(300) - 50}
		}
		r.SafetyStock = rng.Int63n(100) - 20
		if rng.Intn(2) == 0 {
			p := decimal.NewFromInt(rng.Int63n(160) - 30).Add(decimal.New(rng.Int63n(100), -2))
			r.StockPct = &p
		}
		if rng.Intn(2) == 0 {
			r.MaxListed = rulesInt(rng.Int63n(200) - 20)
		}
		for w, lvl := range st.Stock {
			if (len(r.Warehouses) == 0 || slices.Contains(r.Warehouses, w)) && lvl.Quantity > 0 {
				selectedPos = stockSatAdd(selectedPos, lvl.Quantity)
			}
		}
		got := Available(r, st)
		if got < 0 || got > selectedPos || (r.MaxListed != nil && got > max(*r.MaxListed, 0)) {
			t.Fatalf("case %d: Available = %d (selected %d) for rules %+v state %+v", i, got, selectedPos, r, st)
		}
	}
}
