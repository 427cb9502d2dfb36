package nuvemshopsim

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/platform/platformsim"
)

var _ platformsim.OrderPlacer = (*Kit)(nil)

// apiStamp is how the API writes times.
const apiStamp = "2006-01-02T15:04:05-0700"

// PlaceOrder stores the order as GET /orders/{id} returns it, takes its lines from the
// variants' stock and returns the delivery Nuvemshop posts: {"store_id","event","id"}
// signed with X-Linkedstore-HMAC-SHA256 (hex, keyed with the app secret). Deliveries are
// thin; the hub fetches the order. Status is in the connector's folded vocabulary:
// a payment status ("paid" by default, "pending", "authorized", ...), "packed",
// "fulfilled", "closed" or "cancelled".
func (k *Kit) PlaceOrder(storeID string, o platformsim.SimOrder) (string, platformsim.Delivery, error) {
	st := k.Server.store(storeID)
	if st == nil {
		return "", platformsim.Delivery{}, fmt.Errorf("nuvemshopsim: no store %q", storeID)
	}
	o, err := o.Normalise(k.Server.opts.Now(), "paid", false)
	if err != nil {
		return "", platformsim.Delivery{}, fmt.Errorf("nuvemshopsim: %w", err)
	}
	id, delta, existed := k.orders.Place(storeID, o, 1467083200)
	// Round-trip through JSON so the stored order holds what AddOrder would (float64 numbers).
	var doc map[string]any
	if b, err := json.Marshal(apiOrder(storeID, id, o)); err != nil || json.Unmarshal(b, &doc) != nil {
		return "", platformsim.Delivery{}, fmt.Errorf("nuvemshopsim: order %s does not encode: %v", id, err)
	}
	st.data.Lock()
	if prev := st.orders[id]; prev != nil {
		doc["created_at"] = prev["created_at"]
	}
	st.orders[id] = doc
	delete(st.raws, id)
	now := k.Server.opts.Now()
	type level struct {
		p platformsim.Product
		n int64
	}
	var levels []level
	for p, d := range delta {
		if v := st.variants[p.VariantID]; v != nil && v.Stock != nil { // nil: unlimited stock
			n := *v.Stock + d
			v.Stock = &n
			levels = append(levels, level{p, n})
		}
	}
	st.data.Unlock()
	for _, l := range levels {
		k.NotifyStock(storeID, l.p.ProductID, l.p.VariantID, l.n, now)
	}
	event := "order/created"
	if existed {
		event = "order/updated"
	}
	d, err := k.Server.Notify(storeID, event, id)
	if err != nil {
		return "", platformsim.Delivery{}, err
	}
	return id, d, nil
}

// OrderStatus folds the order's status, shipping and payment status as the connector does.
func (k *Kit) OrderStatus(storeID, id string) (string, bool) {
	st := k.Server.store(storeID)
	if st == nil {
		return "", false
	}
	st.data.Lock()
	defer st.data.Unlock()
	o, ok := st.orders[id]
	if !ok {
		return "", false
	}
	str := func(k string) string { v, _ := o[k].(string); return strings.ToLower(v) }
	switch s := str("status"); s {
	case "cancelled", "closed":
		return s, true
	}
	switch str("shipping_status") {
	case "shipped", "fulfilled", "delivered":
		return "fulfilled", true
	case "packed":
		return "packed", true
	}
	if ps := str("payment_status"); ps != "" {
		return ps, true
	}
	return "open", true
}

// apiOrder is the GET /orders/{id} body for o.
func apiOrder(storeID, id string, o platformsim.SimOrder) map[string]any {
	status, payment, shipping := "open", o.Status, "unpacked"
	switch o.Status {
	case "cancelled", "closed":
		status, payment = o.Status, "paid"
	case "fulfilled":
		payment, shipping = "paid", "shipped"
	case "packed":
		payment, shipping = "paid", "packed"
	}
	c := o.Customer
	addr := map[string]any{"name": c.Name, "address": c.Street, "number": c.Number, "city": c.City,
		"province": c.State, "zipcode": c.PostalCode, "country": "BR", "phone": c.Phone}
	total := decimal.Zero
	var products []any
	for _, l := range o.Lines {
		total = total.Add(l.UnitPrice.Mul(decimal.NewFromInt(l.Quantity)))
		products = append(products, map[string]any{"product_id": jsonID(l.Product.ProductID),
			"variant_id": jsonID(l.Product.VariantID), "name": "Product " + l.SKU, "sku": l.SKU,
			"quantity": l.Quantity, "price": l.UnitPrice.StringFixed(2)})
	}
	at := o.UpdatedAt.Format(apiStamp)
	return map[string]any{
		"id": jsonID(id), "number": jsonID(id), "store_id": storeID, "status": status, "payment_status": payment,
		"shipping_status": shipping, "currency": "BRL", "discount": "0.00", "shipping_cost_customer": "0.00",
		"subtotal": total.StringFixed(2), "total": total.StringFixed(2), "gateway": "offline", "gateway_name": "Pix",
		"shipping": "correios", "shipping_option": "Correios - PAC", "created_at": at, "updated_at": at,
		"contact_email": c.Email, "contact_name": c.Name, "contact_phone": c.Phone, "contact_identification": c.Document,
		"billing_name": c.Name, "billing_phone": c.Phone, "billing_address": c.Street, "billing_number": c.Number,
		"billing_zipcode": c.PostalCode, "billing_city": c.City, "billing_province": c.State, "billing_country": "BR",
		"shipping_address": addr,
		"customer": map[string]any{"id": jsonID("9" + id), "name": c.Name, "email": c.Email, "identification": c.Document,
			"phone": c.Phone, "default_address": addr},
		"products": products,
	}
}

// jsonID writes numeric ids as numbers, as the API does.
func jsonID(id string) any {
	if id == "" || strings.Trim(id, "0123456789") != "" || len(id) > 15 {
		return id
	}
	return json.Number(id)
}
