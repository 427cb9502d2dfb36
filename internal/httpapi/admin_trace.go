package httpapi

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sort"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/store"
)

// TraceStep is one moment of a SKU's way from the ERP to the store.
type TraceStep struct {
	At     time.Time `json:"at"`
	Step   string    `json:"step"`
	Detail string    `json:"detail"`
}

// Trace steps, in the order a change travels.
const (
	StepERPProduct  = "erp_product"
	StepERPStock    = "erp_stock"
	StepERPPrice    = "erp_price"
	StepReservation = "reservation"
	StepDesired     = "desired"
	StepPushed      = "pushed"
	StepPlatform    = "platform"
)

// SKUTrace is the answer of GET /v1/admin/connections/{id}/skus/{sku}/trace.
type SKUTrace struct {
	SKUView
	// State is the SKU aggregate: every input with its ERP version and update time.
	State *domain.SKUState `json:"state"`
	// FanoutBehind says the aggregate moved past the revision the desired state was computed from.
	FanoutBehind bool        `json:"fanout_behind"`
	Steps        []TraceStep `json:"steps"`
}

// getSKUTrace is GET /v1/admin/connections/{id}/skus/{sku}/trace.
func (a *API) getSKUTrace(w http.ResponseWriter, r *http.Request, t domain.Tenant) {
	connID, sku := r.PathValue("id"), r.PathValue("sku")
	conn, ok := a.ownConnection(w, r, t, "id", connID)
	if !ok {
		return
	}
	ctx := r.Context()
	tr := SKUTrace{SKUView: SKUView{ConnectionID: connID, SKU: sku}, Steps: []TraceStep{}}
	states, err := a.Ops.GetSKUs(ctx, t.ID, []string{sku})
	if err != nil {
		logger(r).Error("read SKU failed", "tenant", t.ID, "sku", sku, "err", err)
		writeError(w, http.StatusServiceUnavailable, "", "store unavailable; retry")
		return
	}
	if st, ok := states[sku]; ok {
		tr.State = &st
	}
	if d, err := a.Store.GetDesired(ctx, t.ID, connID, sku); err == nil {
		tr.Desired = &d
	} else if !errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusServiceUnavailable, "", "store unavailable; retry")
		return
	}
	if p, err := a.Store.GetPushed(ctx, t.ID, connID, sku); err == nil {
		tr.Pushed = &p
	}
	if tr.State == nil && tr.Desired == nil && tr.Pushed == nil {
		writeError(w, http.StatusNotFound, "sku", "SKU unknown on this connection")
		return
	}
	if tr.Desired != nil {
		tr.InSync = !tr.Desired.Pending(tr.Pushed).Any()
		tr.FanoutBehind = tr.State != nil && tr.State.Rev > tr.Desired.Rev
	}
	if m, err := a.Store.GetMapping(ctx, t.ID, connID, sku); err == nil {
		tr.Mapping = &m
		tr.Platform, tr.PlatformError = a.readBack(ctx, conn, m)
	} else {
		tr.PlatformError = "SKU is not mapped to a product on this connection"
	}
	tr.Steps = traceSteps(tr, time.Now().UTC())
	writeJSON(w, http.StatusOK, tr)
}

// readBack asks the platform what it holds now.
func (a *API) readBack(ctx context.Context, conn domain.Connection, m domain.Mapping) (*platform.Snapshot, string) {
	c, ok := a.Connectors[conn.Platform]
	if !ok {
		return nil, fmt.Sprintf("no connector for platform %q", conn.Platform)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	snaps, err := c.ReadBack(ctx, conn, []platform.Target{{SKU: m.SKU, ProductID: m.ProductID, VariantID: m.VariantID}})
	switch {
	case err != nil:
		return nil, err.Error()
	case len(snaps) != 1:
		return nil, "the platform did not return the product"
	}
	return &snaps[0], ""
}

// traceSteps orders the trace by time; ties keep the travel order of the step kinds.
func traceSteps(tr SKUTrace, now time.Time) []TraceStep {
	var steps []TraceStep
	add := func(at time.Time, step, format string, args ...any) {
		steps = append(steps, TraceStep{At: at.UTC(), Step: step, Detail: fmt.Sprintf(format, args...)})
	}
	if st := tr.State; st != nil {
		if p := st.Product; p != nil {
			add(p.UpdatedAt, StepERPProduct, "version %d: %q publish=%t sync_stock=%t", p.Version, p.Name, p.Publish, p.SyncStock)
		}
		for _, wh := range slices.Sorted(maps.Keys(st.Stock)) {
			l := st.Stock[wh]
			add(l.UpdatedAt, StepERPStock, "version %d: warehouse %s holds %d", l.Version, wh, l.Quantity)
		}
		if p := st.Price; p != nil {
			add(p.UpdatedAt, StepERPPrice, "version %d: price %s", p.Version, p.Price.Amount)
		}
		for _, k := range slices.Sorted(maps.Keys(st.Reservations)) {
			res := st.Reservations[k]
			detail := fmt.Sprintf("order %s on %s reserves %d", res.OrderKey, res.ConnectionID, res.Quantity)
			if res.AckedAt != nil {
				detail += " (registered by the ERP " + res.AckedAt.UTC().Format(time.RFC3339) + ")"
			}
			add(res.CreatedAt, StepReservation, "%s", detail)
		}
	}
	if d := tr.Desired; d != nil {
		add(d.ComputedAt, StepDesired, "rev %d: stock %s, price %s (versions stock %d, price %d, product %d)",
			d.Rev, intOrDash(d.Stock), moneyOrDash(d.Price), d.Versions.Stock, d.Versions.Price, d.Versions.Product)
	}
	if p := tr.Pushed; p != nil {
		add(p.PushedAt, StepPushed, "rev %d: stock %s, price %s (versions stock %d, price %d, product %d)",
			p.Rev, intOrDash(p.Stock), moneyOrDash(p.Price), p.Versions.Stock, p.Versions.Price, p.Versions.Product)
	}
	switch {
	case tr.Platform != nil:
		at := tr.Platform.ReadAt
		if at.IsZero() {
			at = now
		}
		add(at, StepPlatform, "store holds stock %s, price %s", intOrDash(tr.Platform.Stock), moneyOrDash(tr.Platform.Price))
	case tr.PlatformError != "":
		add(now, StepPlatform, "could not read the store: %s", tr.PlatformError)
	}
	order := []string{StepERPProduct, StepERPStock, StepERPPrice, StepReservation, StepDesired, StepPushed, StepPlatform}
	sort.SliceStable(steps, func(i, j int) bool {
		if !steps[i].At.Equal(steps[j].At) {
			return steps[i].At.Before(steps[j].At)
		}
		return slices.Index(order, steps[i].Step) < slices.Index(order, steps[j].Step)
	})
	return steps
}

func intOrDash(n *int64) string {
	if n == nil {
		return "-"
	}
	return fmt.Sprint(*n)
}

func moneyOrDash(m *domain.Money) string {
	if m == nil {
		return "-"
	}
	return m.Amount.String() + " " + m.Currency
}
