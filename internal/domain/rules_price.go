package domain

import (
	"fmt"

	"github.com/shopspring/decimal"
)

var priceHundred = decimal.NewFromInt(100)

// SellingPrice is the price a connection pushes, in the ERP price's currency:
//
//	price × (1 + MarkupPct/100) + FixedAdd, rounded half-up to cents, then, when
//	PriceEnding is set, raised to the smallest amount ≥ it whose fraction is the ending
//	(19.12 → 19.90, 19.90 → 19.90, 19.95 → 20.90 with an ending of .90).
//
// Rounding to cents before the ending keeps sub-cent noise from a markup on 4-decimal
// prices (19.9004) from jumping a whole unit. A result at or below zero is 0 and gets no
// ending: the hub must not invent a price out of nothing. An ending outside [0, 1)
// (Validate rejects it) is ignored.
func SellingPrice(r Rules, p PriceInfo) Money {
	amt := priceMarkup(r, p.Price.Amount)
	if e := r.PriceEnding; e != nil && amt.IsPositive() && !e.IsNegative() && e.LessThan(decimal.NewFromInt(1)) {
		c := amt.Floor().Add(*e)
		if c.LessThan(amt) {
			c = c.Add(decimal.NewFromInt(1))
		}
		amt = c
	}
	return Money{Amount: amt, Currency: p.Price.Currency}
}

// ListPrice is the "was" price a connection pushes: the ERP list price with the same
// markup and fixed add as the selling price, so the discount the merchant set in the ERP
// keeps its proportion, but no ending (a list price is not a shelf price). Nil when the
// ERP sent none.
func ListPrice(r Rules, p PriceInfo) *Money {
	if p.List == nil {
		return nil
	}
	return &Money{Amount: priceMarkup(r, p.List.Amount), Currency: p.List.Currency}
}

// CostPrice is the ERP cost, unchanged: it is what the merchant paid, not a selling
// price. Returned as a copy so a desired state never aliases the SKU state.
func CostPrice(p PriceInfo) *Money {
	if p.Cost == nil {
		return nil
	}
	c := *p.Cost
	return &c
}

// priceMarkup applies markup and fixed add, rounds half-up to cents, and floors at 0.
func priceMarkup(r Rules, amt decimal.Decimal) decimal.Decimal {
	factor := decimal.NewFromInt(1).Add(r.MarkupPct.Shift(-2))
	out := amt.Mul(factor).Add(r.FixedAdd).Round(2) // half away from zero = half-up here
	if !out.IsPositive() {
		return decimal.Zero
	}
	return out
}

// PriceDropError is the price-drop guard refusing a push; Error reads well for an operator.
type PriceDropError struct {
	Last    Money           // last pushed price
	Next    Money           // price that was about to be pushed
	DropPct decimal.Decimal // how far below Last, in percent
	MaxPct  decimal.Decimal // the connection's MaxPriceDropPct
}

func (e *PriceDropError) Error() string {
	return fmt.Sprintf("price %s is %s%% below the last pushed %s; the connection refuses drops over %s%%",
		e.Next, e.DropPct.StringFixed(1), e.Last, e.MaxPct.String())
}

// CheckPriceDrop returns a *PriceDropError when MaxPriceDropPct is set and next is
// strictly below last × (1 − pct/100); a drop of exactly pct passes. No check when the
// currencies differ (the amounts are not comparable and a currency switch is a
// deliberate reconfiguration) or when last is not positive (nothing to drop from).
func CheckPriceDrop(r Rules, last, next Money) error {
	if r.MaxPriceDropPct == nil || last.Currency != next.Currency || !last.Amount.IsPositive() {
		return nil
	}
	pct := *r.MaxPriceDropPct
	floor := last.Amount.Mul(decimal.NewFromInt(1).Sub(pct.Shift(-2)))
	if !next.Amount.LessThan(floor) {
		return nil
	}
	drop := last.Amount.Sub(next.Amount).Mul(priceHundred).Div(last.Amount)
	return &PriceDropError{Last: last, Next: next, DropPct: drop, MaxPct: pct}
}
