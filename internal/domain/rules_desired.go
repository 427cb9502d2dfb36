package domain

import (
	"maps"
	"slices"
	"time"
)

// Skip says why ComputeDesired left a SKU alone on a connection; "" means not skipped.
type Skip string

const (
	SkipNone               Skip = ""
	SkipConnectionDisabled Skip = "connection_disabled"
	// SkipTenantMismatch guards tenant isolation: a connection never computes another tenant's SKU.
	SkipTenantMismatch Skip = "tenant_mismatch"
	SkipUnknownProduct Skip = "unknown_product"
	SkipNotAllowlisted Skip = "not_allowlisted"
	SkipNotPublished   Skip = "not_published"
)

// ComputeDesired applies a connection's rules to a SKU's state. Checks run in the order
// of the Skip constants above; a skipped SKU gets a DesiredState carrying only identity,
// Rev and ComputedAt, which callers must not write or push.
//
//   - Stock: Available(), or nil (leave alone) when the product's SyncStock flag is off
//     or the ERP never sent a stock level.
//   - Price/Cost/ListPrice: SellingPrice/CostPrice/ListPrice when the ERP owns prices
//     (PriceSource "" or erp) and sent one; nil when the platform owns them.
//   - Product: catalogue data, Published=true, only in full sync mode ("" or full).
//   - Versions: newest stock version among the selected warehouses (when Stock is set),
//     the price version (when Price is set), and the product version (always: the
//     product's flags decide the outcome).
func ComputeDesired(c Connection, st SKUState, now time.Time) (DesiredState, Skip) {
	d := DesiredState{Tenant: st.Tenant, ConnectionID: c.ID, SKU: st.SKU, Rev: st.Rev, ComputedAt: now}
	r := c.Rules
	switch {
	case !c.Enabled:
		return d, SkipConnectionDisabled
	case c.Tenant != st.Tenant:
		return d, SkipTenantMismatch
	case st.Product == nil:
		return d, SkipUnknownProduct
	case !r.Allows(st.Product, st.SKU):
		return d, SkipNotAllowlisted
	case !st.Product.Publish:
		return d, SkipNotPublished
	}
	p := st.Product
	d.Versions.Product = p.Version

	if p.SyncStock && len(st.Stock) > 0 {
		n := Available(r, st)
		d.Stock = &n
		d.Versions.Stock = desiredStockVersion(r, st)
	}
	if (r.PriceSource == "" || r.PriceSource == PriceFromERP) && st.Price != nil {
		price := SellingPrice(r, *st.Price)
		d.Price = &price
		d.Cost = CostPrice(*st.Price)
		d.ListPrice = ListPrice(r, *st.Price)
		d.Versions.Price = st.Price.Version
	}
	if r.SyncMode == "" || r.SyncMode == SyncFull {
		d.Product = &ProductData{
			Name:        p.Name,
			Description: p.Description,
			Brand:       p.Brand,
			Category:    p.Category,
			EAN:         p.EAN,
			Images:      slices.Clone(p.Images),
			Attributes:  maps.Clone(p.Attributes),
			WeightGrams: p.WeightGrams,
			Published:   true,
		}
	}
	return d, SkipNone
}

// desiredStockVersion is the newest version among the warehouses that feed the store.
func desiredStockVersion(r Rules, st SKUState) Version {
	var v Version
	for w, lvl := range st.Stock {
		if len(r.Warehouses) == 0 || slices.Contains(r.Warehouses, w) {
			v = max(v, lvl.Version)
		}
	}
	return v
}

// Pending says which parts of a desired state differ from what was last pushed.
type Pending struct {
	Stock   bool
	Price   bool // price, cost or list price
	Product bool
}

// Any reports whether anything needs pushing.
func (p Pending) Any() bool { return p.Stock || p.Price || p.Product }

// Pending compares d with the last pushed state (nil: never pushed). A nil part of d
// means "leave alone" and is never pending; a set part is pending when it differs.
func (d DesiredState) Pending(p *PushedState) Pending {
	if p == nil {
		p = &PushedState{}
	}
	stock := d.Stock != nil && (p.Stock == nil || *d.Stock != *p.Stock)
	return Pending{
		Stock: stock,
		Price: pendingMoney(d.Price, p.Price) || pendingMoney(d.Cost, p.Cost) ||
			pendingMoney(d.ListPrice, p.ListPrice),
		Product: d.Product != nil && (p.Product == nil || !d.Product.Equal(*p.Product)),
	}
}

func pendingMoney(want, got *Money) bool {
	return want != nil && !MoneyPtrEqual(want, got)
}

// Equal compares product data field by field; a nil and an empty image list or
// attribute map are the same (JSON round trips turn one into the other). Image order
// counts: the first image is the main one.
func (a ProductData) Equal(b ProductData) bool {
	return a.Name == b.Name && a.Description == b.Description && a.Brand == b.Brand &&
		a.Category == b.Category && a.EAN == b.EAN && a.WeightGrams == b.WeightGrams &&
		a.Published == b.Published && slices.Equal(a.Images, b.Images) && maps.Equal(a.Attributes, b.Attributes)
}
