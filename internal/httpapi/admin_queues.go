package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
)

// QueueView is one queue's depth. Waiting, InFlight and Dead are global (queues are
// shared by every tenant); TenantDead counts only the caller's dead letters.
type QueueView struct {
	Name     string `json:"name"`
	Waiting  int64  `json:"waiting"`
	InFlight int64  `json:"in_flight"`
	Dead     int64  `json:"dead"`
	// OldestAgeS is the oldest waiting message's age in seconds; -1 when the backend cannot tell.
	OldestAgeS float64 `json:"oldest_age_s"`
	TenantDead int     `json:"tenant_dead"`
}

// ConnectionQueues is one connection's dead letters per queue.
type ConnectionQueues struct {
	Connection string         `json:"connection"`
	Dead       int            `json:"dead"`
	DeadByQ    map[string]int `json:"dead_by_queue"`
}

// QueuesView is the answer of GET /v1/admin/queues.
type QueuesView struct {
	Queues      []QueueView        `json:"queues"`
	Connections []ConnectionQueues `json:"connections"`
	Note        string             `json:"note"`
}

const queuesNote = "waiting, in_flight, dead and oldest_age_s are global: queues are shared by tenants and " +
	"neither backend counts waiting messages per connection; dead letters are counted per connection from their bodies"

// getQueues is GET /v1/admin/queues.
func (a *API) getQueues(w http.ResponseWriter, r *http.Request, t domain.Tenant) {
	ctx := r.Context()
	conns, err := a.Ops.ListConnections(ctx, t.ID)
	if err != nil {
		logger(r).Error("list connections failed", "tenant", t.ID, "err", err)
		writeError(w, http.StatusServiceUnavailable, "", "store unavailable; retry")
		return
	}
	names := a.queueNames()
	dead, err := a.deadOf(ctx, t.ID, names)
	if err != nil {
		logger(r).Error("list dead letters failed", "tenant", t.ID, "err", err)
		writeError(w, http.StatusServiceUnavailable, "", "queues unavailable; retry")
		return
	}
	out := QueuesView{Queues: make([]QueueView, 0, len(names)), Connections: make([]ConnectionQueues, 0, len(conns)), Note: queuesNote}
	byConn := map[string]*ConnectionQueues{}
	for _, c := range conns {
		out.Connections = append(out.Connections, ConnectionQueues{Connection: c.ID, DeadByQ: map[string]int{}})
	}
	for i := range out.Connections {
		byConn[out.Connections[i].Connection] = &out.Connections[i]
	}
	tenantDead := map[string]int{}
	for _, d := range dead {
		tenantDead[d.Queue]++
		if c, ok := byConn[d.Keys.Connection]; ok {
			c.Dead++
			c.DeadByQ[d.Queue]++
		}
	}
	for _, name := range names {
		st, err := a.Queues[name].Stats(ctx)
		if err != nil {
			logger(r).Error("queue stats failed", "queue", name, "err", err)
			writeError(w, http.StatusServiceUnavailable, "", "queues unavailable; retry")
			return
		}
		age := -1.0
		if st.OldestAge >= 0 {
			age = st.OldestAge.Seconds()
		}
		out.Queues = append(out.Queues, QueueView{Name: name, Waiting: st.Waiting, InFlight: st.InFlight, Dead: st.Dead,
			OldestAgeS: age, TenantDead: tenantDead[name]})
	}
	writeJSON(w, http.StatusOK, out)
}

// Failure is one dead letter in the failure inbox.
type Failure struct {
	ID         string    `json:"id"`
	Queue      string    `json:"queue"`
	Reason     string    `json:"reason"`
	Attempts   int       `json:"attempts"`
	SentAt     time.Time `json:"sent_at"`
	DeadAt     time.Time `json:"dead_at"`
	Connection string    `json:"connection,omitempty"`
	Kind       string    `json:"kind,omitempty"`
	SKU        string    `json:"sku,omitempty"`
	Customer   string    `json:"customer,omitempty"`
	Order      string    `json:"order,omitempty"`
	Delivery   string    `json:"delivery,omitempty"`
	Endpoint   string    `json:"endpoint,omitempty"`
	// Payload is the message body (always JSON on Ponte's queues).
	Payload json.RawMessage `json:"payload"`
}

// FailureList is the answer of GET /v1/admin/failures, newest death first.
type FailureList struct {
	Failures []Failure `json:"failures"`
	// Truncated says more of the tenant's failures exist than limit.
	Truncated bool `json:"truncated"`
}

// getFailures is GET /v1/admin/failures?connection=&queue=&limit=.
func (a *API) getFailures(w http.ResponseWriter, r *http.Request, t domain.Tenant) {
	q := r.URL.Query()
	limit, ok := queryLimit(w, r, 100, maxDeadScan)
	if !ok {
		return
	}
	names, ok := a.pickQueues(w, q.Get("queue"))
	if !ok {
		return
	}
	connID := q.Get("connection")
	if connID != "" {
		if _, ok := a.ownConnection(w, r, t, "connection", connID); !ok {
			return
		}
	}
	dead, err := a.deadOf(r.Context(), t.ID, names)
	if err != nil {
		logger(r).Error("list dead letters failed", "tenant", t.ID, "err", err)
		writeError(w, http.StatusServiceUnavailable, "", "queues unavailable; retry")
		return
	}
	out := FailureList{Failures: []Failure{}}
	for _, d := range dead {
		if connID != "" && d.Keys.Connection != connID {
			continue
		}
		out.Failures = append(out.Failures, failureOf(d))
	}
	slices.SortStableFunc(out.Failures, func(x, y Failure) int { return y.DeadAt.Compare(x.DeadAt) })
	if len(out.Failures) > limit {
		out.Failures, out.Truncated = out.Failures[:limit], true
	}
	writeJSON(w, http.StatusOK, out)
}

func failureOf(d tenantDead) Failure {
	payload := json.RawMessage(d.Msg.Body)
	if !json.Valid(payload) {
		payload, _ = json.Marshal(string(d.Msg.Body))
	}
	k := d.Keys
	return Failure{ID: d.Msg.ID, Queue: d.Queue, Reason: d.Msg.Reason, Attempts: d.Msg.Attempts, SentAt: d.Msg.SentAt,
		DeadAt: d.Msg.DeadAt, Connection: k.Connection, Kind: k.Kind, SKU: k.SKU, Customer: k.Customer, Order: k.Order,
		Delivery: k.Delivery, Endpoint: k.Endpoint, Payload: payload}
}

// pickQueues is every queue, or the one named (400 when unknown).
func (a *API) pickQueues(w http.ResponseWriter, name string) ([]string, bool) {
	if name == "" {
		return a.queueNames(), true
	}
	if _, ok := a.Queues[name]; !ok {
		writeError(w, http.StatusBadRequest, "queue", fmt.Sprintf("unknown queue %q; one of %v", name, a.queueNames()))
		return nil, false
	}
	return []string{name}, true
}

// RetryRequest names the dead letters to move back: ids of one queue, or every one of a
// connection (of one queue when Queue is set).
type RetryRequest struct {
	Queue      string   `json:"queue,omitempty"`
	IDs        []string `json:"ids,omitempty"`
	Connection string   `json:"connection,omitempty"`
}

// RetryResult is the answer of POST /v1/admin/failures/retry.
type RetryResult struct {
	Moved int `json:"moved"`
}

// postRetry is POST /v1/admin/failures/retry. Redrive with no ids moves a whole queue,
// every tenant's, so it is only ever called with ids checked to be the caller's.
func (a *API) postRetry(w http.ResponseWriter, r *http.Request, t domain.Tenant) {
	var in RetryRequest
	if !decodeStrict(w, r, 256<<10, &in) {
		return
	}
	switch {
	case len(in.IDs) > 0 && in.Connection != "":
		writeError(w, http.StatusBadRequest, "ids", "send either ids (with queue) or connection, not both")
		return
	case len(in.IDs) == 0 && in.Connection == "":
		writeError(w, http.StatusBadRequest, "ids", `required: {"queue": ..., "ids": [...]} or {"connection": ...}`)
		return
	case len(in.IDs) > 0 && in.Queue == "":
		writeError(w, http.StatusBadRequest, "queue", "required with ids")
		return
	}
	names, ok := a.pickQueues(w, in.Queue)
	if !ok {
		return
	}
	if in.Connection != "" {
		if _, ok := a.ownConnection(w, r, t, "connection", in.Connection); !ok {
			return
		}
	}
	dead, err := a.deadOf(r.Context(), t.ID, names)
	if err != nil {
		logger(r).Error("list dead letters failed", "tenant", t.ID, "err", err)
		writeError(w, http.StatusServiceUnavailable, "", "queues unavailable; retry")
		return
	}
	ids := map[string][]string{}
	if in.Connection != "" {
		for _, d := range dead {
			if d.Keys.Connection == in.Connection {
				ids[d.Queue] = append(ids[d.Queue], d.Msg.ID)
			}
		}
	} else {
		mine := map[string]bool{}
		for _, d := range dead {
			mine[d.Msg.ID] = true
		}
		for _, id := range in.IDs {
			if !mine[id] {
				writeError(w, http.StatusNotFound, "ids", fmt.Sprintf("no failure %q in queue %s", id, in.Queue))
				return
			}
		}
		ids[in.Queue] = slices.Compact(slices.Sorted(slices.Values(in.IDs)))
	}
	moved := 0
	for _, name := range names {
		if len(ids[name]) == 0 {
			continue
		}
		n, err := a.Queues[name].Redrive(r.Context(), ids[name])
		moved += n
		if err != nil {
			logger(r).Error("redrive failed", "tenant", t.ID, "queue", name, "moved", moved, "err", err)
			writeError(w, http.StatusServiceUnavailable, "", fmt.Sprintf("redrive of %s failed after %d moved; retry", name, moved))
			return
		}
	}
	logger(r).Info("failures retried", "tenant", t.ID, "connection", in.Connection, "queue", in.Queue, "moved", moved)
	writeJSON(w, http.StatusOK, RetryResult{Moved: moved})
}
