package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/store"
)

// ErrFirstSyncRunning is what a FirstSyncer's Start wraps when a run of the connection is
// already in progress (answered 409).
var ErrFirstSyncRunning = errors.New("a first sync of this connection is already running")

// ErrFirstSyncUnsupported is what Start wraps when the connection cannot be synced (its
// platform cannot list its catalogue, or it is disabled): answered 422.
var ErrFirstSyncUnsupported = errors.New("this connection cannot run a first sync")

// FirstSyncer starts a connection's first sync in the background (its runs are jobs,
// listed like every other).
type FirstSyncer interface {
	Start(ctx context.Context, tenant, connectionID string) (store.Job, error)
}

// FirstSyncStarted is the answer of POST /v1/admin/connections/{id}/first-sync.
type FirstSyncStarted struct {
	Job store.Job `json:"job"`
}

func (a *API) firstSyncOn(h func(http.ResponseWriter, *http.Request, domain.Tenant)) func(http.ResponseWriter, *http.Request, domain.Tenant) {
	return a.opsOn(func(w http.ResponseWriter, r *http.Request, t domain.Tenant) {
		if a.FirstSync == nil {
			writeError(w, http.StatusNotFound, "", "first sync is not enabled on this hub")
			return
		}
		h(w, r, t)
	})
}

// postFirstSync is POST /v1/admin/connections/{id}/first-sync: it starts (or resumes a
// crashed) first sync and answers 202 with the job to follow; 409 while one runs.
func (a *API) postFirstSync(w http.ResponseWriter, r *http.Request, t domain.Tenant) {
	conn, ok := a.ownConnection(w, r, t, "id", r.PathValue("id"))
	if !ok {
		return
	}
	job, err := a.FirstSync.Start(r.Context(), t.ID, conn.ID)
	switch {
	case errors.Is(err, ErrFirstSyncRunning):
		writeError(w, http.StatusConflict, "id", err.Error())
		return
	case errors.Is(err, ErrFirstSyncUnsupported):
		writeError(w, http.StatusUnprocessableEntity, "id", err.Error())
		return
	case err != nil:
		logger(r).Error("first sync did not start", "tenant", t.ID, "connection", conn.ID, "err", err)
		writeError(w, http.StatusServiceUnavailable, "", fmt.Sprintf("first sync did not start: %v", err))
		return
	}
	logger(r).Info("first sync started", "tenant", t.ID, "connection", conn.ID, "job", job.ID)
	writeJSON(w, http.StatusAccepted, FirstSyncStarted{Job: job})
}

// getFirstSync is GET /v1/admin/connections/{id}/first-sync?limit=: the connection's
// first-sync runs, newest first, with progress and report.
func (a *API) getFirstSync(w http.ResponseWriter, r *http.Request, t domain.Tenant) {
	conn, ok := a.ownConnection(w, r, t, "id", r.PathValue("id"))
	if !ok {
		return
	}
	limit, ok := queryLimit(w, r, 5, 50)
	if !ok {
		return
	}
	a.writeJobs(w, r, t, store.JobFirstSync, conn.ID, limit)
}
