package domain

import (
	"strings"
	"time"
)

// Address is a postal address as the platform gave it.
type Address struct {
	Name         string `json:"name,omitempty"`
	Street       string `json:"street,omitempty"`
	Number       string `json:"number,omitempty"`
	Complement   string `json:"complement,omitempty"`
	Neighborhood string `json:"neighborhood,omitempty"`
	City         string `json:"city,omitempty"`
	State        string `json:"state,omitempty"`
	PostalCode   string `json:"postal_code,omitempty"`
	Country      string `json:"country,omitempty"`
	Phone        string `json:"phone,omitempty"`
}

// Customer is a buyer or a B2B client, as the platform or the ERP knows it.
type Customer struct {
	Tenant      string   `json:"tenant,omitempty"`
	ExternalID  string   `json:"external_id,omitempty"`
	Name        string   `json:"name"`
	CompanyName string   `json:"company_name,omitempty"`
	TradeName   string   `json:"trade_name,omitempty"`
	Document    string   `json:"document,omitempty"` // CPF/CNPJ or VAT id
	Email       string   `json:"email,omitempty"`
	Phones      []string `json:"phones,omitempty"`
	Address     *Address `json:"address,omitempty"`
	// StateRegistration is a company's state tax registration (Brazil's inscrição
	// estadual), as given: a number or "Isento" (exempt).
	StateRegistration string `json:"state_registration,omitempty"`
}

// OrderLine is one line of a platform order. UnitPrice is the price of one unit as the
// platform states it, before the line's discount (with tax folded in only when the
// order says TaxesIncluded); Discount is the whole line's discount, not per unit; Tax
// is the whole line's tax.
type OrderLine struct {
	SKU       string `json:"sku"`
	EAN       string `json:"ean,omitempty"`
	ProductID string `json:"product_id,omitempty"`
	VariantID string `json:"variant_id,omitempty"`
	Name      string `json:"name,omitempty"`
	Quantity  int64  `json:"quantity"`
	UnitPrice Money  `json:"unit_price"`
	Discount  Money  `json:"discount"`
	Tax       *Money `json:"tax,omitempty"`
}

// Pickup is where the buyer collects the order instead of a delivery to an address
// (a carrier agency or pickup point, e.g. a Correios agency on Tray).
type Pickup struct {
	ID      string   `json:"id,omitempty"`
	Name    string   `json:"name,omitempty"`
	Address *Address `json:"address,omitempty"`
}

// Order is the canonical order every connector normalises to.
type Order struct {
	Tenant         string      `json:"tenant,omitempty"`
	ConnectionID   string      `json:"connection_id"`
	PlatformID     string      `json:"platform_id"`
	Number         string      `json:"number,omitempty"`
	PlatformStatus string      `json:"platform_status"`
	Customer       Customer    `json:"customer"`
	Billing        *Address    `json:"billing,omitempty"`
	Shipping       *Address    `json:"shipping,omitempty"`
	Pickup         *Pickup     `json:"pickup,omitempty"`
	Lines          []OrderLine `json:"lines"`
	// Discount is every discount of the order (its lines' included), as a positive amount.
	Discount     Money `json:"discount"`
	ShippingCost Money `json:"shipping_cost"`
	// Tax is the order's whole tax; nil when the platform states none. TaxesIncluded says
	// unit prices and shipping already hold it (so it is not added again to the total).
	Tax           *Money `json:"tax,omitempty"`
	TaxesIncluded bool   `json:"taxes_included,omitempty"`
	// Fees are other charges the buyer pays on top (payment surcharges or interest,
	// handling fees), summed.
	Fees           *Money    `json:"fees,omitempty"`
	Total          Money     `json:"total"`
	PaymentMethod  string    `json:"payment_method,omitempty"`
	ShippingMethod string    `json:"shipping_method,omitempty"`
	CouponCodes    []string  `json:"coupon_codes,omitempty"`
	Note           string    `json:"note,omitempty"`
	PlacedAt       time.Time `json:"placed_at"`
	UpdatedAt      time.Time `json:"updated_at"`
	// TotalMismatch is set by the hub (never by a connector) when Total differs from the
	// sum of its parts; it says by how much, for the operator and the ERP.
	TotalMismatch string `json:"total_mismatch,omitempty"`
}

// OrderStatusUpdate is what the hub writes back to a platform for an order.
type OrderStatusUpdate struct {
	PlatformStatus string    `json:"platform_status"`
	InvoiceNumber  string    `json:"invoice_number,omitempty"`
	InvoiceKey     string    `json:"invoice_key,omitempty"`
	InvoiceURL     string    `json:"invoice_url,omitempty"`
	TrackingCode   string    `json:"tracking_code,omitempty"`
	TrackingURL    string    `json:"tracking_url,omitempty"`
	Carrier        string    `json:"carrier,omitempty"`
	At             time.Time `json:"at"`
}

// Digits keeps the ASCII digits of s: documents (CPF/CNPJ), phones and postcodes arrive
// with and without punctuation and compare on their digits.
func Digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}
