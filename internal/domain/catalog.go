package domain

import "time"

// Version is the ERP's own monotonic version for one input (a sequence number or a
// Unix timestamp in milliseconds), kept as given and compared numerically.
type Version int64

// Product is the ERP's catalogue record for one SKU.
type Product struct {
	SKU             string            `json:"sku"`
	EAN             string            `json:"ean,omitempty"`
	AdditionalCodes []string          `json:"additional_codes,omitempty"`
	Name            string            `json:"name"`
	Description     string            `json:"description,omitempty"`
	Brand           string            `json:"brand,omitempty"`
	Category        string            `json:"category,omitempty"`
	Supplier        string            `json:"supplier,omitempty"`
	Images          []string          `json:"images,omitempty"`
	Attributes      map[string]string `json:"attributes,omitempty"`
	WeightGrams     int64             `json:"weight_grams,omitempty"`
	// Publish is seed 002's "show product on the e-commerce" flag.
	Publish bool `json:"publish"`
	// SyncStock is seed 002's "sync stock to the e-commerce" flag.
	SyncStock bool      `json:"sync_stock"`
	Version   Version   `json:"version"`
	UpdatedAt time.Time `json:"updated_at"`
}

// StockLevel is the absolute on-hand quantity of a SKU in one warehouse.
type StockLevel struct {
	Warehouse string    `json:"warehouse"`
	Quantity  int64     `json:"quantity"`
	Version   Version   `json:"version"`
	UpdatedAt time.Time `json:"updated_at"`
}

// PriceInfo is the ERP's price for a SKU: selling price, optional cost and list price.
type PriceInfo struct {
	Price     Money     `json:"price"`
	Cost      *Money    `json:"cost,omitempty"`
	List      *Money    `json:"list,omitempty"`
	Version   Version   `json:"version"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Reservation holds stock for an accepted order until the ERP registers the sale or
// the order is cancelled.
type Reservation struct {
	OrderKey     string    `json:"order_key"`
	ConnectionID string    `json:"connection_id"`
	Quantity     int64     `json:"quantity"`
	CreatedAt    time.Time `json:"created_at"`
	// AckedAt is when the ERP registered the sale. The reservation then lasts only until
	// the ERP's next stock level for the SKU arrives (which includes the sale) or a grace
	// period passes, so the listed quantity never rises in between.
	AckedAt *time.Time `json:"acked_at,omitempty"`
}

// SKUState is everything the hub knows about one ERP SKU of one tenant: the inputs the
// per-connection rules read. Rev grows by one on every write and guards concurrent
// writers (optimistic locking).
type SKUState struct {
	Tenant       string                 `json:"tenant"`
	SKU          string                 `json:"sku"`
	Product      *Product               `json:"product,omitempty"`
	Stock        map[string]StockLevel  `json:"stock,omitempty"`
	Price        *PriceInfo             `json:"price,omitempty"`
	Reservations map[string]Reservation `json:"reservations,omitempty"`
	Rev          int64                  `json:"rev"`
	UpdatedAt    time.Time              `json:"updated_at"`
}

// Known reports whether the hub has a catalogue record for the SKU.
func (s SKUState) Known() bool { return s.Product != nil }

// ReservedQuantity is the sum of open reservations.
func (s SKUState) ReservedQuantity() int64 {
	var n int64
	for _, r := range s.Reservations {
		n += r.Quantity
	}
	return n
}

// Clone returns a deep copy so rules and writers never share maps.
func (s SKUState) Clone() SKUState {
	c := s
	if s.Product != nil {
		p := *s.Product
		p.AdditionalCodes = append([]string(nil), s.Product.AdditionalCodes...)
		p.Images = append([]string(nil), s.Product.Images...)
		if s.Product.Attributes != nil {
			p.Attributes = make(map[string]string, len(s.Product.Attributes))
			for k, v := range s.Product.Attributes {
				p.Attributes[k] = v
			}
		}
		c.Product = &p
	}
	if s.Price != nil {
		p := *s.Price
		c.Price = &p
	}
	c.Stock = make(map[string]StockLevel, len(s.Stock))
	for k, v := range s.Stock {
		c.Stock[k] = v
	}
	c.Reservations = make(map[string]Reservation, len(s.Reservations))
	for k, v := range s.Reservations {
		c.Reservations[k] = v
	}
	return c
}
