package domain

import "time"

// Versions are the newest ERP versions a computed state reflects, per input kind.
type Versions struct {
	Stock   Version `json:"stock"`
	Price   Version `json:"price"`
	Product Version `json:"product"`
}

// ProductData is what a full sync writes to the store besides stock and price.
type ProductData struct {
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	Brand       string            `json:"brand,omitempty"`
	Category    string            `json:"category,omitempty"`
	EAN         string            `json:"ean,omitempty"`
	Images      []string          `json:"images,omitempty"`
	Attributes  map[string]string `json:"attributes,omitempty"`
	WeightGrams int64             `json:"weight_grams,omitempty"`
	Published   bool              `json:"published"`
}

// DesiredState is what one connection's store should hold for one SKU, computed by the
// connection's rules from the SKUState at revision Rev. Nil fields are left alone.
type DesiredState struct {
	Tenant       string       `json:"tenant"`
	ConnectionID string       `json:"connection_id"`
	SKU          string       `json:"sku"`
	Stock        *int64       `json:"stock,omitempty"`
	Price        *Money       `json:"price,omitempty"`
	Cost         *Money       `json:"cost,omitempty"`
	ListPrice    *Money       `json:"list_price,omitempty"`
	Product      *ProductData `json:"product,omitempty"`
	// Rev is the SKUState revision this was computed from; writes only move it forward.
	Rev        int64     `json:"rev"`
	Versions   Versions  `json:"versions"`
	ComputedAt time.Time `json:"computed_at"`
}

// PushedState is what the hub last wrote successfully to a connection's store.
type PushedState struct {
	Tenant       string       `json:"tenant"`
	ConnectionID string       `json:"connection_id"`
	SKU          string       `json:"sku"`
	Stock        *int64       `json:"stock,omitempty"`
	Price        *Money       `json:"price,omitempty"`
	Cost         *Money       `json:"cost,omitempty"`
	ListPrice    *Money       `json:"list_price,omitempty"`
	Product      *ProductData `json:"product,omitempty"`
	// Rev is the DesiredState revision that was pushed.
	Rev      int64     `json:"rev"`
	Versions Versions  `json:"versions"`
	PushedAt time.Time `json:"pushed_at"`
}
