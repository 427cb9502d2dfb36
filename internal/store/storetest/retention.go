package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/store"
)

// testHistoryExpires freezes the clock at the moments around a store's default
// retention: finished jobs and processed deliveries (written processed, or marked
// later) are gone once it has passed since they became history; a running job and an
// unprocessed delivery stay however old they are, since they are live work.
func testHistoryExpires(t *testing.T, s store.Store, expire func(t *testing.T, s store.Store, now time.Time)) {
	if expire == nil {
		t.Skip("the backend gives no way to apply its expiry (storetest.Expire)")
	}
	c := ctx(t)
	keep := store.DefaultRetention
	finished := job("ta", "finished", store.JobReconcile, "c1", 0, 1) // finished at+1min
	running := job("ta", "running", store.JobReconcile, "c1", -time.Hour, 1)
	running.Status, running.FinishedAt = store.JobRunning, nil
	// A job that finished later than the first: it expires later.
	later := job("ta", "later", store.JobFirstSync, "c1", 2*time.Hour, 1)
	for _, j := range []store.Job{finished, running, later} {
		noErr(t, "seed job "+j.ID, s.PutJob(c, j, 0))
	}
	// A job that ran first and finished by an update.
	closing := job("ta", "closing", store.JobReconcile, "c2", 0, 1)
	closing.Status, closing.FinishedAt = store.JobRunning, nil
	noErr(t, "seed closing job", s.PutJob(c, closing, 0))
	closing.Rev, closing.Status, closing.FinishedAt = 2, store.JobFailed, timePtr(at.Add(time.Minute))
	noErr(t, "finish closing job", s.PutJob(c, closing, 1))

	processedAt := at.Add(time.Minute)
	written := delivery("c1", "written-processed", at)
	written.ProcessedAt, written.Outcome = &processedAt, "accepted"
	for _, d := range []store.Delivery{delivery("c1", "marked", at), delivery("c1", "pending", at), written} {
		_, err := s.PutDelivery(c, d)
		noErr(t, "seed delivery "+d.ID, err)
	}
	noErr(t, "mark", s.MarkDeliveryProcessed(c, "c1", "marked", "accepted", processedAt))

	present := func(t *testing.T, when string, wantJobs, wantDeliveries map[string]bool) {
		t.Helper()
		for id, want := range wantJobs {
			_, err := s.GetJob(c, "ta", id)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("%s: get job %s: %v", when, id, err)
			}
			if got := err == nil; got != want {
				t.Errorf("%s: job %s present=%t, want %t", when, id, got, want)
			}
		}
		for id, want := range wantDeliveries {
			_, err := s.GetDelivery(c, "c1", id)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("%s: get delivery %s: %v", when, id, err)
			}
			if got := err == nil; got != want {
				t.Errorf("%s: delivery %s present=%t, want %t", when, id, got, want)
			}
		}
	}

	// A second before the retention ends, everything is kept.
	expire(t, s, processedAt.Add(keep-time.Second))
	present(t, "just before", map[string]bool{"finished": true, "running": true, "later": true, "closing": true},
		map[string]bool{"marked": true, "pending": true, "written-processed": true})

	// Once it has passed, the history that ended at+1min is gone; the rest stays.
	expire(t, s, processedAt.Add(keep+time.Second))
	present(t, "just after", map[string]bool{"finished": false, "running": true, "later": true, "closing": false},
		map[string]bool{"marked": false, "pending": true, "written-processed": false})
	list, err := s.ListJobs(c, "ta", store.JobReconcile, "c1", 10)
	noErr(t, "list after expiry", err)
	if len(list) != 1 || list[0].ID != "running" {
		t.Errorf("reconcile jobs after expiry: %+v, want only the running one", list)
	}

	// Years later a running job and an unprocessed delivery are still there.
	expire(t, s, at.Add(10*365*24*time.Hour))
	present(t, "years after", map[string]bool{"running": true, "later": false}, map[string]bool{"pending": true})
}
