package domain

import (
	"fmt"
	"strings"

	"github.com/shopspring/decimal"
)

// MaxMoneyDecimals is the most fractional digits accepted for an amount.
const MaxMoneyDecimals = 4

// Money is a decimal amount in one currency. Never a float.
type Money struct {
	Amount   decimal.Decimal `json:"amount"`
	Currency string          `json:"currency"`
}

// NewMoney parses a decimal string such as "19.90" in the given currency.
func NewMoney(amount, currency string) (Money, error) {
	d, err := ParseAmount(amount)
	if err != nil {
		return Money{}, err
	}
	return Money{Amount: d, Currency: strings.ToUpper(currency)}, nil
}

// MustMoney is NewMoney for literals in tests and demo data; it panics on a bad literal.
func MustMoney(amount, currency string) Money {
	m, err := NewMoney(amount, currency)
	if err != nil {
		panic(err)
	}
	return m
}

// ParseAmount parses a non-negative decimal with at most MaxMoneyDecimals fractional digits.
func ParseAmount(s string) (decimal.Decimal, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return decimal.Decimal{}, fmt.Errorf("empty amount")
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Decimal{}, fmt.Errorf("not a decimal number: %q", s)
	}
	if d.IsNegative() {
		return decimal.Decimal{}, fmt.Errorf("negative amount %s", s)
	}
	if -d.Exponent() > MaxMoneyDecimals && !d.Equal(d.Round(MaxMoneyDecimals)) {
		return decimal.Decimal{}, fmt.Errorf("more than %d decimals: %s", MaxMoneyDecimals, s)
	}
	return d, nil
}

// Equal reports whether two amounts are the same value in the same currency.
func (m Money) Equal(o Money) bool {
	return m.Currency == o.Currency && m.Amount.Equal(o.Amount)
}

// String renders "19.90 BRL".
func (m Money) String() string {
	return m.Amount.StringFixed(2) + " " + m.Currency
}

// MoneyPtrEqual compares optional amounts.
func MoneyPtrEqual(a, b *Money) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}
