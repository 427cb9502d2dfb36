package httpapi

import (
	"net/http"
	"slices"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/store"
)

// maxReportPages bounds the store pages one filtered order report reads; the answer's
// cursor continues from there.
const maxReportPages = 20

// OrderReportItem is one order in the integration report (seed 002).
type OrderReportItem struct {
	ID             string                  `json:"id"`
	Number         string                  `json:"number,omitempty"`
	Connection     string                  `json:"connection"`
	Platform       string                  `json:"platform"`
	PlatformID     string                  `json:"platform_id"`
	State          domain.OrderState       `json:"state"`
	PlatformStatus string                  `json:"platform_status"`
	ERPState       domain.ERPState         `json:"erp_state,omitempty"`
	ERPNumber      string                  `json:"erp_number,omitempty"`
	ERPReason      string                  `json:"erp_reason,omitempty"`
	Rejections     []domain.OrderRejection `json:"rejections"`
	Total          domain.Money            `json:"total"`
	// TotalMismatch says how the platform's total differs from its parts ("" when it agrees).
	TotalMismatch string    `json:"total_mismatch,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// OrderReport is the answer of GET /v1/admin/orders.
type OrderReport struct {
	Orders []OrderReportItem `json:"orders"`
	// Summary counts this page's orders per state.
	Summary    map[domain.OrderState]int `json:"summary"`
	NextCursor string                    `json:"next_cursor"`
}

// getOrderReport is GET /v1/admin/orders?connection=&state=&code=&limit=&cursor=.
func (a *API) getOrderReport(w http.ResponseWriter, r *http.Request, t domain.Tenant) {
	q := r.URL.Query()
	limit, ok := queryLimit(w, r, defaultOrdersLimit, maxOrdersLimit)
	if !ok {
		return
	}
	var f store.OrderFilter
	if f.State, ok = queryOrderState(w, r); !ok {
		return
	}
	if f.ConnectionID = q.Get("connection"); f.ConnectionID != "" {
		if _, ok := a.ownConnection(w, r, t, "connection", f.ConnectionID); !ok {
			return
		}
	}
	code := q.Get("code")
	out := OrderReport{Orders: []OrderReportItem{}, Summary: map[domain.OrderState]int{}}
	// Pages are sized to what is still missing, so a page's matches never overflow
	// limit and the store's cursor stays exact.
	cursor := q.Get("cursor")
	for page := 0; page < maxReportPages; page++ {
		list, next, err := a.Ops.ListOrders(r.Context(), t.ID, f, cursor, limit-len(out.Orders))
		if err != nil {
			listFailed(w, r, err, "order report", t.ID)
			return
		}
		for _, o := range list {
			if code != "" && !slices.ContainsFunc(o.Rejections, func(x domain.OrderRejection) bool { return x.Code == code }) {
				continue
			}
			out.Orders = append(out.Orders, reportItem(o))
			out.Summary[o.State]++
		}
		cursor = next
		if next == "" || len(out.Orders) >= limit {
			break
		}
	}
	out.NextCursor = cursor
	writeJSON(w, http.StatusOK, out)
}

func reportItem(o domain.OrderRecord) OrderReportItem {
	rej := o.Rejections
	if rej == nil {
		rej = []domain.OrderRejection{}
	}
	return OrderReportItem{ID: o.ID, Number: o.Number, Connection: o.ConnectionID, Platform: o.Platform, PlatformID: o.PlatformID,
		State: o.State, PlatformStatus: o.PlatformStatus, ERPState: o.ERP.State, ERPNumber: o.ERP.OrderNumber,
		ERPReason: o.ERP.Reason, Rejections: rej, Total: o.Order.Total, TotalMismatch: o.Order.TotalMismatch,
		CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt}
}

// ReportList is the answer of GET /v1/admin/reports: jobs with their reports, newest first.
type ReportList struct {
	Reports []store.Job `json:"reports"`
}

// getReports is GET /v1/admin/reports?connection=&kind=&limit=.
func (a *API) getReports(w http.ResponseWriter, r *http.Request, t domain.Tenant) {
	q := r.URL.Query()
	limit, ok := queryLimit(w, r, 20, 200)
	if !ok {
		return
	}
	kind := q.Get("kind")
	switch kind {
	case "", store.JobReconcile, store.JobFirstSync:
	default:
		writeError(w, http.StatusBadRequest, "kind", "one of reconcile, first_sync")
		return
	}
	connID := q.Get("connection")
	if connID != "" {
		if _, ok := a.ownConnection(w, r, t, "connection", connID); !ok {
			return
		}
	}
	a.writeJobs(w, r, t, kind, connID, limit)
}

// writeJobs answers a tenant's jobs of kind and connection ("" for any), newest first.
func (a *API) writeJobs(w http.ResponseWriter, r *http.Request, t domain.Tenant, kind, connID string, limit int) {
	jobs, err := a.Ops.ListJobs(r.Context(), t.ID, kind, connID, limit)
	if err != nil {
		logger(r).Error("list jobs failed", "tenant", t.ID, "connection", connID, "err", err)
		writeError(w, http.StatusServiceUnavailable, "", "store unavailable; retry")
		return
	}
	if jobs == nil {
		jobs = []store.Job{}
	}
	writeJSON(w, http.StatusOK, ReportList{Reports: jobs})
}
