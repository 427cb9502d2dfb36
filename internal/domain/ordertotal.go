package domain

import (
	"fmt"

	"github.com/shopspring/decimal"
)

// totalTolerance absorbs per-line rounding that platforms do before summing.
var totalTolerance = decimal.New(1, -2)

// ExpectedTotal is what the order's parts add up to: Σ unit price × quantity − discount +
// shipping + fees, plus tax unless prices already include it.
func (o Order) ExpectedTotal() decimal.Decimal {
	sum := decimal.Zero
	for _, l := range o.Lines {
		sum = sum.Add(l.UnitPrice.Amount.Mul(decimal.NewFromInt(l.Quantity)))
	}
	sum = sum.Sub(o.Discount.Amount).Add(o.ShippingCost.Amount)
	if o.Fees != nil {
		sum = sum.Add(o.Fees.Amount)
	}
	if o.Tax != nil && !o.TaxesIncluded {
		sum = sum.Add(o.Tax.Amount)
	}
	return sum
}

// CheckTotal says how Total differs from its parts, or "" when they agree within a cent.
// A platform's total is never replaced: the ERP gets what the buyer was charged, and the
// difference is shown so nobody has to find it by hand.
func (o Order) CheckTotal() string {
	want := o.ExpectedTotal()
	if o.Total.Amount.Sub(want).Abs().LessThanOrEqual(totalTolerance) {
		return ""
	}
	tax := "0"
	if o.Tax != nil {
		tax = o.Tax.Amount.String()
		if o.TaxesIncluded {
			tax += " (included)"
		}
	}
	fees := "0"
	if o.Fees != nil {
		fees = o.Fees.Amount.String()
	}
	lines := want.Add(o.Discount.Amount).Sub(o.ShippingCost.Amount)
	if o.Fees != nil {
		lines = lines.Sub(o.Fees.Amount)
	}
	if o.Tax != nil && !o.TaxesIncluded {
		lines = lines.Sub(o.Tax.Amount)
	}
	return fmt.Sprintf("total %s differs from its parts %s by %s (lines %s − discount %s + shipping %s + tax %s + fees %s)",
		o.Total.Amount.String(), want.String(), o.Total.Amount.Sub(want).String(), lines.String(),
		o.Discount.Amount.String(), o.ShippingCost.Amount.String(), tax, fees)
}
