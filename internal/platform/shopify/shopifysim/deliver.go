package shopifysim

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ponte-hub/ponte/internal/platform/platformsim"
)

// DeliverOrder sends a REST order body (the object an orders/* webhook carries, e.g. a
// sample Shopify publishes) verbatim as a delivery of topic (orders/create,
// orders/updated, ...), signed with X-Shopify-Hmac-Sha256 under the store's
// webhook_secret, with the headers Shopify sends. It also stores the order in GraphQL
// shape, so order(id:), the orders poll and write-backs find it; an order already
// stored keeps its fulfilment orders.
func (k *Kit) DeliverOrder(shop, topic string, body []byte) (platformsim.Delivery, error) {
	st := k.Server.store(shop)
	if st == nil {
		return platformsim.Delivery{}, fmt.Errorf("shopifysim: no shop %q", shop)
	}
	if !strings.HasPrefix(topic, "orders/") {
		return platformsim.Delivery{}, fmt.Errorf("shopifysim: topic %q is not an orders/* topic", topic)
	}
	gql, err := graphQLFromREST(body)
	if err != nil {
		return platformsim.Delivery{}, err
	}
	gid, _ := gql["id"].(string)
	st.data.Lock()
	if st.orders[gid] != nil {
		st.orders[gid] = gql
		st.data.Unlock()
	} else {
		st.data.Unlock()
		b, err := json.Marshal(gql)
		if err != nil {
			return platformsim.Delivery{}, fmt.Errorf("shopifysim: order %s: %w", gid, err)
		}
		if err := k.Server.AddOrder(shop, b); err != nil {
			return platformsim.Delivery{}, err
		}
	}
	at, _ := gql["updatedAt"].(string)
	triggered, err := time.Parse(time.RFC3339, at)
	if err != nil {
		triggered = k.Server.opts.Now()
	}
	id := gid[strings.LastIndexByte(gid, '/')+1:]
	m := hmac.New(sha256.New, []byte(webhookSecret(shop)))
	m.Write(body)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-Shopify-Hmac-Sha256", base64.StdEncoding.EncodeToString(m.Sum(nil)))
	h.Set("X-Shopify-Topic", topic)
	h.Set("X-Shopify-Shop-Domain", shop+".myshopify.com")
	h.Set("X-Shopify-Api-Version", "2025-01")
	h.Set("X-Shopify-Event-Id", fmt.Sprintf("%s-%s-%d", topic, id, triggered.UnixNano()))
	h.Set("X-Shopify-Webhook-Id", fmt.Sprintf("wh-%s-%d", id, triggered.UnixNano()))
	h.Set("X-Shopify-Triggered-At", triggered.UTC().Format(time.RFC3339Nano))
	return platformsim.Delivery{Header: h, Query: url.Values{}, Body: body}, nil
}

// graphQLFromREST maps a REST order resource to the GraphQL shape order(id:) returns,
// field by field as Shopify documents the two (money as shopMoney sets, enums upper
// case, addresses in camelCase).
func graphQLFromREST(body []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber() // ids beyond 2^53 stay exact
	var r map[string]any
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("shopifysim: order body is not a JSON object: %w", err)
	}
	id := text(r["id"])
	if id == "" || !digitsOnly(id) {
		return nil, fmt.Errorf("shopifysim: order body has no numeric id (a {\"order\": ...} wrapper must be removed first)")
	}
	currency := text(r["currency"])
	money := func(v any) any {
		if text(v) == "" {
			return nil
		}
		return map[string]any{"shopMoney": map[string]any{"amount": text(v), "currencyCode": currency}}
	}
	shopAmount := func(set any) any {
		s, _ := set.(map[string]any)
		sm, _ := s["shop_money"].(map[string]any)
		return money(sm["amount"])
	}
	g := map[string]any{
		"id": "gid://shopify/Order/" + id, "legacyResourceId": id, "name": text(r["name"]),
		"email": text(r["email"]), "phone": r["phone"], "currencyCode": currency,
		"createdAt": r["created_at"], "updatedAt": r["updated_at"], "cancelledAt": r["cancelled_at"],
		"displayFinancialStatus":   strings.ToUpper(text(r["financial_status"])),
		"displayFulfillmentStatus": strings.ToUpper(text(r["fulfillment_status"])),
		"note":                     r["note"], "taxesIncluded": r["taxes_included"] == true,
		"totalPriceSet": money(r["total_price"]), "totalDiscountsSet": money(r["total_discounts"]),
		"totalTaxSet": money(r["total_tax"]), "totalShippingPriceSet": shopAmount(r["total_shipping_price_set"]),
	}
	if g["displayFulfillmentStatus"] == "" {
		g["displayFulfillmentStatus"] = "UNFULFILLED"
	}
	gateways := []any{}
	if gw, ok := r["payment_gateway_names"].([]any); ok && len(gw) > 0 {
		gateways = gw
	} else if s := text(r["gateway"]); s != "" {
		gateways = []any{s}
	}
	g["paymentGatewayNames"] = gateways
	codes := []any{}
	if dcs, ok := r["discount_codes"].([]any); ok {
		for _, dc := range dcs {
			m, _ := dc.(map[string]any)
			codes = append(codes, text(m["code"]))
		}
	}
	g["discountCodes"] = codes
	attrs := []any{}
	if nas, ok := r["note_attributes"].([]any); ok {
		for _, na := range nas {
			m, _ := na.(map[string]any)
			attrs = append(attrs, map[string]any{"key": text(m["name"]), "value": text(m["value"])})
		}
	}
	g["customAttributes"] = attrs
	if sls, ok := r["shipping_lines"].([]any); ok && len(sls) > 0 {
		m, _ := sls[0].(map[string]any)
		g["shippingLine"] = map[string]any{"title": text(m["title"])}
		if g["totalShippingPriceSet"] == nil {
			g["totalShippingPriceSet"] = money(m["price"])
		}
	}
	g["billingAddress"] = gqlAddress(r["billing_address"])
	g["shippingAddress"] = gqlAddress(r["shipping_address"])
	if cu, ok := r["customer"].(map[string]any); ok {
		g["customer"] = map[string]any{"id": "gid://shopify/Customer/" + text(cu["id"]), "firstName": cu["first_name"],
			"lastName": cu["last_name"], "email": cu["email"], "phone": cu["phone"], "defaultAddress": gqlAddress(cu["default_address"])}
	}
	var nodes []any
	lines, _ := r["line_items"].([]any)
	for _, l := range lines {
		m, _ := l.(map[string]any)
		var allocs, taxes []any
		if das, ok := m["discount_allocations"].([]any); ok {
			for _, da := range das {
				d, _ := da.(map[string]any)
				allocs = append(allocs, map[string]any{"allocatedAmountSet": money(d["amount"])})
			}
		}
		if tls, ok := m["tax_lines"].([]any); ok {
			for _, tl := range tls {
				t, _ := tl.(map[string]any)
				taxes = append(taxes, map[string]any{"priceSet": money(t["price"])})
			}
		}
		node := map[string]any{"sku": m["sku"], "name": m["name"], "title": m["title"], "quantity": m["quantity"],
			"originalUnitPriceSet": money(m["price"]), "discountAllocations": allocs, "taxLines": taxes}
		if v := text(m["variant_id"]); v != "" {
			node["variant"] = map[string]any{"id": "gid://shopify/ProductVariant/" + v, "barcode": nil}
		}
		if p := text(m["product_id"]); p != "" {
			node["product"] = map[string]any{"id": "gid://shopify/Product/" + p}
		}
		nodes = append(nodes, node)
	}
	g["lineItems"] = map[string]any{"nodes": nodes}
	return g, nil
}

// gqlAddress maps a REST address to MailingAddress.
func gqlAddress(v any) any {
	a, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	return map[string]any{"name": a["name"], "firstName": a["first_name"], "lastName": a["last_name"], "company": a["company"],
		"address1": a["address1"], "address2": a["address2"], "city": a["city"], "province": a["province"],
		"provinceCode": a["province_code"], "zip": a["zip"], "country": a["country"], "countryCodeV2": a["country_code"], "phone": a["phone"]}
}

// text is a JSON scalar as text ("" for null and non-scalars).
func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		if x {
			return "true"
		}
		return "false"
	}
	return ""
}
