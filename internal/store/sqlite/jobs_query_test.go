package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/store"
)

// TestListJobsWalksAnIndexInOrder: every filter combination of ListJobs is a SEARCH on
// the index that starts with its filters, already in start order (no temporary sort),
// so SQLite stops after limit rows: the plan, and so the rows examined, is the same with
// 20 jobs stored as with 20,000. A plan that scanned the tenant's jobs or sorted them
// would examine every one.
func TestListJobsWalksAnIndexInOrder(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "ponte.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tests := []struct {
		kind, conn string
		wantIndex  string
		wantKeys   string
	}{
		{store.JobReconcile, "c1", "jobs_connection_kind", "tenant=? AND connection_id=? AND kind=?"},
		{"", "c1", "jobs_connection", "tenant=? AND connection_id=?"},
		{store.JobReconcile, "", "jobs_kind", "tenant=? AND kind=?"},
		{"", "", "jobs_started", "tenant=?"},
	}
	plans := func(t *testing.T) []string {
		var out []string
		for _, tc := range tests {
			query, args := listJobsQuery("t1", tc.kind, tc.conn, 5)
			rows, err := s.read.QueryContext(ctx, "EXPLAIN QUERY PLAN "+query, args...)
			if err != nil {
				t.Fatal(err)
			}
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			if err := rows.Close(); err != nil {
				t.Fatal(err)
			}
			got := strings.Join(plan, "; ")
			want := fmt.Sprintf("SEARCH jobs USING INDEX %s (%s)", tc.wantIndex, tc.wantKeys)
			if got != want {
				t.Errorf("kind %q connection %q: plan %q, want %q", tc.kind, tc.conn, got, want)
			}
			out = append(out, got)
		}
		return out
	}
	seed := func(from, to int) {
		start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := from; i < to; i++ {
			at := start.Add(time.Duration(i) * time.Minute)
			kind, conn := store.JobReconcile, fmt.Sprintf("c%d", i%10)
			if i%7 == 0 {
				kind = store.JobFirstSync
			}
			j := store.Job{Tenant: "t1", ID: fmt.Sprintf("j%06d", i), Kind: kind, ConnectionID: conn,
				Status: store.JobDone, StartedAt: at, UpdatedAt: at, FinishedAt: &at, Rev: 1}
			if err := s.PutJob(ctx, j, 0); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.write.ExecContext(ctx, "ANALYZE"); err != nil {
			t.Fatal(err)
		}
	}
	seed(0, 20)
	small := plans(t)
	seed(20, 20000)
	large := plans(t)
	if fmt.Sprint(small) != fmt.Sprint(large) {
		t.Errorf("plans changed with 20,000 jobs:\n%v\n%v", small, large)
	}
}
