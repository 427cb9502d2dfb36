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
}

// OrderLine is one line of a platform order.
type OrderLine struct {
	SKU       string `json:"sku"`
	EAN       string `json:"ean,omitempty"`
	ProductID string `json:"product_id,omitempty"`
	VariantID string `json:"variant_id,omitempty"`
	Name      string `json:"name,omitempty"`
	Quantity  int64  `json:"quantity"`
	UnitPrice Money  `json:"unit_price"`
	Discount  Money  `json:"discount"`
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
	Lines          []OrderLine `json:"lines"`
	Discount       Money       `json:"discount"`
	ShippingCost   Money       `json:"shipping_cost"`
	Total          Money       `json:"total"`
	PaymentMethod  string      `json:"payment_method,omitempty"`
	ShippingMethod string      `json:"shipping_method,omitempty"`
	PlacedAt       time.Time   `json:"placed_at"`
	UpdatedAt      time.Time   `json:"updated_at"`
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
