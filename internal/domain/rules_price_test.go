package domain

import (
	"errors"
	"testing"

	"github.com/shopspring/decimal"
)

func rulesDec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func TestSellingPrice(t *testing.T) {
	tests := []struct {
		name  string
		r     Rules
		price string
		want  string
	}{
		{"no rules", Rules{}, "19.90", "19.90"},
		{"4 decimals round down", Rules{}, "19.1234", "19.12"},
		{"half-up at the half cent", Rules{}, "10.005", "10.01"},
		{"just under the half cent", Rules{}, "10.0049", "10.00"},
		{"markup 10%", Rules{MarkupPct: rulesDec("10")}, "100", "110.00"},
		{"markup on 4 decimals", Rules{MarkupPct: rulesDec("10")}, "19.1234", "21.04"}, // 21.03574
		{"fractional markup", Rules{MarkupPct: rulesDec("12.5")}, "9.9999", "11.25"},   // 11.2498875
		{"markup then fixed add", Rules{MarkupPct: rulesDec("10"), FixedAdd: rulesDec("2.5")}, "100", "112.50"},
		{"negative markup", Rules{MarkupPct: rulesDec("-20")}, "50", "40.00"},
		{"ending .90 raises", Rules{PriceEnding: rulesPct("0.90")}, "19.12", "19.90"},
		{"ending .90 exact boundary", Rules{PriceEnding: rulesPct("0.90")}, "19.90", "19.90"},
		{"ending .90 one cent under", Rules{PriceEnding: rulesPct("0.90")}, "19.89", "19.90"},
		{"ending .90 carries to next unit", Rules{PriceEnding: rulesPct("0.90")}, "19.95", "20.90"},
		{"ending .90 one cent over", Rules{PriceEnding: rulesPct("0.90")}, "19.91", "20.90"},
		{"ending .90 carry across tens", Rules{PriceEnding: rulesPct("0.90")}, "99.95", "100.90"},
		{"ending .99 exact", Rules{PriceEnding: rulesPct("0.99")}, "19.99", "19.99"},
		{"ending .99 on whole", Rules{PriceEnding: rulesPct("0.99")}, "20", "20.99"},
		{"ending .00 rounds up to unit", Rules{PriceEnding: rulesPct("0")}, "19.01", "20.00"},
		{"ending .00 on whole", Rules{PriceEnding: rulesPct("0")}, "19.00", "19.00"},
		{"sub-cent noise does not jump a unit", Rules{PriceEnding: rulesPct("0.90")}, "19.9004", "19.90"},
		{"half cent rounds up before ending", Rules{PriceEnding: rulesPct("0.90")}, "19.905", "20.90"},
		{"markup then ending", Rules{MarkupPct: rulesDec("30"), PriceEnding: rulesPct("0.90")}, "10", "13.90"},
		{"markup rounds past the ending", Rules{MarkupPct: rulesDec("10"), PriceEnding: rulesPct("0.99")}, "18.1799", "20.99"}, // 19.99789 -> 20.00
		{"markup lands on the ending", Rules{MarkupPct: rulesDec("10"), PriceEnding: rulesPct("0.99")}, "18.1727", "19.99"},    // 19.98997 -> 19.99
		{"markup -100 is zero, no ending", Rules{MarkupPct: rulesDec("-100"), PriceEnding: rulesPct("0.90")}, "10", "0"},
		{"negative result floors at zero", Rules{FixedAdd: rulesDec("-15")}, "10", "0"},
		{"zero price stays zero", Rules{PriceEnding: rulesPct("0.90")}, "0", "0"},
		{"invalid ending ignored", Rules{PriceEnding: rulesPct("1.5")}, "19.12", "19.12"},
		{"negative ending ignored", Rules{PriceEnding: rulesPct("-0.1")}, "19.12", "19.12"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := SellingPrice(tc.r, PriceInfo{Price: MustMoney(tc.price, "BRL")})
			if !got.Equal(MustMoney(tc.want, "BRL")) {
				t.Fatalf("SellingPrice(%s) = %s, want %s", tc.price, got, tc.want)
			}
		})
	}
}

func TestSellingPriceKeepsCurrency(t *testing.T) {
	got := SellingPrice(Rules{MarkupPct: rulesDec("10")}, PriceInfo{Price: MustMoney("10", "eur")})
	if got.Currency != "EUR" || got.String() != "11.00 EUR" {
		t.Fatalf("got %s", got)
	}
}

func TestListAndCostPrice(t *testing.T) {
	cost, list := MustMoney("7.1234", "BRL"), MustMoney("25.12", "BRL")
	p := PriceInfo{Price: MustMoney("19.12", "BRL"), Cost: &cost, List: &list}
	r := Rules{MarkupPct: rulesDec("10"), FixedAdd: rulesDec("1"), PriceEnding: rulesPct("0.90")}

	if got := ListPrice(r, p); got == nil || !got.Equal(MustMoney("28.63", "BRL")) { // 27.632 + 1, no ending
		t.Fatalf("ListPrice = %v, want 28.63 BRL", got)
	}
	if got := ListPrice(r, PriceInfo{Price: p.Price}); got != nil {
		t.Fatalf("ListPrice without list = %v, want nil", got)
	}
	got := CostPrice(p)
	if got == nil || !got.Equal(cost) || got == p.Cost {
		t.Fatalf("CostPrice = %v (%p), want an unchanged copy of %v (%p)", got, got, cost, p.Cost)
	}
	if CostPrice(PriceInfo{}) != nil {
		t.Fatal("CostPrice without cost should be nil")
	}
}

func TestCheckPriceDrop(t *testing.T) {
	brl := func(s string) Money { return MustMoney(s, "BRL") }
	tests := []struct {
		name       string
		pct        *decimal.Decimal
		last, next Money
		refused    bool
	}{
		{"no guard", nil, brl("100"), brl("1"), false},
		{"rise", rulesPct("30"), brl("100"), brl("150"), false},
		{"same", rulesPct("30"), brl("100"), brl("100"), false},
		{"drop within", rulesPct("30"), brl("100"), brl("80"), false},
		{"drop exactly at the limit", rulesPct("30"), brl("100"), brl("70"), false},
		{"one cent past the limit", rulesPct("30"), brl("100"), brl("69.99"), true},
		{"big drop", rulesPct("30"), brl("100"), brl("50"), true},
		{"fractional limit boundary", rulesPct("12.5"), brl("19.90"), brl("17.4125"), false},
		{"fractional limit past", rulesPct("12.5"), brl("19.90"), brl("17.41"), true},
		{"zero pct refuses any drop", rulesPct("0"), brl("100"), brl("99.99"), true},
		{"zero pct allows equal", rulesPct("0"), brl("100"), brl("100"), false},
		{"100 pct allows zero", rulesPct("100"), brl("100"), brl("0"), false},
		{"currency differs", rulesPct("30"), brl("100"), MustMoney("1", "USD"), false},
		{"nothing pushed before", rulesPct("30"), brl("0"), brl("10"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckPriceDrop(Rules{MaxPriceDropPct: tc.pct}, tc.last, tc.next)
			if (err != nil) != tc.refused {
				t.Fatalf("CheckPriceDrop = %v, refused want %v", err, tc.refused)
			}
			var pe *PriceDropError
			if err != nil && (!errors.As(err, &pe) || !pe.Last.Equal(tc.last) || !pe.Next.Equal(tc.next)) {
				t.Fatalf("error %#v does not carry the prices", err)
			}
		})
	}
}

func TestPriceDropErrorMessage(t *testing.T) {
	err := CheckPriceDrop(Rules{MaxPriceDropPct: rulesPct("30")}, MustMoney("100", "BRL"), MustMoney("50", "BRL"))
	want := "price 50.00 BRL is 50.0% below the last pushed 100.00 BRL; the connection refuses drops over 30%"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	var pe *PriceDropError
	if !errors.As(err, &pe) || !pe.DropPct.Equal(rulesDec("50")) || !pe.MaxPct.Equal(rulesDec("30")) {
		t.Fatalf("fields: %+v", pe)
	}
}

// FuzzSellingPrice: any parsable price and rules (valid or not) must neither panic nor
// produce a negative amount, keep the currency, and honour a valid ending.
func FuzzSellingPrice(f *testing.F) {
	f.Add("19.12", "0", "0", "0.90")
	f.Add("19.95", "10", "2.5", "0.99")
	f.Add("0.0001", "-100", "-1", "0")
	f.Add("123456.7891", "-250", "3", "1.5")
	f.Add("10", "33.3333", "-0.005", "")
	f.Fuzz(func(t *testing.T, price, markup, fixed, ending string) {
		pr, err := ParseAmount(price)
		if err != nil || rulesFuzzHuge(pr) {
			return
		}
		var r Rules
		for _, in := range []struct {
			s   string
			dst *decimal.Decimal
		}{{markup, &r.MarkupPct}, {fixed, &r.FixedAdd}} {
			if d, err := decimal.NewFromString(in.s); err == nil && !rulesFuzzHuge(d) {
				*in.dst = d
			}
		}
		if e, err := decimal.NewFromString(ending); err == nil && !rulesFuzzHuge(e) {
			r.PriceEnding = &e
		}
		got := SellingPrice(r, PriceInfo{Price: Money{Amount: pr, Currency: "BRL"}})
		if got.Amount.IsNegative() || got.Currency != "BRL" {
			t.Fatalf("SellingPrice(%s, %+v) = %s", pr, r, got)
		}
		if r.Validate() == nil && r.PriceEnding != nil && got.Amount.IsPositive() {
			if frac := got.Amount.Sub(got.Amount.Floor()); !frac.Equal(*r.PriceEnding) {
				t.Fatalf("SellingPrice(%s, %+v) = %s: fraction %s, want %s", pr, r, got, frac, r.PriceEnding)
			}
		}
	})
}

// rulesFuzzHuge skips absurd magnitudes ("1e999999999") that only measure big-int speed.
func rulesFuzzHuge(d decimal.Decimal) bool {
	return d.Exponent() < -12 || d.Exponent() > 12 || d.Abs().GreaterThan(decimal.New(1, 15))
}
