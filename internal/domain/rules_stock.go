package domain

import (
	"math"

	"github.com/shopspring/decimal"
)

// Available is the quantity a connection lists for a SKU. Order of operations:
//
//  1. base = Σ on-hand of the selected warehouses (all when Rules.Warehouses is empty;
//     a selected warehouse the ERP never reported adds nothing; a negative level counts
//     as 0, so an ERP's oversold warehouse cannot hide stock held in another one);
//  2. base −= open reservations (all connections: a sale anywhere holds stock for every
//     channel until the ERP registers it) and −= SafetyStock; below 0 becomes 0;
//  3. StockPct lists floor(pct% of base): it hedges what is left after safety stock;
//  4. MaxListed caps the result last, so it is a hard ceiling.
//
// Out-of-range rules (which Validate rejects) are clamped so the result always lies
// in [0, base]. Sums saturate instead of overflowing.
func Available(r Rules, st SKUState) int64 {
	var base int64
	if len(r.Warehouses) == 0 {
		for _, lvl := range st.Stock {
			base = stockSatAdd(base, max(lvl.Quantity, 0))
		}
	} else {
		for _, w := range stockSelected(r.Warehouses) {
			if lvl, ok := st.Stock[w]; ok {
				base = stockSatAdd(base, max(lvl.Quantity, 0))
			}
		}
	}
	base -= max(st.ReservedQuantity(), 0) // both sides ≥ 0: cannot overflow
	base -= max(r.SafetyStock, 0)
	if base <= 0 {
		return 0
	}
	if r.StockPct != nil {
		pct := decimal.Min(decimal.Max(*r.StockPct, decimal.Zero), decimal.NewFromInt(100))
		// Shift(-2) divides by 100 exactly; Floor rounds down as documented.
		base = decimal.NewFromInt(base).Mul(pct).Shift(-2).Floor().IntPart()
	}
	if r.MaxListed != nil && base > *r.MaxListed {
		base = max(*r.MaxListed, 0)
	}
	return base
}

// stockSelected dedups the selected warehouses, so listing one twice cannot double it.
func stockSelected(ws []string) []string {
	out := make([]string, 0, len(ws))
	seen := make(map[string]bool, len(ws))
	for _, w := range ws {
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// stockSatAdd adds two non-negative quantities, saturating at MaxInt64.
func stockSatAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
