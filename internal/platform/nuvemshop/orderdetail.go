package nuvemshop

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/domain"
)

// orderMoney fills the order's amounts from every amount Nuvemshop states. Nuvemshop
// prices include taxes and state none apart, so Tax stays nil; lines carry no discount
// of their own (the order's discount covers coupons, gateway and promotions).
func orderMoney(out *domain.Order, o orderJSON, currency string) error {
	var err error
	money := func(field string, v flex) domain.Money {
		if err != nil {
			return domain.Money{}
		}
		m, e := moneyField(v, currency)
		if e != nil {
			err = fmt.Errorf("field %s: %v", field, e)
		}
		return m
	}
	// Every stated amount must parse, even those without a place in the canonical
	// order: a malformed one means the body is not what we understand.
	_ = money("subtotal", o.Subtotal)
	_ = money("shipping_cost_owner", o.ShippingCostOwner)
	coupon := money("discount_coupon", o.DiscountCoupon)
	gateway := money("discount_gateway", o.DiscountGateway)
	promo := money("promotional_discount.total_discount_amount", promotionAmount(o.PromotionalDiscount))
	out.ShippingCost = money("shipping_cost_customer", o.ShippingCostCustomer)
	if o.Discount.Str() != "" {
		out.Discount = money("discount", o.Discount)
	} else {
		// No overall discount stated: its documented parts add up to it.
		out.Discount = domain.Money{Amount: coupon.Amount.Add(gateway.Amount).Add(promo.Amount), Currency: currency}
	}
	if err != nil {
		return err
	}
	// The total is never assumed: "total" (documented), else "price" (the older
	// documented shape carries the total there), else the order is refused.
	switch {
	case o.Total.Str() != "":
		out.Total, err = moneyField(o.Total, currency)
		if err != nil {
			return fmt.Errorf("field total: %v", err)
		}
	case o.Price.Str() != "":
		out.Total, err = moneyField(o.Price, currency)
		if err != nil {
			return fmt.Errorf("field price (the total in the older order shape): %v", err)
		}
	default:
		return fmt.Errorf("field total is missing (and so is price, its older name): the order's total is unknown")
	}
	return nil
}

// reconcilePromotion adds promotional_discount.total_discount_amount to the order's
// discount when the stated "discount" evidently leaves it out: only when the stated
// total agrees with the parts with it and not without it. Nuvemshop does not document
// whether "discount" includes promotions; the total is the arbiter and is never changed.
func reconcilePromotion(out *domain.Order, o orderJSON, currency string) {
	if o.Discount.Str() == "" {
		return
	}
	promo, err := moneyField(promotionAmount(o.PromotionalDiscount), currency)
	if err != nil || !promo.Amount.IsPositive() || out.CheckTotal() == "" {
		return
	}
	with := *out
	with.Discount = domain.Money{Amount: out.Discount.Amount.Add(promo.Amount), Currency: currency}
	if with.CheckTotal() == "" {
		out.Discount = with.Discount
	}
}

// promotionAmount reads promotional_discount.total_discount_amount ("" when absent).
func promotionAmount(raw json.RawMessage) flex {
	var p struct {
		Total flex `json:"total_discount_amount"`
	}
	asObject(raw, &p)
	return p.Total
}

// paymentMethod names the gateway and, when stated, the buyer's method on it
// ("Mercado Pago (pix)"); the older shape has only the gateway.
func paymentMethod(o orderJSON) string {
	var pd struct {
		Method flex `json:"method"`
	}
	asObject(o.PaymentDetails, &pd)
	gateway := cmp.Or(o.GatewayName.Str(), o.Gateway.Str())
	method := pd.Method.Str()
	switch {
	case gateway == "" || strings.EqualFold(gateway, method):
		return method
	case method == "":
		return gateway
	}
	return gateway + " (" + method + ")"
}

// couponCodes reads coupon: [{"code": "..."}] (a list of codes tolerated).
func couponCodes(raw json.RawMessage) []string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '[' {
		return nil
	}
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		return nil
	}
	var out []string
	for _, it := range items {
		var c struct {
			Code flex `json:"code"`
		}
		code := ""
		if asObject(it, &c) {
			code = c.Code.Str()
		} else {
			var s flex
			if json.Unmarshal(it, &s) == nil {
				code = s.Str()
			}
		}
		if code != "" && !slices.Contains(out, code) {
			out = append(out, code)
		}
	}
	return out
}

// pickupDetailsJSON is shipping_pickup_details as far as Nuvemshop describes it ("the
// address and/or business hours of the selected pickup point"); its fields follow the
// fulfillment order's pickup_details {id, name, address}. Assumed, read tolerantly.
type pickupDetailsJSON struct {
	ID      flex            `json:"id"`
	Name    flex            `json:"name"`
	Address json.RawMessage `json:"address"`
}

// pickupAddressJSON accepts both address shapes Nuvemshop uses: the order's
// (address, province as text) and the fulfillment's (street, province {code, name}).
type pickupAddressJSON struct {
	Address  flex            `json:"address"`
	Street   flex            `json:"street"`
	Number   flex            `json:"number"`
	Floor    flex            `json:"floor"`
	Locality flex            `json:"locality"`
	City     flex            `json:"city"`
	Province json.RawMessage `json:"province"`
	Zipcode  flex            `json:"zipcode"`
	Country  json.RawMessage `json:"country"`
	Phone    flex            `json:"phone"`
}

// pickup is where the buyer collects an order whose shipping_pickup_type is "pickup":
// a store branch (shipping_store_branch_name) or a carrier's pickup point
// (shipping_pickup_details). Nil for deliveries.
func pickup(o orderJSON) *domain.Pickup {
	if !strings.EqualFold(o.ShippingPickupType.Str(), "pickup") {
		return nil
	}
	var d pickupDetailsJSON
	asObject(o.ShippingPickupDetails, &d)
	p := &domain.Pickup{
		ID:   cmp.Or(d.ID.Str(), o.ShippingOptionCode.Str()),
		Name: cmp.Or(d.Name.Str(), o.ShippingStoreBranch.Str(), o.ShippingOption.Str()),
	}
	var a pickupAddressJSON
	if asObject(d.Address, &a) {
		p.Address = toAddress(addressJSON{
			Address: flex(cmp.Or(a.Address.Str(), a.Street.Str())), Number: a.Number, Floor: a.Floor,
			Locality: a.Locality, City: a.City, Province: flex(codeOrName(a.Province, false)),
			Zipcode: a.Zipcode, Country: flex(codeOrName(a.Country, true)), Phone: a.Phone,
		}, p.Name, "")
	} else {
		var line flex // an address given as one line of text
		if json.Unmarshal(d.Address, &line) == nil && line.Str() != "" {
			p.Address = &domain.Address{Name: p.Name, Street: line.Str()}
		}
	}
	if p.Address != nil && p.Address.Name == "" {
		p.Address.Name = p.Name
	}
	return p
}

// codeOrName reads "SP" or {"code":"SP","name":"São Paulo"}: the name for a province
// (as the order's addresses give it), the code for a country.
func codeOrName(raw json.RawMessage, preferCode bool) string {
	var s flex
	if json.Unmarshal(raw, &s) == nil && s.Str() != "" {
		return s.Str()
	}
	var v struct {
		Code flex `json:"code"`
		Name flex `json:"name"`
	}
	if !asObject(raw, &v) {
		return ""
	}
	if preferCode {
		return cmp.Or(v.Code.Str(), v.Name.Str())
	}
	return cmp.Or(v.Name.Str(), v.Code.Str())
}

// zeroMoney is an explicit zero in the order's currency.
func zeroMoney(currency string) domain.Money {
	return domain.Money{Amount: decimal.Zero, Currency: currency}
}
