package catalog

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/store"
)

// itemWork handles the catalogue items of one Run.
type itemWork struct {
	s    *Service
	conn domain.Connection
	job  *store.Job
	idx  *index
	rep  *Report
}

func entryOf(it platform.CatalogItem) Entry {
	return Entry{SKU: it.SKU, EAN: it.EAN, ProductID: it.ProductID, VariantID: it.VariantID, Name: it.Name}
}

// handle links one item, imports it or reports why not. It never writes an ERP
// product's data.
func (w *itemWork) handle(ctx context.Context, it platform.CatalogItem) {
	c := &w.rep.Products
	c.Checked++
	addCategory(w.rep, it.Category)
	if it.ProductID == "" {
		w.fail(it, errors.New("the item has no product id"))
		return
	}
	m, err := w.s.Store.MappingByPlatformID(ctx, w.conn.ID, it.ProductID, it.VariantID)
	switch {
	case err == nil && m.CreatedAt.Before(w.job.StartedAt):
		c.AlreadyLinked++
		return
	case err == nil:
		// Linked by this job before a crash made it read the page again: match it again,
		// so it is counted as it was linked (the mapping write repeats harmlessly).
	case !errors.Is(err, store.ErrNotFound):
		w.fail(it, fmt.Errorf("read mapping: %w", err))
		return
	}
	mt := w.idx.match(it.SKU, it.EAN)
	if err == nil && (len(mt.candidates) != 1 || mt.candidates[0] != m.SKU) {
		c.AlreadyLinked++ // the ERP side changed since: keep the link this job made
		return
	}
	switch {
	case len(mt.candidates) == 1:
		w.link(ctx, it, mt.candidates[0], mt.by)
	case len(mt.candidates) > 1:
		e := entryOf(it)
		e.Code, e.MatchedBy, e.Candidates = mt.code, mt.by, mt.candidates
		e.Reason = "the code matches several ERP products"
		c.Ambiguous++
		c.AmbiguousItems = add(c.AmbiguousItems, e)
	case w.conn.Rules.ImportUnmatched:
		w.importItem(ctx, it)
	default:
		c.Unmatched++
		c.UnmatchedItems = add(c.UnmatchedItems, entryOf(it))
	}
}

// link maps the ERP SKU to the item unless the SKU is already mapped to another item of
// the store (then the pair is ambiguous: two store items for one ERP product).
func (w *itemWork) link(ctx context.Context, it platform.CatalogItem, sku, by string) {
	c := &w.rep.Products
	m, err := w.s.Store.GetMapping(ctx, w.conn.Tenant, w.conn.ID, sku)
	switch {
	case err == nil && (m.ProductID != it.ProductID || m.VariantID != it.VariantID):
		e := entryOf(it)
		e.Code, e.MatchedBy, e.Candidates = sku, ByMapping, []string{sku}
		e.Reason = "ERP SKU " + sku + " is already linked to product " + m.ProductID
		if m.VariantID != "" {
			e.Reason += " variant " + m.VariantID
		}
		c.Ambiguous++
		c.AmbiguousItems = add(c.AmbiguousItems, e)
		return
	case err == nil:
		// The same link exists (written by this job before a crash): nothing to write.
	case errors.Is(err, store.ErrNotFound):
		m = domain.Mapping{Tenant: w.conn.Tenant, ConnectionID: w.conn.ID, SKU: sku, ProductID: it.ProductID,
			VariantID: it.VariantID, CreatedAt: w.s.now()}
		if err := w.s.Store.PutMapping(ctx, m); err != nil {
			w.fail(it, fmt.Errorf("link to ERP SKU %s: %w", sku, err))
			return
		}
	default:
		w.fail(it, fmt.Errorf("read mapping of ERP SKU %s: %w", sku, err))
		return
	}
	switch {
	case w.idx.imported[sku]:
		c.Imported++
	case by == BySKU:
		c.LinkedBySKU++
	case by == ByEAN:
		c.LinkedByEAN++
	default:
		c.LinkedByCode++
	}
}

// importItem creates the hub product from the store's data and links it. The product
// has version 0, so any product change from the ERP overrides it, and no stock or price:
// the hub pushes nothing but its data until the ERP sends them. The write only creates:
// a product written meanwhile (a concurrent ERP change, another run) is matched instead.
func (w *itemWork) importItem(ctx context.Context, it platform.CatalogItem) {
	c := &w.rep.Products
	sku := strings.TrimSpace(it.SKU)
	if sku == "" {
		e := entryOf(it)
		e.Reason = "no ERP product matches and the item has no SKU to import it under"
		c.Unmatched++
		c.UnmatchedItems = add(c.UnmatchedItems, e)
		return
	}
	now := w.s.now()
	st := domain.SKUState{Tenant: w.conn.Tenant, SKU: sku, Rev: 1, UpdatedAt: now, Product: &domain.Product{
		SKU: sku, EAN: strings.TrimSpace(it.EAN), Name: it.Name, Description: it.Description, Category: it.Category,
		Images: it.Images, Attributes: it.Attributes, Publish: true, SyncStock: true, UpdatedAt: now,
	}}
	errs, err := w.s.Store.PutSKUs(ctx, []store.SKUWrite{{State: st, ExpectedRev: 0}})
	if err == nil && len(errs) == 1 {
		err = errs[0]
	}
	switch {
	case err == nil:
		w.idx.add(st)
		w.idx.imported[sku] = true
		w.link(ctx, it, sku, BySKU)
	case errors.Is(err, store.ErrConflict):
		got, gerr := w.s.Store.GetSKUs(ctx, w.conn.Tenant, []string{sku})
		if gerr != nil {
			w.fail(it, fmt.Errorf("re-read SKU %s after a concurrent write: %w", sku, gerr))
			return
		}
		cur, ok := got[sku]
		if !ok {
			w.fail(it, fmt.Errorf("import as SKU %s: %w", sku, err))
			return
		}
		w.idx.add(cur)
		w.link(ctx, it, sku, BySKU)
	default:
		w.fail(it, fmt.Errorf("import as SKU %s: %w", sku, err))
	}
}

func (w *itemWork) fail(it platform.CatalogItem, err error) {
	c := &w.rep.Products
	c.Failed++
	e := entryOf(it)
	e.Error = err.Error()
	c.FailedItems = add(c.FailedItems, e)
	w.s.log().Warn("first sync item failed", "connection", w.conn.ID, "product_id", it.ProductID,
		"variant_id", it.VariantID, "sku", it.SKU, "err", err)
}
