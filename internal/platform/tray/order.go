package tray

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform/jsonx"
)

// FetchOrder reads GET /orders/{id}/complete and normalises it.
func (c *Connector) FetchOrder(ctx context.Context, conn domain.Connection, platformOrderID string) (domain.Order, error) {
	s, err := c.settings(conn)
	if err != nil {
		return domain.Order{}, err
	}
	if !validID(platformOrderID) {
		return domain.Order{}, permanent("fetch_order", "invalid Tray order id %q", platformOrderID)
	}
	r := request{op: "fetch_order", method: http.MethodGet, path: "/orders/" + url.PathEscape(platformOrderID) + "/complete",
		notFound: fmt.Sprintf("order %s not found on Tray", platformOrderID)}
	resp, err := c.do(ctx, conn, s, r)
	if err != nil {
		return domain.Order{}, err
	}
	o, err := normaliseOrder(resp.body, conn, s, c.sp)
	if err != nil {
		if ne, ok := err.(*notJSONError); ok {
			return domain.Order{}, transient("fetch_order", "GET %s: %v", r.path, ne)
		}
		return domain.Order{}, permanent("fetch_order", "order %s: %v", platformOrderID, err)
	}
	return o, nil
}

// notJSONError marks a body that is not an order at all (garbage: worth a retry).
type notJSONError struct{ snippet string }

func (e *notJSONError) Error() string { return "body is not a Tray order (" + e.snippet + ")" }

// flexString takes the API's loosely typed scalars (see jsonx.Scalar).
type flexString = jsonx.Scalar

type orderJSON struct {
	ID                  flexString      `json:"id"`
	Status              flexString      `json:"status"`
	Date                flexString      `json:"date"`
	Hour                flexString      `json:"hour"`
	Modified            flexString      `json:"modified"`
	PartialTotal        flexString      `json:"partial_total"`
	Taxes               flexString      `json:"taxes"`
	Discount            flexString      `json:"discount"`
	ProgressiveDiscount flexString      `json:"progressive_discount"`
	ShippingProgressive flexString      `json:"shipping_progressive_discount"`
	DiscountCoupon      flexString      `json:"discount_coupon"`
	Coupon              json.RawMessage `json:"coupon"`
	PaymentMethodRate   flexString      `json:"payment_method_rate"`
	Interest            flexString      `json:"interest"`
	Shipment            flexString      `json:"shipment"`
	ShipmentValue       flexString      `json:"shipment_value"`
	Total               flexString      `json:"total"`
	PaymentMethod       flexString      `json:"payment_method"`
	PaymentForm         flexString      `json:"payment_form"`
	CustomerNote        flexString      `json:"customer_note"`
	BillingAddress      flexString      `json:"billing_address"`
	OrderStatus         json.RawMessage `json:"OrderStatus"`
	PickupLocation      json.RawMessage `json:"PickupLocation"`
	Customer            json.RawMessage `json:"Customer"`
	CustomerAddress     json.RawMessage `json:"CustomerAddress"`
	ProductsSold        json.RawMessage `json:"ProductsSold"`
}

// pickupJSON is Order.PickupLocation: the Correios agency the buyer collects from
// ([] when the order is delivered to an address).
type pickupJSON struct {
	ShippingID flexString `json:"shipping_id"`
	Code       flexString `json:"code"`
	Name       flexString `json:"name"`
	Cellphone  flexString `json:"cellphone"`
	Address    struct {
		ZipCode      flexString `json:"zip_code"`
		Street       flexString `json:"street"`
		Number       flexString `json:"number"`
		Neighborhood flexString `json:"neighborhood"`
		Complement   flexString `json:"complement"`
		City         flexString `json:"city"`
		UF           flexString `json:"uf"`
	} `json:"address"`
}

type customerJSON struct {
	ID          flexString      `json:"id"`
	Name        flexString      `json:"name"`
	Type        flexString      `json:"type"`
	CPF         flexString      `json:"cpf"`
	CNPJ        flexString      `json:"cnpj"`
	CompanyName flexString      `json:"company_name"`
	Email       flexString      `json:"email"`
	Phone       flexString      `json:"phone"`
	Cellphone   flexString      `json:"cellphone"`
	StateInscr  flexString      `json:"state_inscription"`
	Addresses   json.RawMessage `json:"CustomerAddresses"`
	addressJSON
}

type addressJSON struct {
	ID           flexString `json:"id"`
	Recipient    flexString `json:"recipient"`
	Address      flexString `json:"address"`
	Number       flexString `json:"number"`
	Complement   flexString `json:"complement"`
	Neighborhood flexString `json:"neighborhood"`
	City         flexString `json:"city"`
	State        flexString `json:"state"`
	ZipCode      flexString `json:"zip_code"`
	Country      flexString `json:"country"`
	Type         flexString `json:"type"` // 0 billing, 1 delivery
	Active       flexString `json:"active"`
}

type soldJSON struct {
	ProductID    flexString `json:"product_id"`
	VariantID    flexString `json:"variant_id"`
	Reference    flexString `json:"reference"`
	EAN          flexString `json:"ean"`
	Name         flexString `json:"name"`
	OriginalName flexString `json:"original_name"`
	Quantity     flexString `json:"quantity"`
	Price        flexString `json:"price"`
	Original     flexString `json:"original_price"`
}

// asObject decodes raw into v only when it is a JSON object (Tray sends [] for "none").
func asObject(raw json.RawMessage, v any) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{' && json.Unmarshal(raw, v) == nil
}

// asList decodes a JSON array of objects wrapped as [{"Key": {...}}] (or bare objects).
func asList[T any](raw json.RawMessage, key string) []T {
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		return nil
	}
	out := make([]T, 0, len(items))
	for _, it := range items {
		var wrapped map[string]json.RawMessage
		if json.Unmarshal(it, &wrapped) != nil {
			continue
		}
		inner, ok := wrapped[key]
		if !ok {
			inner = it
		}
		var v T
		if asObject(inner, &v) {
			out = append(out, v)
		}
	}
	return out
}

// normaliseOrder turns a /orders/:id/complete body into the canonical order.
//
// Money, as the samples and docs show it: partial_total is Σ ProductsSold price ×
// quantity; total = partial_total − discounts + shipment_value + taxes (Tray's
// "acréscimo", a surcharge, not a tax) + payment_method_rate + interest. The coupon's
// amount is inside discount on some stores and beside it on others (the docs' list
// sample: discount 0.00, coupon 8999.75, total without it), so the coupon and the
// progressive discounts are counted only when the total says they were taken off.
func normaliseOrder(body []byte, conn domain.Connection, s settings, sp *time.Location) (domain.Order, error) {
	currency := s.currency
	var env struct {
		Order json.RawMessage `json:"Order"`
	}
	var o orderJSON
	if json.Unmarshal(body, &env) != nil || !asObject(env.Order, &o) {
		return domain.Order{}, &notJSONError{snippet: snippet(body)}
	}
	if !validID(o.ID.Str()) {
		return domain.Order{}, fmt.Errorf("field Order.id is missing or invalid")
	}
	out := domain.Order{
		Tenant: conn.Tenant, ConnectionID: conn.ID, PlatformID: o.ID.Str(), Number: o.ID.Str(),
		PlatformStatus: o.Status.Str(), ShippingMethod: o.Shipment.Str(),
		PaymentMethod: cmp.Or(o.PaymentMethod.Str(), o.PaymentForm.Str()),
		Note:          o.CustomerNote.Str(),
		Lines:         []domain.OrderLine{},
	}
	if out.PlatformStatus == "" {
		var st struct {
			Status flexString `json:"status"`
		}
		if asObject(o.OrderStatus, &st) {
			out.PlatformStatus = st.Status.Str()
		}
	}
	var err error
	amount := func(field string, v flexString) decimal.Decimal {
		if err != nil {
			return decimal.Zero
		}
		m, e := moneyField(v, currency)
		if e != nil {
			err = fmt.Errorf("field Order.%s: %v", field, e)
		}
		return m.Amount
	}
	discount := amount("discount", o.Discount)
	progressive := amount("progressive_discount", o.ProgressiveDiscount).Add(amount("shipping_progressive_discount", o.ShippingProgressive))
	shipping := amount("shipment_value", o.ShipmentValue)
	fees := amount("taxes", o.Taxes).Add(amount("payment_method_rate", o.PaymentMethodRate)).Add(amount("interest", o.Interest))
	total := amount("total", o.Total)
	code, couponAmount := coupon(o)
	coupon := amount("coupon.discount", flexString(couponAmount))
	if err != nil {
		return domain.Order{}, err
	}
	if code != "" {
		out.CouponCodes = []string{code}
	}
	if out.PlacedAt, err = trayTime(o.Date.Str(), o.Hour.Str(), sp); err != nil {
		return domain.Order{}, fmt.Errorf("field Order.date: %v", err)
	}
	if mod := o.Modified.Str(); mod != "" && !strings.HasPrefix(mod, "0000") {
		d, h, _ := strings.Cut(mod, " ")
		if out.UpdatedAt, err = trayTime(d, h, sp); err != nil {
			return domain.Order{}, fmt.Errorf("field Order.modified: %v", err)
		}
	}
	if out.UpdatedAt.IsZero() {
		out.UpdatedAt = out.PlacedAt
	}
	normaliseCustomer(&out, o)
	out.Pickup = normalisePickup(o.PickupLocation)
	charged, lineDiscounts := decimal.Zero, decimal.Zero
	for i, p := range asList[soldJSON](o.ProductsSold, "ProductsSold") {
		line, net, err := normaliseLine(p, currency, s.lineDiscounts)
		if err != nil {
			return domain.Order{}, fmt.Errorf("field Order.ProductsSold[%d].%v", i, err)
		}
		charged = charged.Add(net)
		lineDiscounts = lineDiscounts.Add(line.Discount.Amount)
		out.Lines = append(out.Lines, line)
	}
	// Order-level discounts: discount always; coupon and progressive ones when the
	// total shows they were taken off on top of it (see above).
	orderDiscount := discount
	base := charged.Sub(discount).Add(shipping).Add(fees)
	for _, extra := range []decimal.Decimal{coupon, progressive} {
		if extra.IsPositive() && base.Sub(extra).Sub(total).Abs().LessThan(base.Sub(total).Abs()) {
			orderDiscount = orderDiscount.Add(extra)
			base = base.Sub(extra)
		}
	}
	out.Discount = domain.Money{Amount: orderDiscount.Add(lineDiscounts), Currency: currency}
	out.ShippingCost = domain.Money{Amount: shipping, Currency: currency}
	out.Total = domain.Money{Amount: total, Currency: currency}
	if !fees.IsZero() {
		out.Fees = &domain.Money{Amount: fees, Currency: currency}
	}
	return out, nil
}

// coupon reads the coupon's code and amount: the "coupon" object when present, else
// discount_coupon, which carries "CODE/amount" (or just the code).
func coupon(o orderJSON) (code, amount string) {
	var c struct {
		Code     flexString `json:"code"`
		Discount flexString `json:"discount"`
	}
	if asObject(o.Coupon, &c) && c.Code.Str() != "" {
		return c.Code.Str(), c.Discount.Str()
	}
	code, amount, _ = strings.Cut(o.DiscountCoupon.Str(), "/")
	return strings.TrimSpace(code), strings.TrimSpace(amount)
}

// normaliseLine reads one ProductsSold entry. price is what the buyer paid a unit;
// when line discounts are on and original_price is higher, the line states the
// original price with the difference as its discount (the net stays price × qty). net
// is what the line adds to partial_total.
func normaliseLine(p soldJSON, currency string, lineDiscounts bool) (line domain.OrderLine, net decimal.Decimal, err error) {
	qty, ok := parseQuantity(p.Quantity.Str())
	if !ok || qty <= 0 {
		return line, net, fmt.Errorf("quantity: %q is not a positive number", truncate(p.Quantity.Str(), 20))
	}
	price, err := moneyField(p.Price, currency)
	if err != nil {
		return line, net, fmt.Errorf("price: %v", err)
	}
	original, err := moneyField(p.Original, currency)
	if err != nil {
		return line, net, fmt.Errorf("original_price: %v", err)
	}
	q := decimal.NewFromInt(qty)
	net = price.Amount.Mul(q)
	line = domain.OrderLine{
		SKU: p.Reference.Str(), EAN: p.EAN.Str(), ProductID: zeroless(p.ProductID.Str()),
		VariantID: zeroless(p.VariantID.Str()), Name: cmp.Or(p.Name.Str(), p.OriginalName.Str()),
		Quantity: qty, UnitPrice: price, Discount: domain.Money{Amount: decimal.Zero, Currency: currency},
	}
	if lineDiscounts && original.Amount.GreaterThan(price.Amount) {
		line.UnitPrice = original
		line.Discount.Amount = original.Amount.Sub(price.Amount).Mul(q)
	}
	return line, net, nil
}

// normalisePickup reads PickupLocation; nil when the order is not collected at an agency.
func normalisePickup(raw json.RawMessage) *domain.Pickup {
	var p pickupJSON
	if !asObject(raw, &p) || (p.Code.Str() == "" && p.Name.Str() == "") {
		return nil
	}
	out := &domain.Pickup{ID: p.Code.Str(), Name: p.Name.Str()}
	a := p.Address
	if a.Street.Str() != "" || a.City.Str() != "" || a.ZipCode.Str() != "" {
		out.Address = &domain.Address{
			Name: p.Name.Str(), Street: a.Street.Str(), Number: a.Number.Str(), Complement: a.Complement.Str(),
			Neighborhood: a.Neighborhood.Str(), City: a.City.Str(), State: a.UF.Str(),
			PostalCode: domain.Digits(a.ZipCode.Str()), Phone: p.Cellphone.Str(),
		}
	}
	return out
}

func normaliseCustomer(out *domain.Order, o orderJSON) {
	var cu customerJSON
	if !asObject(o.Customer, &cu) {
		return
	}
	doc := cu.CPF.Str()
	if cu.Type.Str() == "1" || doc == "" {
		doc = cmp.Or(cu.CNPJ.Str(), doc)
	}
	out.Customer = domain.Customer{
		Tenant: out.Tenant, ExternalID: zeroless(cu.ID.Str()), Name: cu.Name.Str(),
		CompanyName: cu.CompanyName.Str(), Document: domain.Digits(doc), Email: strings.ToLower(cu.Email.Str()),
		StateRegistration: cu.StateInscr.Str(),
	}
	for _, p := range []string{cu.Phone.Str(), cu.Cellphone.Str()} {
		if p != "" && !slices.Contains(out.Customer.Phones, p) {
			out.Customer.Phones = append(out.Customer.Phones, p)
		}
	}
	phone := cmp.Or(cu.Cellphone.Str(), cu.Phone.Str())
	if main := toAddress(cu.addressJSON, cu.Name.Str(), phone); main != nil {
		out.Customer.Address = main
	}
	addrs := asList[addressJSON](cu.Addresses, "CustomerAddress")
	var chosen struct {
		ID flexString `json:"id"`
	}
	asObject(o.CustomerAddress, &chosen)
	// pick finds the order's address: the one the order names (active or not: the
	// buyer chose it, and Tray deactivates addresses edited after the order), else the
	// customer's address of that type, active ones first, and only then the
	// registration address.
	pick := func(id, typ string) *domain.Address {
		for _, a := range addrs {
			if id != "" && a.ID.Str() == id {
				return toAddress(a, cu.Name.Str(), phone)
			}
		}
		for _, active := range []bool{true, false} {
			for _, a := range addrs {
				if a.Type.Str() == typ && (a.Active.Str() != "0") == active {
					if addr := toAddress(a, cu.Name.Str(), phone); addr != nil {
						return addr
					}
				}
			}
		}
		return out.Customer.Address
	}
	out.Shipping = pick(zeroless(chosen.ID.Str()), "1")
	out.Billing = pick(zeroless(o.BillingAddress.Str()), "0")
}

func toAddress(a addressJSON, name, phone string) *domain.Address {
	if a.Address.Str() == "" && a.City.Str() == "" && a.ZipCode.Str() == "" {
		return nil
	}
	return &domain.Address{
		Name: cmp.Or(a.Recipient.Str(), name), Street: a.Address.Str(), Number: a.Number.Str(),
		Complement: a.Complement.Str(), Neighborhood: a.Neighborhood.Str(), City: a.City.Str(),
		State: a.State.Str(), PostalCode: domain.Digits(a.ZipCode.Str()), Country: a.Country.Str(), Phone: phone,
	}
}

// moneyField parses a Tray amount; empty means zero.
func moneyField(v flexString, currency string) (domain.Money, error) {
	s := v.Str()
	if s == "" {
		return domain.Money{Amount: decimal.Zero, Currency: currency}, nil
	}
	if len(s) > 32 {
		return domain.Money{}, fmt.Errorf("amount too long")
	}
	d, err := domain.ParseAmount(s)
	if err != nil {
		return domain.Money{}, err
	}
	return domain.Money{Amount: d, Currency: currency}, nil
}

// trayTime reads Tray's São Paulo date ("2021-02-10") and hour ("11:28:21") as UTC.
func trayTime(date, hour string, sp *time.Location) (time.Time, error) {
	if date == "" || strings.HasPrefix(date, "0000") {
		return time.Time{}, fmt.Errorf("missing date")
	}
	if hour == "" {
		hour = "00:00:00"
	}
	if len(hour) == 5 {
		hour += ":00"
	}
	t, err := time.ParseInLocation(time.DateTime, date+" "+hour, sp)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not YYYY-MM-DD HH:MM:SS", truncate(date+" "+hour, 40))
	}
	return t.UTC(), nil
}

// zeroless maps Tray's "0" (no reference) to empty.
func zeroless(s string) string {
	if s == "0" {
		return ""
	}
	return s
}
