package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ponte-hub/ponte/internal/catalog"
	"github.com/ponte-hub/ponte/internal/httpapi"
	"github.com/ponte-hub/ponte/internal/store"
)

// firstSyncAPI starts first syncs for the HTTP API. A started job waits for a worker: the
// local scheduler is woken at once (kick), and on AWS the scheduled reconcile function
// takes it within a minute; either way RunPending works it, so one path resumes crashes.
type firstSyncAPI struct {
	svc  *catalog.Service
	kick chan struct{}
}

func (f *firstSyncAPI) Start(ctx context.Context, tenant, connectionID string) (store.Job, error) {
	j, err := f.svc.Start(ctx, tenant, connectionID)
	switch {
	case errors.Is(err, catalog.ErrRunning):
		return store.Job{}, fmt.Errorf("%w: %v", httpapi.ErrFirstSyncRunning, err)
	case errors.Is(err, catalog.ErrUnsupported):
		return store.Job{}, fmt.Errorf("%w: %v", httpapi.ErrFirstSyncUnsupported, err)
	case err != nil:
		return store.Job{}, err
	}
	select {
	case f.kick <- struct{}{}:
	default: // a wake-up is already pending
	}
	return j, nil
}

// runFirstSyncs works pending first syncs on every tick and whenever the API starts one.
func (h *Hub) runFirstSyncs(ctx context.Context, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		if err := h.FirstSync.RunPending(ctx); err != nil && ctx.Err() == nil {
			h.Log.Warn("first sync: some runs failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-h.firstSyncKick:
		}
	}
}

// firstSyncsWithin works pending first syncs but stops early enough before ctx's
// deadline (a Lambda's) to save the page in hand; the next tick resumes.
func (h *Hub) firstSyncsWithin(ctx context.Context, margin time.Duration) error {
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-margin))
		defer cancel()
	}
	return h.FirstSync.RunPending(ctx)
}
