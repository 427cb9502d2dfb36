package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/store"
)

// TestPurgeExpiredHistory: the scheduler's purge tick on the embedded backend deletes a
// job that finished longer ago than PONTE_RETENTION and keeps one that finished within
// it and one still running, however old.
func TestPurgeExpiredHistory(t *testing.T) {
	t.Setenv(RetentionEnv, "2d")
	ctx := context.Background()
	h, err := OpenEmbedded(ctx, t.TempDir(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	now := time.Now().UTC()
	job := func(id, status string, finished time.Time) store.Job {
		j := store.Job{Tenant: "t1", ID: id, Kind: store.JobReconcile, ConnectionID: "c1", Status: status,
			StartedAt: finished.Add(-time.Minute), UpdatedAt: finished, Rev: 1}
		if status != store.JobRunning {
			j.FinishedAt = &finished
		}
		return j
	}
	for _, j := range []store.Job{
		job("old", store.JobDone, now.Add(-3*24*time.Hour)),
		job("recent", store.JobDone, now.Add(-24*time.Hour)),
		job("stuck", store.JobRunning, now.Add(-30*24*time.Hour)),
	} {
		if err := h.Store.PutJob(ctx, j, 0); err != nil {
			t.Fatal(err)
		}
	}
	for id, died := range map[string]time.Time{"dead-old": now.Add(-3 * 24 * time.Hour), "dead-recent": now.Add(-24 * time.Hour)} {
		if err := h.Store.PutDeadLetter(ctx, store.DeadLetter{Tenant: "t1", Queue: "push-tray", ID: id, Connection: "c1",
			Reason: "refused", DeadAt: died, SentAt: died, Body: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	h.purgeExpired(ctx)
	for id, want := range map[string]bool{"dead-old": false, "dead-recent": true} {
		_, err := h.Store.GetDeadLetter(ctx, "t1", "push-tray", id)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		if got := err == nil; got != want {
			t.Errorf("dead letter %s kept=%t, want %t", id, got, want)
		}
	}
	for id, want := range map[string]bool{"old": false, "recent": true, "stuck": true} {
		_, err := h.Store.GetJob(ctx, "t1", id)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		if got := err == nil; got != want {
			t.Errorf("job %s kept=%t, want %t", id, got, want)
		}
	}
}

func TestRetentionFromEnv(t *testing.T) {
	tests := []struct {
		value   string
		want    time.Duration
		wantErr bool
	}{
		{"", store.DefaultRetention, false},
		{"7d", 7 * 24 * time.Hour, false},
		{"720h", 30 * 24 * time.Hour, false},
		{"12h", 0, true},
		{"4000d", 0, true},
		{"thirty", 0, true},
		{"-5d", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.value, func(t *testing.T) {
			t.Setenv(RetentionEnv, tc.value)
			got, err := RetentionFromEnv()
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("%q: %v, %v; want %v (error %t)", tc.value, got, err, tc.want, tc.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), RetentionEnv) {
				t.Errorf("error %q does not name %s", err, RetentionEnv)
			}
		})
	}
}
