package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/store"
)

// Dry-run bounds: SKUs per run, and catalogue pages read to find them.
const (
	defaultDryRunSKUs = 100
	maxDryRunSKUs     = 500
	maxDryRunPages    = 20
)

// Where a dry run's SKUs came from.
const (
	SKUsFromRequest   = "request"
	SKUsFromCatalogue = "platform_catalogue"
)

// DryRunValues are the stock and price of one state.
type DryRunValues struct {
	Stock *int64        `json:"stock,omitempty"`
	Price *domain.Money `json:"price,omitempty"`
}

// DryRunItem compares one SKU's current desired state with the one the new rules give.
type DryRunItem struct {
	SKU     string        `json:"sku"`
	Current *DryRunValues `json:"current,omitempty"`
	WouldBe *DryRunValues `json:"would_be,omitempty"`
	// Changed says the new rules change stock or price against the current desired state.
	Changed bool `json:"changed"`
	// WouldPush says the pusher would call the platform (the result differs from what was pushed).
	WouldPush bool `json:"would_push"`
	// Pending names the parts that would be pushed: stock, price, product.
	Pending []string `json:"pending"`
	// Skip is why the new rules leave the SKU alone (domain.Skip, or "unknown_sku").
	Skip string `json:"skip,omitempty"`
	// Held is the price-drop guard's refusal of the new price, if any.
	Held string `json:"held,omitempty"`
}

// DryRun is the answer of POST /v1/admin/connections/{id}/dry-run. Nothing is written.
type DryRun struct {
	Connection string       `json:"connection"`
	Rules      domain.Rules `json:"rules"`
	SKUsFrom   string       `json:"skus_from"`
	Items      []DryRunItem `json:"items"`
	Changed    int          `json:"changed"`
	WouldPush  int          `json:"would_push"`
}

// postDryRun is POST /v1/admin/connections/{id}/dry-run?sku=&limit=: the body is a
// partial rules object merged over the connection's rules. SKUs come from ?sku=
// (repeatable); without them, from the platform's catalogue mapped to ERP SKUs, since
// the store cannot list a connection's mappings.
func (a *API) postDryRun(w http.ResponseWriter, r *http.Request, t domain.Tenant) {
	conn, ok := a.ownConnection(w, r, t, "id", r.PathValue("id"))
	if !ok {
		return
	}
	limit, ok := queryLimit(w, r, defaultDryRunSKUs, maxDryRunSKUs)
	if !ok {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "body", "at most 64 KiB")
		return
	}
	rules, field, err := mergeRules(conn.Rules, body)
	if err != nil {
		writeError(w, http.StatusBadRequest, field, err.Error())
		return
	}
	skus, from := r.URL.Query()["sku"], SKUsFromRequest
	if len(skus) > limit {
		writeError(w, http.StatusBadRequest, "sku", fmt.Sprintf("at most limit (%d) SKUs", limit))
		return
	}
	if len(skus) == 0 {
		from = SKUsFromCatalogue
		if skus, err = a.catalogueSKUs(r.Context(), conn, limit); err != nil {
			logger(r).Warn("dry run: catalogue unreadable", "connection", conn.ID, "err", err)
			writeError(w, http.StatusBadGateway, "sku", fmt.Sprintf("the platform's catalogue could not be read (%v); name SKUs with ?sku=", err))
			return
		}
	}
	out, err := a.dryRun(r.Context(), conn, rules, skus)
	if err != nil {
		logger(r).Error("dry run failed", "connection", conn.ID, "err", err)
		writeError(w, http.StatusServiceUnavailable, "", "store unavailable; retry")
		return
	}
	out.SKUsFrom = from
	writeJSON(w, http.StatusOK, out)
}

// mergeRules overlays a partial rules object on the current rules, top-level field by
// field, and validates the result; the string is the JSON field at fault.
func mergeRules(cur domain.Rules, partial []byte) (domain.Rules, string, error) {
	var over map[string]json.RawMessage
	if err := json.Unmarshal(partial, &over); err != nil || over == nil {
		return domain.Rules{}, "body", errors.New(`a JSON object of rules to change, e.g. {"markup_pct": "12"}`)
	}
	base, err := json.Marshal(cur)
	if err != nil {
		return domain.Rules{}, "", fmt.Errorf("encode current rules: %w", err)
	}
	merged := map[string]json.RawMessage{}
	if err := json.Unmarshal(base, &merged); err != nil {
		return domain.Rules{}, "", fmt.Errorf("decode current rules: %w", err)
	}
	for k, v := range over {
		merged[k] = v
	}
	buf, _ := json.Marshal(merged)
	var rules domain.Rules
	dec := json.NewDecoder(bytes.NewReader(buf))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rules); err != nil {
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return domain.Rules{}, strings.Trim(name, `"`), errors.New("unknown rule")
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return domain.Rules{}, te.Field, fmt.Errorf("must be %s", te.Type)
		}
		return domain.Rules{}, "body", fmt.Errorf("bad rules: %w", err)
	}
	if err := rules.Validate(); err != nil {
		var re *domain.RuleError
		if errors.As(err, &re) {
			return domain.Rules{}, re.Field, err
		}
		return domain.Rules{}, "body", err
	}
	return rules, "", nil
}

// catalogueSKUs pages through the platform's catalogue for up to limit mapped SKUs.
func (a *API) catalogueSKUs(ctx context.Context, conn domain.Connection, limit int) ([]string, error) {
	reader, ok := a.Connectors[conn.Platform].(platform.CatalogReader)
	if !ok {
		return nil, fmt.Errorf("platform %q cannot list its catalogue", conn.Platform)
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var skus []string
	seen := map[string]bool{}
	cursor := ""
	for page := 0; page < maxDryRunPages && len(skus) < limit; page++ {
		p, err := reader.ListCatalog(ctx, conn, cursor)
		if err != nil {
			return nil, fmt.Errorf("list catalogue of %s: %w", conn.ID, err)
		}
		for _, it := range p.Items {
			m, err := a.Ops.MappingByPlatformID(ctx, conn.ID, it.ProductID, it.VariantID)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("map %s/%s: %w", it.ProductID, it.VariantID, err)
			}
			if m.Tenant == conn.Tenant && !seen[m.SKU] && len(skus) < limit {
				seen[m.SKU] = true
				skus = append(skus, m.SKU)
			}
		}
		if cursor = p.Next; cursor == "" {
			break
		}
	}
	return skus, nil
}

// dryRun computes what the rules would give for each SKU; it only reads.
func (a *API) dryRun(ctx context.Context, conn domain.Connection, rules domain.Rules, skus []string) (DryRun, error) {
	out := DryRun{Connection: conn.ID, Rules: rules, Items: []DryRunItem{}}
	states, err := a.Ops.GetSKUs(ctx, conn.Tenant, skus)
	if err != nil {
		return out, fmt.Errorf("read SKUs: %w", err)
	}
	next := conn
	next.Rules = rules
	now := time.Now().UTC()
	for _, sku := range skus {
		it := DryRunItem{SKU: sku, Pending: []string{}}
		cur, err := a.Store.GetDesired(ctx, conn.Tenant, conn.ID, sku)
		switch {
		case err == nil:
			it.Current = &DryRunValues{Stock: cur.Stock, Price: cur.Price}
		case !errors.Is(err, store.ErrNotFound):
			return out, fmt.Errorf("read desired %s: %w", sku, err)
		}
		var pushed *domain.PushedState
		if p, err := a.Store.GetPushed(ctx, conn.Tenant, conn.ID, sku); err == nil {
			pushed = &p
		} else if !errors.Is(err, store.ErrNotFound) {
			return out, fmt.Errorf("read pushed %s: %w", sku, err)
		}
		st, ok := states[sku]
		if !ok {
			it.Skip = "unknown_sku"
			out.Items = append(out.Items, it)
			continue
		}
		d, skip := domain.ComputeDesired(next, st, now)
		if skip != domain.SkipNone {
			it.Skip = string(skip)
			out.Items = append(out.Items, it)
			continue
		}
		it.WouldBe = &DryRunValues{Stock: d.Stock, Price: d.Price}
		it.Changed = it.Current == nil || !int64PtrEqual(d.Stock, it.Current.Stock) || !domain.MoneyPtrEqual(d.Price, it.Current.Price)
		p := d.Pending(pushed)
		for _, part := range []struct {
			name string
			on   bool
		}{{"stock", p.Stock}, {"price", p.Price}, {"product", p.Product}} {
			if part.on {
				it.Pending = append(it.Pending, part.name)
			}
		}
		it.WouldPush = p.Any()
		if p.Price && d.Price != nil && pushed != nil && pushed.Price != nil {
			if err := domain.CheckPriceDrop(rules, *pushed.Price, *d.Price); err != nil {
				it.Held = err.Error()
			}
		}
		if it.Changed {
			out.Changed++
		}
		if it.WouldPush {
			out.WouldPush++
		}
		out.Items = append(out.Items, it)
	}
	return out, nil
}

func int64PtrEqual(a, b *int64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
