package domain

import (
	"errors"
	"fmt"
	"strings"

	"github.com/shopspring/decimal"
)

// RuleError is one bad connection rule, named by its JSON field so an API answer can
// point at it.
type RuleError struct {
	Field   string
	Problem string
}

func (e *RuleError) Error() string { return "rules." + e.Field + ": " + e.Problem }

// Validate checks every rule and returns all problems at once (errors.Join of
// *RuleError), or nil. The rule functions stay total on bad values anyway.
func (r Rules) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &RuleError{Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	switch r.SyncMode {
	case "", SyncFull, SyncPriceStock:
	default:
		bad("sync_mode", "unknown mode %q (want %q or %q)", r.SyncMode, SyncFull, SyncPriceStock)
	}
	switch r.PriceSource {
	case "", PriceFromERP, PriceFromPlatform:
	default:
		bad("price_source", "unknown source %q (want %q or %q)", r.PriceSource, PriceFromERP, PriceFromPlatform)
	}
	if r.MarkupPct.LessThan(decimal.NewFromInt(-100)) {
		bad("markup_pct", "%s is below -100 (the price would turn negative)", r.MarkupPct)
	}
	if e := r.PriceEnding; e != nil && (e.IsNegative() || !e.LessThan(decimal.NewFromInt(1))) {
		bad("price_ending", "%s is outside [0, 1); give only the cents, e.g. 0.90", e)
	}
	validatePct(r.MaxPriceDropPct, "max_price_drop_pct", bad)
	validatePct(r.StockPct, "stock_pct", bad)
	if r.SafetyStock < 0 {
		bad("safety_stock", "%d is negative", r.SafetyStock)
	}
	if r.MaxListed != nil && *r.MaxListed < 0 {
		bad("max_listed", "%d is negative", *r.MaxListed)
	}
	for i, w := range r.Warehouses {
		if strings.TrimSpace(w) == "" {
			bad(fmt.Sprintf("warehouses[%d]", i), "is blank")
		}
	}
	return errors.Join(errs...)
}

func validatePct(p *decimal.Decimal, field string, bad func(string, string, ...any)) {
	if p != nil && (p.IsNegative() || p.GreaterThan(decimal.NewFromInt(100))) {
		bad(field, "%s is outside 0..100", p)
	}
}
