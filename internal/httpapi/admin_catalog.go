package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"unicode"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/store"
)

// CatalogStore is what the operator's catalogue routes read and write besides OpsStore.
type CatalogStore interface {
	ListSKUs(ctx context.Context, tenant, cursor string, limit int) ([]domain.SKUState, string, error)
	PutSKUs(ctx context.Context, writes []store.SKUWrite) ([]error, error)
}

// catalogOn answers 404 when the hub runs without the catalogue's dependencies.
func (a *API) catalogOn(h func(http.ResponseWriter, *http.Request, domain.Tenant)) func(http.ResponseWriter, *http.Request, domain.Tenant) {
	return a.opsOn(func(w http.ResponseWriter, r *http.Request, t domain.Tenant) {
		if a.Catalog == nil {
			writeError(w, http.StatusNotFound, "", "the catalogue routes are not enabled on this hub")
			return
		}
		h(w, r, t)
	})
}

// ConnectionSummary is one connection in GET /v1/admin/connections (no settings: they
// may name credentials).
type ConnectionSummary struct {
	ID       string `json:"id"`
	Platform string `json:"platform"`
	Enabled  bool   `json:"enabled"`
}

// ConnectionList is the answer of GET /v1/admin/connections.
type ConnectionList struct {
	Connections []ConnectionSummary `json:"connections"`
}

// getConnections is GET /v1/admin/connections: the tenant's connections.
func (a *API) getConnections(w http.ResponseWriter, r *http.Request, t domain.Tenant) {
	conns, err := a.Ops.ListConnections(r.Context(), t.ID)
	if err != nil {
		logger(r).Error("list connections failed", "tenant", t.ID, "err", err)
		writeError(w, http.StatusServiceUnavailable, "", "store unavailable; retry")
		return
	}
	out := ConnectionList{Connections: make([]ConnectionSummary, 0, len(conns))}
	for _, c := range conns {
		out.Connections = append(out.Connections, ConnectionSummary{ID: c.ID, Platform: c.Platform, Enabled: c.Enabled})
	}
	writeJSON(w, http.StatusOK, out)
}

// UnmappedSKU is an ERP product the connection would sell but has no platform item for.
type UnmappedSKU struct {
	SKU  string `json:"sku"`
	Name string `json:"name,omitempty"`
	EAN  string `json:"ean,omitempty"`
}

// UnmappedList is the answer of GET /v1/admin/connections/{id}/unmapped.
type UnmappedList struct {
	SKUs []UnmappedSKU `json:"skus"`
	// NextCursor continues the scan; "" means the catalogue was read to the end.
	NextCursor string `json:"next_cursor"`
	// Scanned is how many ERP products this page looked at.
	Scanned int `json:"scanned"`
}

// unmappedScanPages bounds one request's walk over a catalogue where almost everything
// is mapped: the answer then carries fewer SKUs and a cursor to go on.
const unmappedScanPages = 5

// getUnmapped is GET /v1/admin/connections/{id}/unmapped?cursor=&limit=: the ERP
// products the connection's rules let through that have no mapping on it (what a first
// sync, a mapping in the setup or creating them on the store would fix).
func (a *API) getUnmapped(w http.ResponseWriter, r *http.Request, t domain.Tenant) {
	conn, ok := a.ownConnection(w, r, t, "id", r.PathValue("id"))
	if !ok {
		return
	}
	limit, ok := queryLimit(w, r, 100, 500)
	if !ok {
		return
	}
	cursor := r.URL.Query().Get("cursor")
	out := UnmappedList{SKUs: []UnmappedSKU{}}
	for range unmappedScanPages {
		page, next, err := a.Catalog.ListSKUs(r.Context(), t.ID, cursor, limit)
		if err != nil {
			listFailed(w, r, err, "list skus", t.ID)
			return
		}
		for _, st := range page {
			out.Scanned++
			if st.Product == nil || !conn.Rules.Allows(st.Product, st.SKU) {
				continue
			}
			_, err := a.Store.GetMapping(r.Context(), t.ID, conn.ID, st.SKU)
			switch {
			case errors.Is(err, store.ErrNotFound):
				out.SKUs = append(out.SKUs, UnmappedSKU{SKU: st.SKU, Name: st.Product.Name, EAN: st.Product.EAN})
			case err != nil:
				logger(r).Error("mapping lookup failed", "tenant", t.ID, "connection", conn.ID, "sku", st.SKU, "err", err)
				writeError(w, http.StatusServiceUnavailable, "", "store unavailable; retry")
				return
			}
		}
		cursor = next
		if next == "" || len(out.SKUs) > 0 {
			break
		}
	}
	out.NextCursor = cursor
	writeJSON(w, http.StatusOK, out)
}

// AdditionalCodeRequest is the body of POST /v1/admin/products/{sku}/codes.
type AdditionalCodeRequest struct {
	Code string `json:"code"`
}

// ProductCodes is its answer: the product's additional codes after the change.
type ProductCodes struct {
	SKU             string   `json:"sku"`
	AdditionalCodes []string `json:"additional_codes"`
}

const maxCodeLen = 64

// postAdditionalCode is POST /v1/admin/products/{sku}/codes: the operator gives an ERP
// product the code a store item carries, so the next first sync links the two (seed
// 004). The ERP stays the master: its next product change replaces the codes, so the
// code belongs in the ERP too; a link made meanwhile stays.
func (a *API) postAdditionalCode(w http.ResponseWriter, r *http.Request, t domain.Tenant) {
	var in AdditionalCodeRequest
	if !decodeStrict(w, r, 4<<10, &in) {
		return
	}
	code := strings.TrimSpace(in.Code)
	if code == "" || len(code) > maxCodeLen || strings.ContainsFunc(code, unicode.IsControl) {
		writeError(w, http.StatusBadRequest, "code", fmt.Sprintf("required: 1 to %d printable characters", maxCodeLen))
		return
	}
	sku := r.PathValue("sku")
	for range 5 { // optimistic: re-read when a concurrent ERP change wins
		states, err := a.Ops.GetSKUs(r.Context(), t.ID, []string{sku})
		if err != nil {
			logger(r).Error("read sku failed", "tenant", t.ID, "sku", sku, "err", err)
			writeError(w, http.StatusServiceUnavailable, "", "store unavailable; retry")
			return
		}
		st, found := states[sku]
		if !found || st.Product == nil {
			writeError(w, http.StatusNotFound, "sku", fmt.Sprintf("no ERP product %q", sku))
			return
		}
		if slices.ContainsFunc(append([]string{st.SKU, st.Product.EAN}, st.Product.AdditionalCodes...),
			func(c string) bool { return strings.EqualFold(c, code) }) {
			writeJSON(w, http.StatusOK, ProductCodes{SKU: sku, AdditionalCodes: st.Product.AdditionalCodes})
			return
		}
		next := st.Clone()
		next.Product.AdditionalCodes = append(next.Product.AdditionalCodes, code)
		next.Rev = st.Rev + 1
		errs, err := a.Catalog.PutSKUs(r.Context(), []store.SKUWrite{{State: next, ExpectedRev: st.Rev}})
		if err == nil && len(errs) == 1 {
			err = errs[0]
		}
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			logger(r).Error("write sku failed", "tenant", t.ID, "sku", sku, "err", err)
			writeError(w, http.StatusServiceUnavailable, "", "store unavailable; retry")
			return
		}
		logger(r).Info("operator added an additional code", "tenant", t.ID, "sku", sku, "code", code)
		writeJSON(w, http.StatusOK, ProductCodes{SKU: sku, AdditionalCodes: next.Product.AdditionalCodes})
		return
	}
	writeError(w, http.StatusConflict, "sku", "the product kept changing; retry")
}

// decodeStrict reads a JSON body of at most limit bytes into v, refusing unknown fields;
// it answers 413 or 400 naming the body and returns false when the caller must stop.
func decodeStrict(w http.ResponseWriter, r *http.Request, limit int64, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "body", fmt.Sprintf("at most %d KiB", limit>>10))
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "body", fmt.Sprintf("malformed JSON: %v", err))
		return false
	}
	return true
}
