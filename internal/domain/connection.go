package domain

import (
	"time"

	"github.com/shopspring/decimal"
)

// Tenant is one ERP customer of the hub. Its API key is kept only as a SHA-256 hash.
type Tenant struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	APIKeyHash string `json:"api_key_hash"`
	// OperatorKeyHash is the stored hash of the operator's key (the admin API and page);
	// "" means the tenant's API key also opens the operator's views.
	OperatorKeyHash string    `json:"operator_key_hash,omitempty"`
	Currency        string    `json:"currency"`
	CreatedAt       time.Time `json:"created_at"`
	// Endpoints receive the tenant's outgoing events as signed webhooks.
	Endpoints []WebhookEndpoint `json:"endpoints,omitempty"`
	// Disabled marks a tenant the setup no longer lists: kept with its data, its keys
	// answer 401 and its connections are disabled, until a setup lists it again.
	Disabled bool `json:"disabled,omitempty"`
}

// WebhookEndpoint is where a tenant wants events delivered (Standard Webhooks signing).
type WebhookEndpoint struct {
	ID  string `json:"id"`
	URL string `json:"url"`
	// Events lists the event types sent here ("order.accepted", ...); empty means all.
	Events []string `json:"events,omitempty"`
	// SecretRef names the secret holding the signing key under "secret" ("whsec_" + base64).
	SecretRef string `json:"secret_ref"`
	// ERPOrders makes this the ERP's order intake (push mode): a 2xx answer to
	// order.accepted registers the order, with the ERP's number when the body carries
	// {"erp_order_number": "..."}.
	ERPOrders bool `json:"erp_orders,omitempty"`
	Disabled  bool `json:"disabled,omitempty"`
}

// SyncMode says which fields a connection writes to its store (seed 001).
type SyncMode string

const (
	// SyncFull pushes stock, prices and catalogue data.
	SyncFull SyncMode = "full"
	// SyncPriceStock pushes only price, cost and stock; the merchant edits the rest on the store.
	SyncPriceStock SyncMode = "price_stock"
)

// PriceSource says who owns the selling price (seed 004).
type PriceSource string

const (
	PriceFromERP      PriceSource = "erp"
	PriceFromPlatform PriceSource = "platform"
)

// Rules are a connection's optional sync rules. The zero value syncs everything as is.
type Rules struct {
	SyncMode    SyncMode    `json:"sync_mode,omitempty"`
	PriceSource PriceSource `json:"price_source,omitempty"`
	// MarkupPct raises the ERP price by this percentage (10 means +10%).
	MarkupPct decimal.Decimal `json:"markup_pct"`
	// FixedAdd is added after the markup.
	FixedAdd decimal.Decimal `json:"fixed_add"`
	// PriceEnding rounds up to the next price with these cents, e.g. 0.90 or 0.99. Nil: no rounding.
	PriceEnding *decimal.Decimal `json:"price_ending,omitempty"`
	// MaxPriceDropPct refuses to push a price more than this percentage below the last pushed one.
	MaxPriceDropPct *decimal.Decimal `json:"max_price_drop_pct,omitempty"`
	// Warehouses feeding this store; empty means all.
	Warehouses []string `json:"warehouses,omitempty"`
	// SafetyStock is held back from the listed quantity.
	SafetyStock int64 `json:"safety_stock,omitempty"`
	// StockPct lists only this percentage of what is available (rounded down). Nil: 100%.
	StockPct *decimal.Decimal `json:"stock_pct,omitempty"`
	// MaxListed caps the listed quantity. Nil: no cap.
	MaxListed *int64 `json:"max_listed,omitempty"`
	// Allowlist restricts the connection to these SKUs or EANs (seed 002's test mode). Empty: all.
	Allowlist []string `json:"allowlist,omitempty"`
	// AllowBackorders lets orders import without stock.
	AllowBackorders bool `json:"allow_backorders,omitempty"`
	// StatusMap drives order capture (seed 002).
	StatusMap StatusMap `json:"status_map"`
	// DefaultPaymentTerms are applied to imported orders (seed 002).
	DefaultPaymentTerms string `json:"default_payment_terms,omitempty"`
	// CreateMissingProducts lets the hub create ERP products on the store when no mapping exists.
	CreateMissingProducts bool `json:"create_missing_products,omitempty"`
	// ImportUnmatched lets the first sync create hub products from store items no ERP product matches (seed 004).
	ImportUnmatched bool `json:"import_unmatched,omitempty"`
}

// StatusMap maps platform order statuses to what the hub does with them, and hub
// order states to the platform status written back.
type StatusMap struct {
	Import    []string          `json:"import,omitempty"`
	Received  string            `json:"received,omitempty"`
	Reject    []string          `json:"reject,omitempty"`
	Reserve   []string          `json:"reserve,omitempty"`
	Cancel    []string          `json:"cancel,omitempty"`
	WriteBack map[string]string `json:"write_back,omitempty"`
}

// Connection is one tenant's store on one platform, with its rules.
type Connection struct {
	ID       string `json:"id"`
	Tenant   string `json:"tenant"`
	Platform string `json:"platform"`
	Name     string `json:"name,omitempty"`
	Enabled  bool   `json:"enabled"`
	Rules    Rules  `json:"rules"`
	// Settings are platform-specific, non-secret values (base URL, store id, limits).
	Settings map[string]string `json:"settings,omitempty"`
	// SecretRef names where the credentials live (Secrets Manager id or embedded secret key).
	SecretRef string    `json:"secret_ref,omitempty"`
	Currency  string    `json:"currency,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Setting returns a setting or def when unset.
func (c Connection) Setting(name, def string) string {
	if v, ok := c.Settings[name]; ok && v != "" {
		return v
	}
	return def
}

// Mapping links an ERP SKU to a product (and variant) on a connection's platform.
type Mapping struct {
	Tenant       string    `json:"tenant"`
	ConnectionID string    `json:"connection_id"`
	SKU          string    `json:"sku"`
	ProductID    string    `json:"product_id"`
	VariantID    string    `json:"variant_id,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
}
