package storetest

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/domain"
)

// at is a fixed UTC instant with nanoseconds, so precision loss shows up.
var at = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC)

func money(amount string) domain.Money { return domain.MustMoney(amount, "BRL") }

func moneyPtr(amount string) *domain.Money { m := money(amount); return &m }

func decPtr(s string) *decimal.Decimal { d := decimal.RequireFromString(s); return &d }

func i64(v int64) *int64 { return &v }

func tenant(id, keyHash string) domain.Tenant {
	return domain.Tenant{ID: id, Name: "Tenant " + id, APIKeyHash: keyHash, Currency: "BRL", CreatedAt: at}
}

// connection fills every field, including decimals, pointers and nested maps.
func connection(id, tenantID string) domain.Connection {
	return domain.Connection{
		ID: id, Tenant: tenantID, Platform: "tray", Name: "Store " + id, Enabled: true,
		Rules: domain.Rules{
			SyncMode:        domain.SyncPriceStock,
			PriceSource:     domain.PriceFromERP,
			MarkupPct:       decimal.RequireFromString("12.5"),
			FixedAdd:        decimal.RequireFromString("0.10"),
			PriceEnding:     decPtr("0.90"),
			MaxPriceDropPct: decPtr("30"),
			Warehouses:      []string{"main", "outlet"},
			SafetyStock:     2,
			StockPct:        decPtr("80"),
			MaxListed:       i64(100),
			Allowlist:       []string{"SKU-1", "7891234567895"},
			AllowBackorders: true,
			StatusMap: domain.StatusMap{
				Import:    []string{"paid", "approved"},
				Received:  "processing",
				Reject:    []string{"fraud"},
				Reserve:   []string{"paid"},
				Cancel:    []string{"cancelled"},
				WriteBack: map[string]string{"invoiced": "invoiced", "shipped": "sent"},
			},
			DefaultPaymentTerms:   "30/60",
			CreateMissingProducts: true,
		},
		Settings:  map[string]string{"base_url": "https://example.test/api", "store_id": "42"},
		SecretRef: "conn/" + id,
		Currency:  "BRL",
		CreatedAt: at,
	}
}

// skuState fills every field of the aggregate: product, stock map, price with optional
// amounts, reservations map.
func skuState(tenantID, sku string, rev int64) domain.SKUState {
	return domain.SKUState{
		Tenant: tenantID,
		SKU:    sku,
		Product: &domain.Product{
			SKU: sku, EAN: "7891234567895", AdditionalCodes: []string{"ALT-" + sku},
			Name: "Café torrado 500g", Description: "Grãos \"especiais\"\n<b>novo</b>", Brand: "Ponte",
			Category: "Mercearia", Supplier: "Fornecedor", Images: []string{"https://img.test/1.jpg"},
			Attributes:  map[string]string{"color": "black", "size": "500g"},
			WeightGrams: 500, Publish: true, SyncStock: true, Version: 1741964966535, UpdatedAt: at,
		},
		Stock: map[string]domain.StockLevel{
			"main":   {Warehouse: "main", Quantity: 17, Version: 11, UpdatedAt: at},
			"outlet": {Warehouse: "outlet", Quantity: -3, Version: 12, UpdatedAt: at.Add(time.Second)},
		},
		Price: &domain.PriceInfo{
			Price: money("19.90"), Cost: moneyPtr("7.3333"), List: moneyPtr("24.9900"),
			Version: 5, UpdatedAt: at,
		},
		Reservations: map[string]domain.Reservation{
			"tray:1001": {OrderKey: "tray:1001", ConnectionID: "c1", Quantity: 2, CreatedAt: at},
		},
		Rev:       rev,
		UpdatedAt: at,
	}
}

func mapping(tenantID, conn, sku, product, variant string) domain.Mapping {
	return domain.Mapping{Tenant: tenantID, ConnectionID: conn, SKU: sku, ProductID: product, VariantID: variant, CreatedAt: at}
}

func productData() *domain.ProductData {
	return &domain.ProductData{
		Name: "Café", Description: "d", Brand: "b", Category: "c", EAN: "7891234567895",
		Images: []string{"https://img.test/1.jpg"}, Attributes: map[string]string{"k": "v"},
		WeightGrams: 500, Published: true,
	}
}

func desired(tenantID, conn, sku string, rev int64) domain.DesiredState {
	return domain.DesiredState{
		Tenant: tenantID, ConnectionID: conn, SKU: sku,
		Stock: i64(rev * 10), Price: moneyPtr("22.90"), Cost: moneyPtr("7.3333"), ListPrice: moneyPtr("29.90"),
		Product:    productData(),
		Rev:        rev,
		Versions:   domain.Versions{Stock: 11, Price: 5, Product: 1741964966535},
		ComputedAt: at,
	}
}

func pushed(tenantID, conn, sku string, rev int64, stamp time.Time) domain.PushedState {
	return domain.PushedState{
		Tenant: tenantID, ConnectionID: conn, SKU: sku,
		Stock: i64(rev * 10), Price: moneyPtr("22.90"), Cost: moneyPtr("7.3333"), ListPrice: moneyPtr("29.90"),
		Product:  productData(),
		Rev:      rev,
		Versions: domain.Versions{Stock: 11, Price: 5, Product: 1741964966535},
		PushedAt: stamp,
	}
}
