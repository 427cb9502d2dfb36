package traysim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/platform/platformsim"
)

var _ platformsim.OrderPlacer = (*Kit)(nil)

// PlaceOrder stores the order as GET /orders/{id}/complete returns it, takes its lines
// from stock and returns Tray's notification: a form post of seller_id (the store id the
// connector checks), scope_name=order, scope_id and act. Tray sends only ids, so the hub
// fetches the order.
func (k *Kit) PlaceOrder(storeID string, o platformsim.SimOrder) (string, platformsim.Delivery, error) {
	st := k.Server.store(storeID)
	if st == nil {
		return "", platformsim.Delivery{}, fmt.Errorf("traysim: no store %q", storeID)
	}
	o, err := o.Normalise(k.Server.opts.Now(), "A ENVIAR", false)
	if err != nil {
		return "", platformsim.Delivery{}, fmt.Errorf("traysim: %w", err)
	}
	statusID := k.statusID(storeID, o.Status)
	id, delta, existed := k.orders.Place(storeID, o, 5000)
	doc := k.completeOrder(id, statusID, o)
	st.data.Lock()
	if prev, ok := st.orders[id]["Order"].(map[string]any); ok { // placed once: keep when
		doc["date"], doc["hour"] = prev["date"], prev["hour"]
	}
	st.data.Unlock()
	body, err := json.Marshal(map[string]any{"Order": doc})
	if err != nil {
		return "", platformsim.Delivery{}, fmt.Errorf("traysim: order %s: %w", id, err)
	}
	if err := k.Server.AddOrder(storeID, body); err != nil {
		return "", platformsim.Delivery{}, err
	}
	k.takeStock(st, delta)
	act := "insert"
	if existed {
		act = "update"
	}
	form := url.Values{"seller_id": {strings.TrimPrefix(storeID, "store")}, "scope_id": {id},
		"scope_name": {"order"}, "act": {act}}
	return id, platformsim.Delivery{
		Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
		Query:  url.Values{},
		Body:   []byte(form.Encode()),
	}, nil
}

// OrderStatus is the order's status name as the store shows it now.
func (k *Kit) OrderStatus(storeID, id string) (string, bool) {
	s, ok := k.Server.Order(storeID, id)
	return s.Status, ok
}

// statusID finds (or adds) the store's status with this name, as a merchant would.
func (k *Kit) statusID(storeID, name string) string {
	st := k.Server.store(storeID)
	st.data.Lock()
	for _, s := range st.statuses {
		if strings.EqualFold(s.Name, name) {
			st.data.Unlock()
			return s.ID
		}
	}
	id := strconv.Itoa(len(st.statuses) + 1)
	st.data.Unlock()
	k.Server.AddStatus(storeID, id, name)
	return id
}

func (k *Kit) completeOrder(id, statusID string, o platformsim.SimOrder) map[string]any {
	at := o.UpdatedAt.In(k.Server.sp)
	c := o.Customer
	sold := []map[string]any{}
	total := decimal.Zero
	for _, l := range o.Lines {
		sold = append(sold, map[string]any{"ProductsSold": map[string]any{
			"product_id": l.Product.ProductID, "variant_id": zeroIfEmpty(l.Product.VariantID), "reference": l.SKU,
			"name": "Product " + l.Product.ProductID, "quantity": strconv.FormatInt(l.Quantity, 10),
			"price": l.UnitPrice.StringFixed(2)}})
		total = total.Add(l.UnitPrice.Mul(decimal.NewFromInt(l.Quantity)))
	}
	addr := map[string]any{"id": "1" + id, "address": c.Street, "number": c.Number, "city": c.City,
		"state": c.State, "zip_code": c.PostalCode, "country": "Brasil", "type": "1", "active": "1"}
	return map[string]any{
		"id": id, "status": o.Status, "date": at.Format("2006-01-02"), "hour": at.Format("15:04:05"),
		"modified": at.Format("2006-01-02 15:04:05"), "discount": "0.00", "shipment": "Correios PAC",
		"shipment_value": "0.00", "total": total.StringFixed(2), "payment_method": "Pix",
		"billing_address": "0", "sending_code": "", "sending_date": "0000-00-00", "tracking_url": "",
		"OrderStatus":     map[string]any{"id": statusID, "status": o.Status},
		"CustomerAddress": map[string]any{"id": "1" + id},
		"Customer": map[string]any{"id": "9" + id, "name": c.Name, "type": "0", "cpf": c.Document,
			"email": c.Email, "cellphone": c.Phone, "address": c.Street, "number": c.Number, "city": c.City,
			"state": c.State, "zip_code": c.PostalCode, "country": "Brasil",
			"CustomerAddresses": []any{map[string]any{"CustomerAddress": addr}}},
		"ProductsSold": sold,
	}
}

// takeStock applies a sale's stock change, as Tray does when an order is placed.
func (k *Kit) takeStock(st *store, delta map[platformsim.Product]int64) {
	now := k.Server.opts.Now()
	for p, d := range delta {
		st.data.Lock()
		var stock int64
		ok := false
		if p.VariantID != "" {
			if v := st.variants[p.VariantID]; v != nil {
				v.Stock += d
				stock, ok = v.Stock, true
			}
		} else if pr := st.products[p.ProductID]; pr != nil {
			pr.Stock += d
			stock, ok = pr.Stock, true
		}
		st.data.Unlock()
		if ok {
			k.NotifyStock(st.id, p.ProductID, p.VariantID, stock, now)
		}
	}
}

func zeroIfEmpty(s string) string {
	if s == "" {
		return "0"
	}
	return s
}
