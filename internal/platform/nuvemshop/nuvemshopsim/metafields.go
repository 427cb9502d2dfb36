package nuvemshopsim

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Metafield is an app's namespaced key-value entry on a resource. Nuvemshop's ERP
// guide keeps an order's NF-e in namespace "nfe", key "list": a JSON list of
// {"key", "link", "fulfillment_order_id"} in the value string.
type Metafield struct {
	ID            int64
	Namespace     string
	Key           string
	Value         string
	Description   string
	OwnerResource string
	OwnerID       string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// metaName is what namespaces and keys may hold: a letter, then letters, digits or _.
var metaName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

// ownerResources maps POST's owner_resource to the list path's segment.
var ownerResources = map[string]string{"Product": "products", "Product_Variant": "product_variants",
	"Category": "categories", "Page": "pages", "Order": "orders"}

func (m *Metafield) json() map[string]any {
	return map[string]any{"id": m.ID, "namespace": m.Namespace, "key": m.Key, "value": m.Value,
		"description": m.Description, "owner_resource": m.OwnerResource, "owner_id": num(m.OwnerID),
		"created_at": m.CreatedAt.UTC().Format(apiStamp), "updated_at": m.UpdatedAt.UTC().Format(apiStamp)}
}

// metafield finds one entry. Caller holds data.
func (st *store) metafield(owner, ownerID, namespace, key string) *Metafield {
	for _, m := range st.metas {
		if m.OwnerResource == owner && m.OwnerID == ownerID && m.Namespace == namespace && m.Key == key {
			return m
		}
	}
	return nil
}

// Metafields returns a copy of the store's metafields, oldest first.
func (s *Server) Metafields(storeID string) []Metafield {
	st := s.store(storeID)
	if st == nil {
		return nil
	}
	st.data.Lock()
	defer st.data.Unlock()
	out := make([]Metafield, 0, len(st.metas))
	for _, m := range st.metas {
		out = append(out, *m)
	}
	return out
}

// listMetafields serves GET /metafields/{owner_resource}?owner_id=&namespace=&key=.
func (s *Server) listMetafields(w http.ResponseWriter, r *http.Request, st *store, rt routed) {
	owner := ""
	for res, seg := range ownerResources {
		if seg == rt.id {
			owner = res
		}
	}
	if owner == "" {
		writeError(w, http.StatusNotFound, "Not Found", "Resource not found")
		return
	}
	q := r.URL.Query()
	out := []map[string]any{}
	st.data.Lock()
	for _, m := range st.metas {
		if m.OwnerResource != owner || (q.Get("owner_id") != "" && m.OwnerID != q.Get("owner_id")) ||
			(q.Get("namespace") != "" && m.Namespace != q.Get("namespace")) || (q.Get("key") != "" && m.Key != q.Get("key")) {
			continue
		}
		out = append(out, m.json())
	}
	st.data.Unlock()
	w.Header().Set("X-Total-Count", strconv.Itoa(len(out)))
	writeJSON(w, http.StatusOK, out)
}

// createMetafield serves POST /metafields: namespace and key a letter then letters,
// digits or _; value a string; owner_resource one of the documented ones and owner_id
// an existing order (for "Order"); one entry per owner, namespace and key.
func (s *Server) createMetafield(w http.ResponseWriter, st *store, raw []byte, now time.Time) {
	var b struct {
		Namespace     *string         `json:"namespace"`
		Key           *string         `json:"key"`
		Value         *string         `json:"value"`
		Description   string          `json:"description"`
		OwnerResource string          `json:"owner_resource"`
		OwnerID       json.RawMessage `json:"owner_id"`
	}
	if json.Unmarshal(raw, &b) != nil {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"value": []string{"The value must be a string."}})
		return
	}
	bad := map[string][]string{}
	if b.Namespace == nil || !metaName.MatchString(*b.Namespace) {
		bad["namespace"] = append(bad["namespace"], "The namespace format is invalid.")
	}
	if b.Key == nil || !metaName.MatchString(*b.Key) {
		bad["key"] = append(bad["key"], "The key format is invalid.")
	}
	if b.Value == nil {
		bad["value"] = append(bad["value"], "The value field is required.")
	}
	if _, ok := ownerResources[b.OwnerResource]; !ok {
		bad["owner_resource"] = append(bad["owner_resource"], "The selected owner resource is invalid.")
	}
	ownerID := strings.Trim(strings.TrimSpace(string(b.OwnerID)), `"`)
	if _, err := strconv.ParseInt(ownerID, 10, 64); err != nil {
		bad["owner_id"] = append(bad["owner_id"], "The owner id must be an integer.")
	}
	if len(bad) > 0 {
		writeJSON(w, http.StatusUnprocessableEntity, bad)
		return
	}
	st.data.Lock()
	if _, ok := st.orders[ownerID]; b.OwnerResource == "Order" && !ok {
		st.data.Unlock()
		writeError(w, http.StatusNotFound, "Not Found", "Order not found")
		return
	}
	if st.metafield(b.OwnerResource, ownerID, *b.Namespace, *b.Key) != nil {
		st.data.Unlock()
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"key": []string{"The key has already been taken."}})
		return
	}
	st.metaSeq++
	m := &Metafield{ID: st.metaSeq, Namespace: *b.Namespace, Key: *b.Key, Value: *b.Value, Description: b.Description,
		OwnerResource: b.OwnerResource, OwnerID: ownerID, CreatedAt: now, UpdatedAt: now}
	st.metas = append(st.metas, m)
	out := m.json()
	st.data.Unlock()
	writeJSON(w, http.StatusCreated, out)
}

// updateMetafield serves PUT /metafields/{id}: value (a string) and description.
func (s *Server) updateMetafield(w http.ResponseWriter, st *store, rt routed, raw []byte, now time.Time) {
	var b struct {
		Value       *string `json:"value"`
		Description *string `json:"description"`
	}
	if json.Unmarshal(raw, &b) != nil {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"value": []string{"The value must be a string."}})
		return
	}
	st.data.Lock()
	defer st.data.Unlock()
	for _, m := range st.metas {
		if strconv.FormatInt(m.ID, 10) != rt.id {
			continue
		}
		if b.Value != nil {
			m.Value = *b.Value
		}
		if b.Description != nil {
			m.Description = *b.Description
		}
		m.UpdatedAt = now
		writeJSON(w, http.StatusOK, m.json())
		return
	}
	writeError(w, http.StatusNotFound, "Not Found", "Metafield not found")
}
