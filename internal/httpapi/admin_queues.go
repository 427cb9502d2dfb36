package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/queue/inbox"
	"github.com/ponte-hub/ponte/internal/store"
)

// QueueView is one queue's depth. Waiting, InFlight and Dead are global (queues are
// shared by every tenant); TenantDead counts only the caller's dead letters, exactly.
type QueueView struct {
	Name     string `json:"name"`
	Waiting  int64  `json:"waiting"`
	InFlight int64  `json:"in_flight"`
	// Dead is what waits in the queue's own dead-letter store, not yet filed in the inbox
	// (every read of the inbox files it first, so it is usually 0).
	Dead int64 `json:"dead"`
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

const queuesNote = "waiting, in_flight and oldest_age_s are global: queues are shared by tenants and neither backend " +
	"counts waiting messages per connection; dead is what the queue holds not yet filed in the failure inbox; " +
	"tenant_dead and connections count the caller's dead letters exactly, from the inbox's index"

// maxFailuresPage bounds one page of GET /v1/admin/failures and the ids of one retry.
const maxFailuresPage = 1000

// failures is the failure inbox over the operator's store and the hub's queues.
func (a *API) failures(r *http.Request) *inbox.Inbox {
	return &inbox.Inbox{Index: a.Ops, Queues: a.Queues, Log: logger(r)}
}

// getQueues is GET /v1/admin/queues.
func (a *API) getQueues(w http.ResponseWriter, r *http.Request, t domain.Tenant) {
	ctx := r.Context()
	conns, err := a.Ops.ListConnections(ctx, t.ID)
	if err != nil {
		logger(r).Error("list connections failed", "tenant", t.ID, "err", err)
		writeError(w, http.StatusServiceUnavailable, "", "store unavailable; retry")
		return
	}
	counts, err := a.failures(r).Count(ctx, t.ID)
	if err != nil {
		logger(r).Error("count dead letters failed", "tenant", t.ID, "err", err)
		writeError(w, http.StatusServiceUnavailable, "", "store unavailable; retry")
		return
	}
	names := a.queueNames()
	out := QueuesView{Queues: make([]QueueView, 0, len(names)), Connections: make([]ConnectionQueues, 0, len(conns)), Note: queuesNote}
	for _, c := range conns {
		out.Connections = append(out.Connections, ConnectionQueues{Connection: c.ID, DeadByQ: map[string]int{}})
	}
	byConn := map[string]*ConnectionQueues{}
	for i := range out.Connections {
		byConn[out.Connections[i].Connection] = &out.Connections[i]
	}
	tenantDead := map[string]int{}
	for _, n := range counts {
		tenantDead[n.Queue] += n.Count
		if c, ok := byConn[n.Connection]; ok {
			c.Dead += n.Count
			c.DeadByQ[n.Queue] += n.Count
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
	// Truncated says more of the tenant's failures follow; NextCursor fetches them.
	Truncated  bool   `json:"truncated"`
	NextCursor string `json:"next_cursor"`
}

// getFailures is GET /v1/admin/failures?connection=&queue=&limit=&cursor=.
func (a *API) getFailures(w http.ResponseWriter, r *http.Request, t domain.Tenant) {
	q := r.URL.Query()
	limit, ok := queryLimit(w, r, 100, maxFailuresPage)
	if !ok {
		return
	}
	f := store.DeadLetterFilter{Connection: q.Get("connection"), Queue: q.Get("queue")}
	if f.Queue != "" {
		if _, ok := a.pickQueues(w, f.Queue); !ok {
			return
		}
	}
	if f.Connection != "" {
		if _, ok := a.ownConnection(w, r, t, "connection", f.Connection); !ok {
			return
		}
	}
	cursor := q.Get("cursor")
	if _, err := store.ParseDeadLetterCursor(cursor); err != nil {
		writeError(w, http.StatusBadRequest, "cursor", "not a cursor this listing gave out")
		return
	}
	rows, next, err := a.failures(r).List(r.Context(), t.ID, f, cursor, limit)
	if err != nil {
		logger(r).Error("list dead letters failed", "tenant", t.ID, "err", err)
		writeError(w, http.StatusServiceUnavailable, "", "store unavailable; retry")
		return
	}
	out := FailureList{Failures: make([]Failure, 0, len(rows)), Truncated: next != "", NextCursor: next}
	for _, d := range rows {
		out.Failures = append(out.Failures, failureOf(d))
	}
	writeJSON(w, http.StatusOK, out)
}

func failureOf(d store.DeadLetter) Failure {
	payload := json.RawMessage(d.Body)
	if !json.Valid(payload) {
		payload, _ = json.Marshal(string(d.Body))
	}
	k := inbox.KeysOf(d.Body)
	return Failure{ID: d.ID, Queue: d.Queue, Reason: d.Reason, Attempts: d.Attempts, SentAt: d.SentAt,
		DeadAt: d.DeadAt, Connection: d.Connection, Kind: k.Kind, SKU: k.SKU, Customer: k.Customer, Order: k.Order,
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

// postRetry is POST /v1/admin/failures/retry. Only the caller's failures are ever found:
// the inbox looks them up under the caller's tenant.
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
	case len(in.IDs) > maxFailuresPage:
		writeError(w, http.StatusBadRequest, "ids", fmt.Sprintf("at most %d ids per call", maxFailuresPage))
		return
	}
	if _, ok := a.pickQueues(w, in.Queue); !ok {
		return
	}
	if in.Connection != "" {
		if _, ok := a.ownConnection(w, r, t, "connection", in.Connection); !ok {
			return
		}
	}
	var moved int
	var err error
	if in.Connection != "" {
		moved, err = a.failures(r).RetryWhere(r.Context(), t.ID, store.DeadLetterFilter{Connection: in.Connection, Queue: in.Queue})
	} else {
		moved, err = a.failures(r).RetryIDs(r.Context(), t.ID, in.Queue, in.IDs)
	}
	var nf *inbox.NotFoundError
	switch {
	case errors.As(err, &nf):
		writeError(w, http.StatusNotFound, "ids", nf.Error())
		return
	case err != nil:
		logger(r).Error("retry failed", "tenant", t.ID, "connection", in.Connection, "queue", in.Queue, "moved", moved, "err", err)
		writeError(w, http.StatusServiceUnavailable, "", fmt.Sprintf("retry failed after %d moved; retry", moved))
		return
	}
	logger(r).Info("failures retried", "tenant", t.ID, "connection", in.Connection, "queue", in.Queue, "moved", moved)
	writeJSON(w, http.StatusOK, RetryResult{Moved: moved})
}
