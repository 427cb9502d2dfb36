package nuvemshop

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform/jsonx"
)

// FetchOrder reads GET /orders/{id} and normalises it.
func (c *Connector) FetchOrder(ctx context.Context, conn domain.Connection, platformOrderID string) (domain.Order, error) {
	s, err := c.settings(conn)
	if err != nil {
		return domain.Order{}, err
	}
	if !validID(platformOrderID) {
		return domain.Order{}, permanent("fetch_order", "invalid Nuvemshop order id %q", truncate(platformOrderID, 64))
	}
	r := request{op: "fetch_order", method: http.MethodGet, path: "/orders/" + url.PathEscape(platformOrderID),
		notFound: fmt.Sprintf("order %s not found on Nuvemshop", platformOrderID)}
	resp, err := c.do(ctx, conn, s, r)
	if err != nil {
		return domain.Order{}, err
	}
	o, err := normaliseOrder(resp.body, conn, s.currency)
	if err != nil {
		if _, ok := err.(*notOrderError); ok {
			return domain.Order{}, garbage(r, resp)
		}
		return domain.Order{}, permanent("fetch_order", "order %s: %v", platformOrderID, err)
	}
	return o, nil
}

// notOrderError marks a body that is not an order at all (garbage: worth a retry).
type notOrderError struct{}

func (*notOrderError) Error() string { return "body is not a Nuvemshop order" }

// flex takes the API's loosely typed scalars (see jsonx.Scalar).
type flex = jsonx.Scalar

type addressJSON struct {
	Name     flex `json:"name"`
	Address  flex `json:"address"`
	Number   flex `json:"number"`
	Floor    flex `json:"floor"`
	Locality flex `json:"locality"`
	City     flex `json:"city"`
	Province flex `json:"province"`
	Zipcode  flex `json:"zipcode"`
	Country  flex `json:"country"`
	Phone    flex `json:"phone"`
}

type customerJSON struct {
	ID             flex            `json:"id"`
	Name           flex            `json:"name"`
	Email          flex            `json:"email"`
	Identification flex            `json:"identification"`
	Phone          flex            `json:"phone"`
	BusinessName   flex            `json:"billing_business_name"`
	TradeName      flex            `json:"billing_trade_name"`
	DefaultAddress json.RawMessage `json:"default_address"`
}

type lineJSON struct {
	ProductID flex `json:"product_id"`
	VariantID flex `json:"variant_id"`
	Name      flex `json:"name"`
	SKU       flex `json:"sku"`
	Barcode   flex `json:"barcode"`
	Quantity  flex `json:"quantity"`
	Price     flex `json:"price"`
}

type orderJSON struct {
	ID             flex `json:"id"`
	Number         flex `json:"number"`
	Status         flex `json:"status"`
	PaymentStatus  flex `json:"payment_status"`
	ShippingStatus flex `json:"shipping_status"`
	Currency       flex `json:"currency"`
	// Money. "total" is the documented total; the older documented shape (the single
	// order sample of resources/order.md) carries it in "price" instead. "discount" is
	// every discount of the order; discount_coupon and discount_gateway are its parts.
	Subtotal             flex            `json:"subtotal"`
	Discount             flex            `json:"discount"`
	DiscountCoupon       flex            `json:"discount_coupon"`
	DiscountGateway      flex            `json:"discount_gateway"`
	PromotionalDiscount  json.RawMessage `json:"promotional_discount"`
	Total                flex            `json:"total"`
	Price                flex            `json:"price"`
	ShippingCostCustomer flex            `json:"shipping_cost_customer"`
	ShippingCostOwner    flex            `json:"shipping_cost_owner"`
	Coupon               json.RawMessage `json:"coupon"`
	Note                 flex            `json:"note"`
	// Pickup: shipping_pickup_type is "ship" or "pickup"; a pickup names the store
	// branch (shipping_store_branch_name) and, for pickup points, shipping_pickup_details.
	ShippingPickupType    flex            `json:"shipping_pickup_type"`
	ShippingStoreBranch   flex            `json:"shipping_store_branch_name"`
	ShippingPickupDetails json.RawMessage `json:"shipping_pickup_details"`
	ShippingOptionCode    flex            `json:"shipping_option_code"`
	Gateway               flex            `json:"gateway"`
	GatewayName           flex            `json:"gateway_name"`
	PaymentDetails        json.RawMessage `json:"payment_details"`
	Shipping              flex            `json:"shipping"`
	ShippingOption        flex            `json:"shipping_option"`
	CreatedAt             flex            `json:"created_at"`
	UpdatedAt             flex            `json:"updated_at"`
	ContactEmail          flex            `json:"contact_email"`
	ContactName           flex            `json:"contact_name"`
	ContactPhone          flex            `json:"contact_phone"`
	ContactIdentification flex            `json:"contact_identification"`
	BillingName           flex            `json:"billing_name"`
	BillingPhone          flex            `json:"billing_phone"`
	BillingAddress        flex            `json:"billing_address"`
	BillingNumber         flex            `json:"billing_number"`
	BillingFloor          flex            `json:"billing_floor"`
	BillingLocality       flex            `json:"billing_locality"`
	BillingZipcode        flex            `json:"billing_zipcode"`
	BillingCity           flex            `json:"billing_city"`
	BillingProvince       flex            `json:"billing_province"`
	BillingCountry        flex            `json:"billing_country"`
	BillingBusinessName   flex            `json:"billing_business_name"`
	BillingTradeName      flex            `json:"billing_trade_name"`
	ShippingAddress       json.RawMessage `json:"shipping_address"`
	Customer              json.RawMessage `json:"customer"`
	Products              json.RawMessage `json:"products"`
}

// asObject decodes raw into v only when it is a JSON object.
func asObject(raw json.RawMessage, v any) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{' && json.Unmarshal(raw, v) == nil
}

// normaliseOrder turns a GET /orders/{id} body into the canonical order.
func normaliseOrder(body []byte, conn domain.Connection, storeCurrency string) (domain.Order, error) {
	var o orderJSON
	if !asObject(body, &o) {
		return domain.Order{}, &notOrderError{}
	}
	if !validID(o.ID.Str()) {
		return domain.Order{}, fmt.Errorf("field id is missing or invalid")
	}
	currency := strings.ToUpper(o.Currency.Str())
	if len(currency) != 3 || strings.Trim(currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		currency = storeCurrency
	}
	out := domain.Order{
		Tenant: conn.Tenant, ConnectionID: conn.ID, PlatformID: o.ID.Str(), Number: o.Number.Str(),
		PlatformStatus: orderStatus(o), ShippingMethod: cmp.Or(o.ShippingOption.Str(), o.Shipping.Str()),
		Lines: []domain.OrderLine{},
	}
	out.PaymentMethod = paymentMethod(o)
	out.Note = o.Note.Str()
	out.CouponCodes = couponCodes(o.Coupon)
	out.Pickup = pickup(o)
	var err error
	if err = orderMoney(&out, o, currency); err != nil {
		return domain.Order{}, err
	}
	if out.PlacedAt, err = apiTime(o.CreatedAt.Str()); err != nil {
		return domain.Order{}, fmt.Errorf("field created_at: %v", err)
	}
	out.UpdatedAt = out.PlacedAt
	if v := o.UpdatedAt.Str(); v != "" {
		if out.UpdatedAt, err = apiTime(v); err != nil {
			return domain.Order{}, fmt.Errorf("field updated_at: %v", err)
		}
	}
	normaliseCustomer(&out, o)
	var lines []json.RawMessage
	if raw := bytes.TrimSpace(o.Products); len(raw) > 0 && string(raw) != "null" {
		if json.Unmarshal(raw, &lines) != nil {
			return domain.Order{}, fmt.Errorf("field products is not a list")
		}
	}
	for i, raw := range lines {
		var l lineJSON
		if !asObject(raw, &l) {
			return domain.Order{}, fmt.Errorf("field products[%d] is not an object", i)
		}
		line, err := normaliseLine(l, currency)
		if err != nil {
			return domain.Order{}, fmt.Errorf("field products[%d].%v", i, err)
		}
		out.Lines = append(out.Lines, line)
	}
	reconcilePromotion(&out, o, currency)
	return out, nil
}

// orderStatus folds Nuvemshop's three statuses into one, most decisive first:
// "cancelled", "closed", "fulfilled" (shipped), "packed", else the payment status
// ("pending", "authorized", "paid", "voided", "refunded", "abandoned"), else "open".
func orderStatus(o orderJSON) string {
	switch st := strings.ToLower(o.Status.Str()); st {
	case "cancelled", "closed":
		return st
	}
	switch strings.ToLower(o.ShippingStatus.Str()) {
	case "shipped", "fulfilled", "delivered":
		return "fulfilled"
	case "packed":
		return "packed"
	}
	if ps := strings.ToLower(o.PaymentStatus.Str()); ps != "" {
		return ps
	}
	return cmp.Or(strings.ToLower(o.Status.Str()), "open")
}

func normaliseLine(l lineJSON, currency string) (domain.OrderLine, error) {
	qty, ok := parseQuantity(l.Quantity.Str())
	if !ok || qty <= 0 {
		return domain.OrderLine{}, fmt.Errorf("quantity: %q is not a positive whole number", truncate(l.Quantity.Str(), 20))
	}
	if l.Price.Str() == "" { // a line without a price must not become a free line
		return domain.OrderLine{}, fmt.Errorf("price: missing")
	}
	price, err := moneyField(l.Price, currency)
	if err != nil {
		return domain.OrderLine{}, fmt.Errorf("price: %v", err)
	}
	return domain.OrderLine{
		SKU: l.SKU.Str(), EAN: l.Barcode.Str(), ProductID: l.ProductID.Str(), VariantID: l.VariantID.Str(),
		Name: l.Name.Str(), Quantity: qty, UnitPrice: price,
		Discount: zeroMoney(currency),
	}, nil
}

func normaliseCustomer(out *domain.Order, o orderJSON) {
	var cu customerJSON
	asObject(o.Customer, &cu)
	doc := domain.Digits(cmp.Or(cu.Identification.Str(), o.ContactIdentification.Str()))
	c := domain.Customer{
		Tenant: out.Tenant, ExternalID: cu.ID.Str(),
		Name:        cmp.Or(cu.Name.Str(), o.ContactName.Str(), o.BillingName.Str()),
		CompanyName: cmp.Or(o.BillingBusinessName.Str(), cu.BusinessName.Str()),
		TradeName:   cmp.Or(o.BillingTradeName.Str(), cu.TradeName.Str()),
		Document:    doc,
		Email:       strings.ToLower(cmp.Or(cu.Email.Str(), o.ContactEmail.Str())),
	}
	if c.CompanyName == "" && len(doc) == 14 { // a CNPJ: the buyer is a company
		c.CompanyName = c.Name
	}
	for _, p := range []string{cu.Phone.Str(), o.ContactPhone.Str(), o.BillingPhone.Str()} {
		if isPhone(p) && !slices.Contains(c.Phones, p) {
			c.Phones = append(c.Phones, p)
		}
	}
	phone := ""
	if len(c.Phones) > 0 {
		phone = c.Phones[0]
	}
	var def addressJSON
	if asObject(cu.DefaultAddress, &def) {
		c.Address = toAddress(def, c.Name, phone)
	}
	var ship addressJSON
	if asObject(o.ShippingAddress, &ship) {
		out.Shipping = toAddress(ship, c.Name, phone)
	}
	out.Billing = toAddress(addressJSON{
		Name: o.BillingName, Address: o.BillingAddress, Number: o.BillingNumber, Floor: o.BillingFloor,
		Locality: o.BillingLocality, City: o.BillingCity, Province: o.BillingProvince, Zipcode: o.BillingZipcode,
		Country: o.BillingCountry, Phone: o.BillingPhone,
	}, c.Name, phone)
	if c.Address == nil {
		c.Address = firstAddress(out.Billing, out.Shipping)
	}
	out.Customer = c
}

func firstAddress(as ...*domain.Address) *domain.Address {
	for _, a := range as {
		if a != nil {
			cp := *a
			return &cp
		}
	}
	return nil
}

func toAddress(a addressJSON, name, phone string) *domain.Address {
	if a.Address.Str() == "" && a.City.Str() == "" && a.Zipcode.Str() == "" {
		return nil
	}
	p := a.Phone.Str()
	if !isPhone(p) {
		p = phone
	}
	return &domain.Address{
		Name: cmp.Or(a.Name.Str(), name), Street: a.Address.Str(), Number: a.Number.Str(),
		Complement: a.Floor.Str(), Neighborhood: a.Locality.Str(), City: a.City.Str(), State: a.Province.Str(),
		PostalCode: domain.Digits(a.Zipcode.Str()), Country: strings.ToUpper(a.Country.Str()), Phone: p,
	}
}

// isPhone rejects what is obviously not a phone (the API's examples put e-mails there).
func isPhone(s string) bool {
	return s != "" && !strings.Contains(s, "@") && len(domain.Digits(s)) >= 6
}

// moneyField parses an amount; empty means zero.
func moneyField(v flex, currency string) (domain.Money, error) {
	s := v.Str()
	if s == "" {
		return domain.Money{Amount: decimal.Zero, Currency: currency}, nil
	}
	if len(s) > 32 || strings.ContainsAny(s, "eE") {
		return domain.Money{}, fmt.Errorf("%q is not a plain decimal amount", truncate(s, 32))
	}
	d, err := domain.ParseAmount(s)
	if err != nil {
		return domain.Money{}, err
	}
	return domain.Money{Amount: d, Currency: currency}, nil
}

// parseQuantity reads a whole quantity ("2", 2, "2.0").
func parseQuantity(s string) (int64, bool) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	if len(s) > 24 || strings.ContainsAny(s, "eE") {
		return 0, false
	}
	d, err := decimal.NewFromString(s)
	if err != nil || !d.IsInteger() || d.Abs().GreaterThan(decimal.NewFromInt(1<<53)) {
		return 0, false
	}
	return d.IntPart(), true
}

// apiTime reads the API's ISO 8601 times ("2022-11-15T19:36:59+0000", RFC 3339) as UTC.
func apiTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, fmt.Errorf("missing")
	}
	for _, layout := range []string{"2006-01-02T15:04:05-0700", time.RFC3339Nano, "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			if t.Year() < 2000 || t.Year() > 2200 {
				break
			}
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an ISO 8601 time", truncate(s, 40))
}
