package httpapi

import (
	"errors"
	"net/http"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/store"
)

// SKUView is the operator's view of one SKU on one connection.
type SKUView struct {
	ConnectionID string               `json:"connection_id"`
	SKU          string               `json:"sku"`
	Mapping      *domain.Mapping      `json:"mapping,omitempty"`
	Desired      *domain.DesiredState `json:"desired"`
	Pushed       *domain.PushedState  `json:"pushed"`
	// InSync says the store was last given exactly the desired state.
	InSync   bool               `json:"in_sync"`
	Platform *platform.Snapshot `json:"platform,omitempty"`
	// PlatformError explains why the store could not be read back now.
	PlatformError string `json:"platform_error,omitempty"`
}

// getSKUView is GET /v1/admin/connections/{id}/skus/{sku}.
func (a *API) getSKUView(w http.ResponseWriter, r *http.Request, t domain.Tenant) {
	connID, sku := r.PathValue("id"), r.PathValue("sku")
	conn, err := a.Store.GetConnection(r.Context(), connID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && conn.Tenant != t.ID) {
		writeError(w, http.StatusNotFound, "id", "no such connection")
		return
	}
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "", "store unavailable; retry")
		return
	}
	v := SKUView{ConnectionID: connID, SKU: sku}
	if d, err := a.Store.GetDesired(r.Context(), t.ID, connID, sku); err == nil {
		v.Desired = &d
	} else if !errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusServiceUnavailable, "", "store unavailable; retry")
		return
	}
	if p, err := a.Store.GetPushed(r.Context(), t.ID, connID, sku); err == nil {
		v.Pushed = &p
	}
	if v.Desired != nil {
		v.InSync = !v.Desired.Pending(v.Pushed).Any()
	}
	m, err := a.Store.GetMapping(r.Context(), t.ID, connID, sku)
	if err != nil {
		v.PlatformError = "SKU is not mapped to a product on this connection"
		if v.Desired == nil && v.Pushed == nil {
			writeError(w, http.StatusNotFound, "sku", "SKU unknown on this connection")
			return
		}
		writeJSON(w, http.StatusOK, v)
		return
	}
	v.Mapping = &m
	v.Platform, v.PlatformError = a.readBack(r.Context(), conn, m)
	writeJSON(w, http.StatusOK, v)
}
