package domain

import (
	"errors"
	"strings"
	"testing"
)

func TestRulesValidate(t *testing.T) {
	tests := []struct {
		name   string
		r      Rules
		fields []string // RuleError fields expected, in order; none means valid
	}{
		{"zero value", Rules{}, nil},
		{"all valid", Rules{SyncMode: SyncPriceStock, PriceSource: PriceFromPlatform, MarkupPct: rulesDec("-100"),
			PriceEnding: rulesPct("0.99"), MaxPriceDropPct: rulesPct("100"), StockPct: rulesPct("0"),
			SafetyStock: 0, MaxListed: rulesInt(0), Warehouses: []string{"A"}}, nil},
		{"ending zero", Rules{PriceEnding: rulesPct("0")}, nil},
		{"sync mode", Rules{SyncMode: "partial"}, []string{"sync_mode"}},
		{"price source", Rules{PriceSource: "ERP "}, []string{"price_source"}},
		{"markup below -100", Rules{MarkupPct: rulesDec("-100.01")}, []string{"markup_pct"}},
		{"ending 1", Rules{PriceEnding: rulesPct("1")}, []string{"price_ending"}},
		{"ending 90 cents as integer", Rules{PriceEnding: rulesPct("90")}, []string{"price_ending"}},
		{"ending negative", Rules{PriceEnding: rulesPct("-0.1")}, []string{"price_ending"}},
		{"drop pct over 100", Rules{MaxPriceDropPct: rulesPct("100.5")}, []string{"max_price_drop_pct"}},
		{"drop pct negative", Rules{MaxPriceDropPct: rulesPct("-1")}, []string{"max_price_drop_pct"}},
		{"stock pct over 100", Rules{StockPct: rulesPct("101")}, []string{"stock_pct"}},
		{"stock pct negative", Rules{StockPct: rulesPct("-0.5")}, []string{"stock_pct"}},
		{"safety stock", Rules{SafetyStock: -1}, []string{"safety_stock"}},
		{"max listed", Rules{MaxListed: rulesInt(-1)}, []string{"max_listed"}},
		{"blank warehouse", Rules{Warehouses: []string{"A", " "}}, []string{"warehouses[1]"}},
		{"several at once", Rules{SyncMode: "x", SafetyStock: -1, StockPct: rulesPct("200")},
			[]string{"sync_mode", "stock_pct", "safety_stock"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.r.Validate()
			var got []string
			if err != nil {
				for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
					var re *RuleError
					if !errors.As(e, &re) {
						t.Fatalf("not a *RuleError: %v", e)
					}
					if !strings.Contains(err.Error(), "rules."+re.Field+": ") {
						t.Fatalf("message %q does not name %s", err, re.Field)
					}
					got = append(got, re.Field)
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.fields, ",") {
				t.Fatalf("fields = %v, want %v (err %v)", got, tc.fields, err)
			}
		})
	}
}
