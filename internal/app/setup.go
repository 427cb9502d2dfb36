package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
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

// TenantSetup declares a tenant; its keys are hashed (keyed, see Hub.Keys) before they
// are stored, and must be at least MinKeyLength characters.
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
	currencyOf := map[string]string{}
	keys := map[string]bool{}
	for i, t := range s.Tenants {
		switch {
		case t.ID == "":
			return fmt.Errorf("tenants[%d].id: required", i)
		case tenants[t.ID]:
			return fmt.Errorf("tenants[%d].id: %q is declared twice", i, t.ID)
		case keys[t.APIKey]:
			return fmt.Errorf("tenants[%d].api_key: already the key of another tenant", i)
		case t.OperatorKey != "" && (keys[t.OperatorKey] || t.OperatorKey == t.APIKey):
			return fmt.Errorf("tenants[%d].operator_key: already in use as another key", i)
		}
		if err := validateKey(t.APIKey); err != nil {
			return fmt.Errorf("tenants[%d].api_key: %w", i, err)
		}
		if t.OperatorKey != "" {
			if err := validateKey(t.OperatorKey); err != nil {
				return fmt.Errorf("tenants[%d].operator_key: %w", i, err)
			}
		}
		if err := validateEndpoints(t.Endpoints, s.Secrets); err != nil {
			return fmt.Errorf("tenants[%d].%w", i, err)
		}
		tenants[t.ID] = true
		currencyOf[t.ID] = t.Currency
		keys[t.APIKey] = true
		if t.OperatorKey != "" {
			keys[t.OperatorKey] = true
		}
	}
	conns := map[string]bool{}
	for i, c := range s.Connections {
		switch {
		case domain.ValidateConnectionID(c.ID) != nil:
			return fmt.Errorf("connections[%d].id: %w", i, domain.ValidateConnectionID(c.ID))
		case conns[c.ID]:
			return fmt.Errorf("connections[%d].id: %q is declared twice", i, c.ID)
		case !tenants[c.Tenant]:
			return fmt.Errorf("connections[%d].tenant: unknown tenant %q", i, c.Tenant)
		case !slices.Contains(platforms.Names(), c.Platform):
			return fmt.Errorf("connections[%d].platform: unknown platform %q (have %v)", i, c.Platform, platforms.Names())
		case c.Currency != "" && currencyOf[c.Tenant] != "" && !strings.EqualFold(c.Currency, currencyOf[c.Tenant]):
			// Prices come in the tenant's currency and no connection converts: every price
			// pushed to this store would be refused.
			return fmt.Errorf("connections[%d].currency: %q differs from tenant %s's %q, and no connection converts currencies",
				i, c.Currency, c.Tenant, currencyOf[c.Tenant])
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

// MinKeyLength is the shortest API or operator key a setup may give: 24 random
// characters are out of reach of guessing at any rate the hub answers.
const MinKeyLength = 24

// validateKey refuses a key too short to resist guessing, or one with characters a
// bearer header would mangle (white space is trimmed there, controls are refused).
func validateKey(key string) error {
	if len(key) < MinKeyLength {
		return fmt.Errorf("at least %d characters (got %d; generate one with: openssl rand -base64 24)", MinKeyLength, len(key))
	}
	for _, r := range key {
		if r <= ' ' || r > '~' {
			return errors.New("printable ASCII without spaces only")
		}
	}
	return nil
}

// ApplySetup writes a validated setup; it is safe to run at every start. The setup is
// the truth: a tenant or connection stored earlier and no longer listed is disabled
// (kept, not deleted; logged by name), and listing it again enables it. Keys are stored
// hashed with h.Keys, which also upgrades hashes stored unkeyed before the pepper.
func (h *Hub) ApplySetup(ctx context.Context, s Setup) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if h.Backend == "aws" {
		if err := endpointSecretsReadable(s.Tenants); err != nil {
			return err
		}
	}
	// First, so a key taken from a removed tenant can be given to a listed one.
	if err := h.disableUnlisted(ctx, s); err != nil {
		return err
	}
	now := time.Now().UTC()
	tenantOf := map[string]string{}
	for _, t := range s.Tenants {
		created := now
		if old, err := h.Store.GetTenant(ctx, t.ID); err == nil {
			created = old.CreatedAt
		}
		tenant := domain.Tenant{ID: t.ID, Name: t.Name, APIKeyHash: h.Keys.Hash(t.APIKey), Currency: t.Currency, CreatedAt: created,
			Endpoints: t.Endpoints}
		if t.OperatorKey != "" {
			tenant.OperatorKeyHash = h.Keys.Hash(t.OperatorKey)
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

// disableUnlisted disables every stored tenant and connection s does not list, and says
// so: a tenant loses its key hashes (its keys answer 401, and a listed tenant may take
// them), a connection stops pushing, polling, reconciling and taking webhooks. Their
// data stays, for a setup that lists them again.
func (h *Hub) disableUnlisted(ctx context.Context, s Setup) error {
	listedTenants, listedConns := map[string]bool{}, map[string]bool{}
	for _, t := range s.Tenants {
		listedTenants[t.ID] = true
	}
	for _, c := range s.Connections {
		listedConns[c.ID] = true
	}
	tenants, err := h.Store.ListTenants(ctx)
	if err != nil {
		return fmt.Errorf("list stored tenants: %w", err)
	}
	// Newly disabled is news (warn); still disabled is a reminder (info).
	level := func(newly bool) slog.Level {
		if newly {
			return slog.LevelWarn
		}
		return slog.LevelInfo
	}
	for _, t := range tenants {
		conns, err := h.Store.ListConnections(ctx, t.ID)
		if err != nil {
			return fmt.Errorf("list stored connections of %s: %w", t.ID, err)
		}
		for _, c := range conns {
			if listedConns[c.ID] {
				continue
			}
			newly := c.Enabled
			if newly {
				c.Enabled = false
				if err := h.Store.PutConnection(ctx, c); err != nil {
					return fmt.Errorf("disable connection %s: %w", c.ID, err)
				}
			}
			h.Log.Log(ctx, level(newly), "connection not in the setup: disabled (kept; pushes nothing, webhooks answer 404, not polled or reconciled)",
				"connection", c.ID, "tenant", t.ID, "newly", newly)
		}
		if listedTenants[t.ID] {
			continue
		}
		newly := !t.Disabled
		if newly || t.APIKeyHash != "" || t.OperatorKeyHash != "" {
			t.Disabled, t.APIKeyHash, t.OperatorKeyHash = true, "", ""
			if err := h.Store.PutTenant(ctx, t); err != nil {
				return fmt.Errorf("disable tenant %s: %w", t.ID, err)
			}
		}
		h.Log.Log(ctx, level(newly), "tenant not in the setup: disabled (kept; its keys answer 401)", "tenant", t.ID, "newly", newly)
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
