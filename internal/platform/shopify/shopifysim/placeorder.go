package shopifysim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/platform/platformsim"
)

var _ platformsim.OrderPlacer = (*Kit)(nil)

// PlaceOrder stores the order in GraphQL shape (what order(id:) returns), takes its lines
// from the variants' stock at Location and returns the orders/create (or, for a known id,
// orders/updated) delivery: the REST order resource, signed with X-Shopify-Hmac-Sha256
// under the store's webhook_secret. Status is the financial status ("paid" by default);
// "cancelled" and "fulfilled" set those states instead.
func (k *Kit) PlaceOrder(shop string, o platformsim.SimOrder) (string, platformsim.Delivery, error) {
	st := k.Server.store(shop)
	if st == nil {
		return "", platformsim.Delivery{}, fmt.Errorf("shopifysim: no shop %q", shop)
	}
	o, err := o.Normalise(k.Server.opts.Now(), "paid", false)
	if err != nil {
		return "", platformsim.Delivery{}, fmt.Errorf("shopifysim: %w", err)
	}
	if o.ID != "" && !digitsOnly(o.ID) {
		return "", platformsim.Delivery{}, fmt.Errorf("shopifysim: order id %q is not a number", o.ID)
	}
	id, delta, existed := k.orders.Place(shop, o, 5813404221000)
	gid := "gid://shopify/Order/" + id
	gql := graphQLOrder(gid, id, o)
	st.data.Lock()
	if prev := st.orders[gid]; prev != nil {
		gql["createdAt"] = prev["createdAt"]
		if prev["closed"] == true {
			gql["closed"] = true
		}
		st.orders[gid] = gql // keeps its fulfilment orders
		st.data.Unlock()
	} else {
		st.data.Unlock()
		b, err := json.Marshal(gql)
		if err != nil {
			return "", platformsim.Delivery{}, fmt.Errorf("shopifysim: order %s: %w", id, err)
		}
		if err := k.Server.AddOrder(shop, b); err != nil {
			return "", platformsim.Delivery{}, err
		}
	}
	k.takeStock(st, delta)
	created, _ := gql["createdAt"].(string)
	body, err := json.Marshal(restOrder(id, created, o))
	if err != nil {
		return "", platformsim.Delivery{}, fmt.Errorf("shopifysim: order %s: %w", id, err)
	}
	topic := "orders/create"
	if existed {
		topic = "orders/updated"
	}
	m := hmac.New(sha256.New, []byte(webhookSecret(shop)))
	m.Write(body)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-Shopify-Hmac-Sha256", base64.StdEncoding.EncodeToString(m.Sum(nil)))
	h.Set("X-Shopify-Topic", topic)
	h.Set("X-Shopify-Shop-Domain", shop+".myshopify.com")
	h.Set("X-Shopify-Api-Version", "2025-01")
	h.Set("X-Shopify-Event-Id", fmt.Sprintf("%s-%d", id, o.UpdatedAt.UnixNano()))
	h.Set("X-Shopify-Webhook-Id", fmt.Sprintf("wh-%s-%d", id, o.UpdatedAt.UnixNano()))
	h.Set("X-Shopify-Triggered-At", o.UpdatedAt.Format(time.RFC3339Nano))
	return id, platformsim.Delivery{Header: h, Query: url.Values{}, Body: body}, nil
}

// OrderStatus is the order's status as the connector reads it: "cancelled", "fulfilled",
// else the financial status in lower case.
func (k *Kit) OrderStatus(shop, id string) (string, bool) {
	s, ok := k.Server.Order(shop, "gid://shopify/Order/"+id)
	switch {
	case !ok:
		return "", false
	case s.Cancelled:
		return "cancelled", true
	case strings.EqualFold(s.FulfillmentStatus, "FULFILLED"):
		return "fulfilled", true
	}
	return strings.ToLower(s.FinancialStatus), true
}

func (k *Kit) takeStock(st *store, delta map[platformsim.Product]int64) {
	now := k.Server.opts.Now()
	for p, d := range delta {
		st.data.Lock()
		v := st.variants[p.VariantID]
		var q int64
		if v != nil {
			st.levels[v.InventoryItemID][Location] += d
			q = st.levels[v.InventoryItemID][Location]
		}
		st.data.Unlock()
		if v != nil {
			k.NotifyStock(st.id, p.ProductID, p.VariantID, q, now)
		}
	}
}

// statusFields maps a SimOrder status to Shopify's financial and fulfilment states.
func statusFields(status string) (financial, fulfillment string, cancelled bool) {
	switch s := strings.ToLower(status); s {
	case "cancelled":
		return "VOIDED", "UNFULFILLED", true
	case "fulfilled":
		return "PAID", "FULFILLED", false
	default:
		return strings.ToUpper(s), "UNFULFILLED", false
	}
}

func graphQLOrder(gid, id string, o platformsim.SimOrder) map[string]any {
	fin, ful, cancelled := statusFields(o.Status)
	at := o.UpdatedAt.Format(time.RFC3339)
	var cancelledAt any
	if cancelled {
		cancelledAt = at
	}
	c := o.Customer
	first, last, _ := strings.Cut(c.Name, " ")
	addr := map[string]any{"name": c.Name, "firstName": first, "lastName": last, "address1": c.Street + ", " + c.Number,
		"city": c.City, "provinceCode": c.State, "zip": c.PostalCode, "country": "Brazil", "countryCodeV2": "BR", "phone": c.Phone}
	var nodes []any
	for _, l := range o.Lines {
		price := map[string]any{"shopMoney": map[string]any{"amount": l.UnitPrice.String(), "currencyCode": "BRL"}}
		nodes = append(nodes, map[string]any{"sku": l.SKU, "name": "Product " + l.SKU, "title": "Product " + l.SKU,
			"quantity": l.Quantity, "variant": map[string]any{"id": l.Product.VariantID, "barcode": ""},
			"product": map[string]any{"id": l.Product.ProductID}, "originalUnitPriceSet": price, "discountAllocations": []any{}, "taxLines": []any{}})
	}
	money := func(d decimal.Decimal) any {
		return map[string]any{"shopMoney": map[string]any{"amount": d.String(), "currencyCode": "BRL"}}
	}
	return map[string]any{
		"id": gid, "legacyResourceId": id, "name": "#" + id, "email": c.Email, "phone": c.Phone, "currencyCode": "BRL",
		"createdAt": at, "updatedAt": at, "cancelledAt": cancelledAt,
		"displayFinancialStatus": fin, "displayFulfillmentStatus": ful, "paymentGatewayNames": []string{"manual"},
		"discountCodes": []string{}, "note": nil, "taxesIncluded": false,
		"totalPriceSet": money(total(o)), "totalDiscountsSet": money(decimal.Zero), "totalShippingPriceSet": money(decimal.Zero),
		"totalTaxSet":      money(decimal.Zero),
		"shippingLine":     map[string]any{"title": "Standard"},
		"customAttributes": []any{map[string]any{"key": "CPF", "value": c.Document}},
		"customer": map[string]any{"id": "gid://shopify/Customer/9" + id, "firstName": first, "lastName": last,
			"email": c.Email, "phone": c.Phone, "defaultAddress": addr},
		"billingAddress": addr, "shippingAddress": addr,
		"lineItems": map[string]any{"nodes": nodes},
	}
}

// restOrder is the REST order resource an orders/* webhook carries.
func restOrder(id, created string, o platformsim.SimOrder) map[string]any {
	fin, ful, cancelled := statusFields(o.Status)
	var cancelledAt, fulfillment any
	if cancelled {
		cancelledAt = o.UpdatedAt.Format(time.RFC3339)
	}
	if ful == "FULFILLED" {
		fulfillment = "fulfilled"
	}
	c := o.Customer
	first, last, _ := strings.Cut(c.Name, " ")
	addr := map[string]any{"name": c.Name, "first_name": first, "last_name": last, "address1": c.Street + ", " + c.Number,
		"city": c.City, "province_code": c.State, "zip": c.PostalCode, "country": "Brazil", "country_code": "BR", "phone": c.Phone}
	var items []any
	for _, l := range o.Lines {
		items = append(items, map[string]any{"sku": l.SKU, "product_id": restID(l.Product.ProductID),
			"variant_id": restID(l.Product.VariantID), "name": "Product " + l.SKU, "title": "Product " + l.SKU,
			"quantity": l.Quantity, "price": l.UnitPrice.String(), "total_discount": "0.00", "discount_allocations": []any{}})
	}
	return map[string]any{
		"id": restID(id), "name": "#" + id, "email": c.Email, "contact_email": c.Email, "phone": c.Phone, "currency": "BRL",
		"created_at": created, "updated_at": o.UpdatedAt.Format(time.RFC3339), "cancelled_at": cancelledAt,
		"financial_status": strings.ToLower(fin), "fulfillment_status": fulfillment, "total_price": total(o).String(),
		"total_discounts": "0.00", "total_tax": "0.00", "taxes_included": false, "tax_lines": []any{},
		"discount_codes": []any{}, "note": nil, "payment_gateway_names": []string{"manual"},
		"shipping_lines":  []any{map[string]any{"title": "Standard", "price": "0.00"}},
		"note_attributes": []any{map[string]any{"name": "CPF", "value": c.Document}},
		"customer": map[string]any{"id": restID("9" + id), "first_name": first, "last_name": last, "email": c.Email,
			"phone": c.Phone, "default_address": addr},
		"billing_address": addr, "shipping_address": addr, "line_items": items,
	}
}

// restID is the number REST uses for a GID ("gid://shopify/Product/12" -> 12).
func restID(gid string) json.Number {
	return json.Number(gid[strings.LastIndex(gid, "/")+1:])
}

func total(o platformsim.SimOrder) decimal.Decimal {
	t := decimal.Zero
	for _, l := range o.Lines {
		t = t.Add(l.UnitPrice.Mul(decimal.NewFromInt(l.Quantity)))
	}
	return t
}

func digitsOnly(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}
