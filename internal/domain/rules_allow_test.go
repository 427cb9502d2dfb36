package domain

import (
	"slices"
	"testing"
)

func TestRulesAllows(t *testing.T) {
	p := &Product{SKU: "AB-1", EAN: "7891234567895", AdditionalCodes: []string{"SITE-9", " old-7 "}}
	tests := []struct {
		name  string
		list  []string
		p     *Product
		sku   string
		allow bool
	}{
		{"empty list allows all", nil, p, "AB-1", true},
		{"empty list allows unknown product", nil, nil, "X", true},
		{"by sku", []string{"ZZ", "AB-1"}, p, "AB-1", true},
		{"by sku trimmed", []string{"  AB-1 "}, p, "AB-1", true},
		{"sku is case-sensitive", []string{"ab-1"}, p, "AB-1", false},
		{"by state sku without product", []string{"AB-1"}, nil, "AB-1", true},
		{"by product sku when key differs", []string{"AB-1"}, p, "other-key", true},
		{"by ean", []string{"7891234567895"}, p, "AB-1", true},
		{"ean with separators", []string{"789-1234 567895"}, p, "AB-1", true},
		{"ean leading zero is not equal", []string{"07891234567895"}, p, "AB-1", false},
		{"ean prefix is not equal", []string{"789123456789"}, p, "AB-1", false},
		{"by additional code", []string{"SITE-9"}, p, "AB-1", true},
		{"additional code trimmed", []string{"old-7"}, p, "AB-1", true},
		{"additional code case-sensitive", []string{"site-9"}, p, "AB-1", false},
		{"not listed", []string{"CD-2", "1234"}, p, "AB-1", false},
		{"only blank entries allow nothing", []string{" ", ""}, p, "AB-1", false},
		{"blank entry never matches blank ean", []string{" "}, &Product{SKU: "X"}, "X", false},
		{"non-digit entry never matches as ean", []string{"abc"}, &Product{SKU: "X", EAN: "abc"}, "X", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := (Rules{Allowlist: tc.list}).Allows(tc.p, tc.sku); got != tc.allow {
				t.Fatalf("Allows = %v, want %v", got, tc.allow)
			}
		})
	}
}

func TestParseAllowlist(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{" , ,, ", nil},
		{"AB-1", []string{"AB-1"}},
		{" AB-1 , 7891234567895,AB-1 ,, cd", []string{"AB-1", "7891234567895", "cd"}},
		{"a;b\nc\r\nd", []string{"a", "b", "c", "d"}},
		{"a,A", []string{"a", "A"}},
	}
	for _, tc := range tests {
		if got := ParseAllowlist(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("ParseAllowlist(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
