package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/httpapi"
	"github.com/ponte-hub/ponte/internal/orders"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platforms"
	"github.com/ponte-hub/ponte/internal/store"
)

// Setup is the declarative configuration `ponte serve` loads (PONTE_CONFIG): tenants with
// their keys, connections with rules, credentials and SKU mappings.
type Setup struct {
	Tenants     []TenantSetup                `json:"tenants"`
	Connections []domain.Connection          `json:"connections"`
	Secrets     map[string]map[string]string `json:"secrets,omitempty"`
	Mappings    []domain.Mapping             `json:"mappings,omitempty"`
}

// TenantSetup declares a tenant; APIKey is hashed before it is stored.
type TenantSetup struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	APIKey string `json:"api_key"`
	// OperatorKey opens the operator's API and page (/v1/admin, /admin/); it must differ
	// from every API key, so the ERP's key never doubles as the operator's.
	OperatorKey string `json:"operator_key,omitempty"`
	Currency    string `json:"currency,omitempty"`
	// Endpoints receive the tenant's events (the ERP's order push among them); each
	// endpoint's signing secret lives in Secrets under its secret_ref, key "secret".
	Endpoints []domain.WebhookEndpoint `json:"endpoints,omitempty"`
}

const maxSetupBytes = 16 << 20

// LoadSetup reads and validates a setup file.
func LoadSetup(path string) (Setup, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Setup{}, fmt.Errorf("read config: %w", err)
	}
	if len(b) > maxSetupBytes {
		return Setup{}, fmt.Errorf("config %s: larger than %d bytes", path, maxSetupBytes)
	}
	var s Setup
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Setup{}, fmt.Errorf("config %s: %w", path, err)
	}
	if err := s.Validate(); err != nil {
		return Setup{}, fmt.Errorf("config %s: %w", path, err)
	}
	return s, nil
}

// Validate names the first bad field.
func (s Setup) Validate() error {
	tenants := map[string]bool{}
	keys := map[string]bool{}
	for i, t := range s.Tenants {
		switch {
		case t.ID == "":
			return fmt.Errorf("tenants[%d].id: required", i)
		case tenants[t.ID]:
			return fmt.Errorf("tenants[%d].id: %q is declared twice", i, t.ID)
		case len(t.APIKey) < 8:
			return fmt.Errorf("tenants[%d].api_key: at least 8 characters", i)
		case keys[t.APIKey]:
			return fmt.Errorf("tenants[%d].api_key: already the key of another tenant", i)
		case t.OperatorKey != "" && len(t.OperatorKey) < 12:
			return fmt.Errorf("tenants[%d].operator_key: at least 12 characters", i)
		case t.OperatorKey != "" && (keys[t.OperatorKey] || t.OperatorKey == t.APIKey):
			return fmt.Errorf("tenants[%d].operator_key: already in use as another key", i)
		}
		if err := validateEndpoints(t.Endpoints, s.Secrets); err != nil {
			return fmt.Errorf("tenants[%d].%w", i, err)
		}
		tenants[t.ID] = true
		keys[t.APIKey] = true
		if t.OperatorKey != "" {
			keys[t.OperatorKey] = true
		}
	}
	conns := map[string]bool{}
	for i, c := range s.Connections {
		switch {
		case c.ID == "":
			return fmt.Errorf("connections[%d].id: required", i)
		case conns[c.ID]:
			return fmt.Errorf("connections[%d].id: %q is declared twice", i, c.ID)
		case !tenants[c.Tenant]:
			return fmt.Errorf("connections[%d].tenant: unknown tenant %q", i, c.Tenant)
		case !slices.Contains(platforms.Names(), c.Platform):
			return fmt.Errorf("connections[%d].platform: unknown platform %q (have %v)", i, c.Platform, platforms.Names())
		}
		if err := c.Rules.Validate(); err != nil {
			return fmt.Errorf("connections[%d].rules: %w", i, err)
		}
		if err := orders.ValidatePollSettings(c); err != nil {
			return fmt.Errorf("connections[%d].settings.%w", i, err)
		}
		conns[c.ID] = true
	}
	for i, m := range s.Mappings {
		switch {
		case !conns[m.ConnectionID]:
			return fmt.Errorf("mappings[%d].connection_id: unknown connection %q", i, m.ConnectionID)
		case m.SKU == "":
			return fmt.Errorf("mappings[%d].sku: required", i)
		case m.ProductID == "":
			return fmt.Errorf("mappings[%d].product_id: required", i)
		}
	}
	return nil
}

// ApplySetup writes a validated setup; it is safe to run at every start.
func (h *Hub) ApplySetup(ctx context.Context, s Setup) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if h.Backend == "aws" {
		if err := endpointSecretsReadable(s.Tenants); err != nil {
			return err
		}
	}
	now := time.Now().UTC()
	tenantOf := map[string]string{}
	for _, t := range s.Tenants {
		created := now
		if old, err := h.Store.GetTenant(ctx, t.ID); err == nil {
			created = old.CreatedAt
		}
		tenant := domain.Tenant{ID: t.ID, Name: t.Name, APIKeyHash: httpapi.HashKey(t.APIKey), Currency: t.Currency, CreatedAt: created,
			Endpoints: t.Endpoints}
		if t.OperatorKey != "" {
			tenant.OperatorKeyHash = httpapi.HashKey(t.OperatorKey)
		}
		err := h.Store.PutTenant(ctx, tenant)
		if err != nil {
			return fmt.Errorf("store tenant %s: %w", t.ID, err)
		}
	}
	for ref, values := range s.Secrets {
		// Keep tokens a connector refreshed since the last start.
		old, err := h.Secrets.GetSecret(ctx, ref)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("read secret %s: %w", ref, err)
		}
		merged := map[string]string{}
		for k, v := range old {
			merged[k] = v
		}
		for k, v := range values {
			merged[k] = v
		}
		if err := h.Secrets.PutSecret(ctx, ref, merged); err != nil {
			return fmt.Errorf("store secret %s: %w", ref, err)
		}
	}
	for _, c := range s.Connections {
		if c.CreatedAt.IsZero() {
			c.CreatedAt = now
			if old, err := h.Store.GetConnection(ctx, c.ID); err == nil {
				c.CreatedAt = old.CreatedAt
			}
		}
		if err := h.Store.PutConnection(ctx, c); err != nil {
			return fmt.Errorf("store connection %s: %w", c.ID, err)
		}
		tenantOf[c.ID] = c.Tenant
	}
	platformOf := map[string]string{}
	for _, c := range s.Connections {
		platformOf[c.ID] = c.Platform
	}
	for i, m := range s.Mappings {
		m.Tenant = tenantOf[m.ConnectionID]
		if n, ok := h.Connectors[platformOf[m.ConnectionID]].(platform.TargetNormaliser); ok {
			t, err := n.NormaliseTarget(platform.Target{ProductID: m.ProductID, VariantID: m.VariantID})
			if err != nil {
				return fmt.Errorf("mappings[%d]: %w", i, err)
			}
			m.ProductID, m.VariantID = t.ProductID, t.VariantID
		}
		if m.CreatedAt.IsZero() {
			m.CreatedAt = now
			if old, err := h.Store.GetMapping(ctx, m.Tenant, m.ConnectionID, m.SKU); err == nil {
				m.CreatedAt = old.CreatedAt
			}
		}
		if err := h.Store.PutMapping(ctx, m); err != nil {
			return fmt.Errorf("store mapping %s/%s: %w", m.ConnectionID, m.SKU, err)
		}
	}
	return nil
}

func validateEndpoints(eps []domain.WebhookEndpoint, secrets map[string]map[string]string) error {
	ids := map[string]bool{}
	for i, e := range eps {
		u, err := url.Parse(e.URL)
		switch {
		case e.ID == "":
			return fmt.Errorf("endpoints[%d].id: required", i)
		case ids[e.ID]:
			return fmt.Errorf("endpoints[%d].id: %q is declared twice", i, e.ID)
		case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
			return fmt.Errorf("endpoints[%d].url: an http(s) URL is required", i)
		case e.SecretRef == "":
			return fmt.Errorf("endpoints[%d].secret_ref: required (the signing secret's name)", i)
		}
		if vals, ok := secrets[e.SecretRef]; ok && !strings.HasPrefix(vals["secret"], "whsec_") {
			return fmt.Errorf("endpoints[%d].secret_ref: secret %q needs a \"secret\" value starting with whsec_", i, e.SecretRef)
		}
		ids[e.ID] = true
	}
	return nil
}

// EndpointSecretPrefix is where endpoint signing secrets live on AWS: the events function
// may read only secrets under it (see internal/topology).
const EndpointSecretPrefix = "webhooks/"

// endpointSecretsReadable refuses, on AWS, an endpoint whose signing secret the events
// function could not read: every delivery would otherwise dead-letter at runtime.
func endpointSecretsReadable(tenants []TenantSetup) error {
	for i, t := range tenants {
		for j, ep := range t.Endpoints {
			if !strings.HasPrefix(ep.SecretRef, EndpointSecretPrefix) {
				return fmt.Errorf("tenants[%d].endpoints[%d].secret_ref: on AWS it must start with %q (the events function may read only there), got %q",
					i, j, EndpointSecretPrefix, ep.SecretRef)
			}
		}
	}
	return nil
}
