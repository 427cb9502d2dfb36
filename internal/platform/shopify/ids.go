package shopify

import (
	"fmt"

	"github.com/ponte-hub/ponte/internal/platform"
)

var _ platform.TargetNormaliser = (*Connector)(nil)

// NormaliseTarget puts a mapping's ids into the GID form ("gid://shopify/Product/N",
// "gid://shopify/ProductVariant/N") that order lines (REST webhooks carry bare numbers,
// which the connector turns into GIDs; GraphQL reads carry GIDs) and the catalogue use,
// so a mapping typed as "632910392" matches an order line of that product. The push
// side accepts both forms anyway. An empty id stays empty: a stock-only mapping needs
// no product id.
func (c *Connector) NormaliseTarget(t platform.Target) (platform.Target, error) {
	out := t
	if t.ProductID != "" {
		g, ok := toGID("Product", t.ProductID)
		if !ok {
			return t, fmt.Errorf("sku %s: product_id %q is neither a Shopify product number nor a gid://shopify/Product/ id", t.SKU, truncate(t.ProductID, 80))
		}
		out.ProductID = g
	}
	if t.VariantID != "" {
		g, ok := toGID("ProductVariant", t.VariantID)
		if !ok {
			return t, fmt.Errorf("sku %s: variant_id %q is neither a Shopify variant number nor a gid://shopify/ProductVariant/ id", t.SKU, truncate(t.VariantID, 80))
		}
		out.VariantID = g
	}
	return out, nil
}
