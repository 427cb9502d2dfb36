package shopify

import (
	"strings"
	"testing"

	"github.com/ponte-hub/ponte/internal/platform"
)

func TestNormaliseTarget(t *testing.T) {
	c := New(&memSecrets{}, Options{})
	tests := []struct {
		name      string
		in        platform.Target
		want      platform.Target
		wantField string
	}{
		{name: "numbers", in: platform.Target{SKU: "A", ProductID: "632910392", VariantID: "808950810"},
			want: platform.Target{SKU: "A", ProductID: "gid://shopify/Product/632910392", VariantID: "gid://shopify/ProductVariant/808950810"}},
		{name: "gids stay", in: platform.Target{SKU: "A", ProductID: "gid://shopify/Product/632910392", VariantID: "gid://shopify/ProductVariant/808950810"},
			want: platform.Target{SKU: "A", ProductID: "gid://shopify/Product/632910392", VariantID: "gid://shopify/ProductVariant/808950810"}},
		{name: "mixed with spaces", in: platform.Target{SKU: "A", ProductID: " 632910392 ", VariantID: "gid://shopify/ProductVariant/808950810"},
			want: platform.Target{SKU: "A", ProductID: "gid://shopify/Product/632910392", VariantID: "gid://shopify/ProductVariant/808950810"}},
		{name: "variant only", in: platform.Target{SKU: "A", VariantID: "808950810"},
			want: platform.Target{SKU: "A", VariantID: "gid://shopify/ProductVariant/808950810"}},
		{name: "product not a number", in: platform.Target{SKU: "A", ProductID: "ipod-nano", VariantID: "1"}, wantField: "product_id"},
		{name: "variant gid given as product", in: platform.Target{SKU: "A", ProductID: "gid://shopify/ProductVariant/1"}, wantField: "product_id"},
		{name: "product gid given as variant", in: platform.Target{SKU: "A", VariantID: "gid://shopify/Product/1"}, wantField: "variant_id"},
		{name: "negative variant", in: platform.Target{SKU: "A", VariantID: "-5"}, wantField: "variant_id"},
		{name: "other shop object", in: platform.Target{SKU: "A", VariantID: "gid://shopify/Order/5"}, wantField: "variant_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.NormaliseTarget(tt.in)
			if tt.wantField != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantField) || !strings.Contains(err.Error(), "sku A") {
					t.Fatalf("got %+v, %v; want an error naming %s", got, err, tt.wantField)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
			again, err := c.NormaliseTarget(got)
			if err != nil || again != got {
				t.Fatalf("not idempotent: %+v, %v", again, err)
			}
		})
	}
}

// TestNumericMappingMatchesWebhookLine: a mapping typed in the README's numeric form,
// once normalised, names exactly the product and variant of the order line a REST
// webhook (bare numbers) produces, and of the same line read back with GraphQL.
func TestNumericMappingMatchesWebhookLine(t *testing.T) {
	c := New(&memSecrets{}, Options{})
	m, err := c.NormaliseTarget(platform.Target{SKU: "LUM-PEND-CU", ProductID: "8800112233", VariantID: "46600112233"})
	if err != nil {
		t.Fatal(err)
	}
	o := verifyFixture(t, "orders_cancelled_2025.json", "orders/create")
	l := o.Lines[0]
	if l.SKU != m.SKU || l.ProductID != m.ProductID || l.VariantID != m.VariantID {
		t.Fatalf("line %s %s %s does not match mapping %+v", l.SKU, l.ProductID, l.VariantID, m)
	}
	g := gqlLines([]gqlLineJSON{{Quantity: "1", Variant: &struct {
		ID      flex `json:"id"`
		Barcode flex `json:"barcode"`
	}{ID: "gid://shopify/ProductVariant/46600112233"}, Product: &struct {
		ID flex `json:"id"`
	}{ID: "gid://shopify/Product/8800112233"}}})
	if g[0].product != m.ProductID || g[0].variant != m.VariantID {
		t.Fatalf("GraphQL line %+v does not match mapping %+v", g[0], m)
	}
}
