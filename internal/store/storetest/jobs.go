package storetest

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/store"
)

// job fills every field of a finished job of kind on conn, started `offset` after at.
func job(tenantID, id, kind, conn string, offset time.Duration, rev int64) store.Job {
	started := at.Add(offset)
	return store.Job{
		Tenant: tenantID, ID: id, Kind: kind, ConnectionID: conn, Status: store.JobDone, DryRun: true,
		Done: 120, Total: 250, Cursor: "page=3&after=\"x#y\"",
		Report:    json.RawMessage(`{"checked":120,"skus":["A","B"],"note":"café"}`),
		Error:     "429 <retry>",
		StartedAt: started, UpdatedAt: started.Add(time.Second), FinishedAt: timePtr(started.Add(time.Minute)),
		Rev: rev,
	}
}

func testJobRoundTrip(t *testing.T, s store.Store) {
	c := ctx(t)
	_, err := s.GetJob(c, "ta", "j1")
	wantErr(t, "get before create", err, store.ErrNotFound)
	j := job("ta", "j1", store.JobReconcile, "c1", 0, 1)
	noErr(t, "create", s.PutJob(c, j, 0))
	got, err := s.GetJob(c, "ta", "j1")
	noErr(t, "get", err)
	sameJSON(t, "job", j, got)
	wantUTC(t, "started_at", got.StartedAt)

	// A running job without optional fields keeps them empty.
	bare := store.Job{Tenant: "ta", ID: "j2", Kind: store.JobFirstSync, ConnectionID: "c1", Status: store.JobRunning,
		StartedAt: at, UpdatedAt: at, Rev: 1}
	noErr(t, "create bare", s.PutJob(c, bare, 0))
	got, err = s.GetJob(c, "ta", "j2")
	noErr(t, "get bare", err)
	sameJSON(t, "bare job", bare, got)
}

func testJobOptimisticWrites(t *testing.T, s store.Store) {
	c := ctx(t)
	j := job("ta", "j1", store.JobReconcile, "c1", 0, 1)
	noErr(t, "create", s.PutJob(c, j, 0))
	wantErr(t, "create twice", s.PutJob(c, j, 0), store.ErrConflict)

	next := j
	next.Rev, next.Done, next.Cursor = 2, 200, "page=4"
	wantErr(t, "wrong expected rev", s.PutJob(c, job("ta", "j1", store.JobReconcile, "c1", 0, 3), 2), store.ErrConflict)
	noErr(t, "update", s.PutJob(c, next, 1))
	wantErr(t, "update from an old rev", s.PutJob(c, next, 1), store.ErrConflict)
	got, err := s.GetJob(c, "ta", "j1")
	noErr(t, "get", err)
	sameJSON(t, "updated job", next, got)

	bad := next
	bad.Rev = 5
	if err := s.PutJob(c, bad, 2); err == nil {
		t.Error("rev not expected+1 was accepted")
	}
	wantErr(t, "update of a missing job", s.PutJob(c, job("ta", "nope", store.JobReconcile, "c1", 0, 2), 1), store.ErrConflict)
}

func testJobRace(t *testing.T, s store.Store) {
	c := ctx(t)
	noErr(t, "seed", s.PutJob(c, job("ta", "race", store.JobReconcile, "c1", 0, 1), 0))
	winner := oneWinner(t, 20, func(g int) (string, bool) {
		j := job("ta", "race", store.JobReconcile, "c1", 0, 2)
		j.Cursor = fmt.Sprintf("writer-%d", g)
		err := s.PutJob(c, j, 1)
		if err != nil {
			wantErr(t, fmt.Sprintf("writer %d", g), err, store.ErrConflict)
		}
		return j.Cursor, err == nil
	})
	got, err := s.GetJob(c, "ta", "race")
	noErr(t, "get", err)
	if got.Rev != 2 || got.Cursor != winner {
		t.Errorf("stored rev %d cursor %q, want 2 %q", got.Rev, got.Cursor, winner)
	}
}

func testJobTenants(t *testing.T, s store.Store) {
	c := ctx(t)
	noErr(t, "create in ta", s.PutJob(c, job("ta", "j1", store.JobReconcile, "c1", 0, 1), 0))
	_, err := s.GetJob(c, "tb", "j1")
	wantErr(t, "get from another tenant", err, store.ErrNotFound)
	// The same id in another tenant is another job.
	noErr(t, "create in tb", s.PutJob(c, job("tb", "j1", store.JobFirstSync, "c9", 0, 1), 0))
	got, err := s.GetJob(c, "ta", "j1")
	noErr(t, "get ta", err)
	if got.Kind != store.JobReconcile {
		t.Errorf("ta's job became kind %q", got.Kind)
	}
	list, err := s.ListJobs(c, "tb", "", "", 10)
	noErr(t, "list tb", err)
	if len(list) != 1 || list[0].Tenant != "tb" {
		t.Errorf("tb lists %+v, want only its own job", list)
	}
}

func testListJobs(t *testing.T, s store.Store) {
	c := ctx(t)
	// Created out of start order, so the order must come from StartedAt.
	seed := []store.Job{
		job("ta", "r2", store.JobReconcile, "c1", 2*time.Hour, 1),
		job("ta", "r1", store.JobReconcile, "c1", time.Hour, 1),
		job("ta", "r3", store.JobReconcile, "c1", 3*time.Hour, 1),
		job("ta", "f1", store.JobFirstSync, "c1", 90*time.Minute, 1),
		job("ta", "o1", store.JobReconcile, "c2", 150*time.Minute, 1),
		job("tb", "x1", store.JobReconcile, "c1", 4*time.Hour, 1),
	}
	for _, j := range seed {
		noErr(t, "seed "+j.ID, s.PutJob(c, j, 0))
	}
	tests := []struct {
		name, kind, conn string
		limit            int
		want             []string
	}{
		{"all", "", "", 10, []string{"r3", "o1", "r2", "f1", "r1"}},
		{"limit", "", "", 2, []string{"r3", "o1"}},
		{"kind", store.JobReconcile, "", 10, []string{"r3", "o1", "r2", "r1"}},
		{"connection", "", "c1", 10, []string{"r3", "r2", "f1", "r1"}},
		{"kind and connection", store.JobReconcile, "c1", 10, []string{"r3", "r2", "r1"}},
		{"kind and connection, limit", store.JobReconcile, "c1", 1, []string{"r3"}},
		{"no match", store.JobFirstSync, "c2", 10, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ListJobs(c, "ta", tc.kind, tc.conn, tc.limit)
			noErr(t, "list", err)
			var ids []string
			for _, j := range got {
				ids = append(ids, j.ID)
			}
			if fmt.Sprint(ids) != fmt.Sprint(tc.want) {
				t.Errorf("got %v, want %v", ids, tc.want)
			}
		})
	}
	// A later write of a job keeps its place (StartedAt does not move).
	upd := job("ta", "r1", store.JobReconcile, "c1", time.Hour, 2)
	upd.UpdatedAt = at.Add(10 * time.Hour)
	noErr(t, "update r1", s.PutJob(c, upd, 1))
	got, err := s.ListJobs(c, "ta", store.JobReconcile, "c1", 10)
	noErr(t, "list after update", err)
	if len(got) != 3 || got[2].ID != "r1" || got[2].Rev != 2 {
		t.Errorf("after update got %+v, want r1 (rev 2) still last", got)
	}
	if _, err := s.ListJobs(c, "ta", "", "", 0); err == nil {
		t.Error("limit 0 was accepted")
	}
}

// testJobKeysFixed: kind, connection and start place a job in its listings, so they are
// fixed at creation; an id is unique within a tenant; kinds are a closed set.
func testJobKeysFixed(t *testing.T, s store.Store) {
	c := ctx(t)
	j := job("ta", "j1", store.JobReconcile, "c1", 0, 1)
	noErr(t, "create", s.PutJob(c, j, 0))
	tests := []struct {
		name   string
		change func(*store.Job)
	}{
		{"kind", func(j *store.Job) { j.Kind = store.JobFirstSync }},
		{"connection", func(j *store.Job) { j.ConnectionID = "c2" }},
		{"start", func(j *store.Job) { j.StartedAt = j.StartedAt.Add(time.Second) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			next := j
			next.Rev = 2
			tc.change(&next)
			wantErr(t, "update changing "+tc.name, s.PutJob(c, next, 1), store.ErrConflict)
		})
	}
	got, err := s.GetJob(c, "ta", "j1")
	noErr(t, "get", err)
	sameJSON(t, "job after refused updates", j, got)

	again := job("ta", "j1", store.JobFirstSync, "c2", time.Hour, 1)
	wantErr(t, "same id on another connection", s.PutJob(c, again, 0), store.ErrConflict)
	if err := s.PutJob(c, job("ta", "j9", "import", "c1", 0, 1), 0); err == nil {
		t.Error("a job of an unknown kind was accepted")
	}
	list, err := s.ListJobs(c, "ta", "import", "", 10)
	noErr(t, "list an unknown kind", err)
	if len(list) != 0 {
		t.Errorf("unknown kind lists %d jobs", len(list))
	}
}

// testListJobsMany: with many runs of one connection (every minute for hours) and of
// others, the newest N come back in order through every filter, and a running job among
// finished ones is found.
func testListJobsMany(t *testing.T, s store.Store) {
	c := ctx(t)
	const runs = 120
	var wantRec []string
	for i := range runs {
		id := fmt.Sprintf("rec-%03d", i)
		j := job("ta", id, store.JobReconcile, "c1", time.Duration(i)*time.Minute, 1)
		if i == runs-1 {
			j.Status, j.FinishedAt = store.JobRunning, nil
		}
		noErr(t, "seed "+id, s.PutJob(c, j, 0))
		wantRec = append([]string{id}, wantRec...)
		if i%10 == 0 {
			noErr(t, "seed other connection", s.PutJob(c, job("ta", fmt.Sprintf("oth-%03d", i), store.JobReconcile, "c2", time.Duration(i)*time.Minute+time.Second, 1), 0))
			noErr(t, "seed first sync", s.PutJob(c, job("ta", fmt.Sprintf("fs-%03d", i), store.JobFirstSync, "c1", time.Duration(i)*time.Minute+2*time.Second, 1), 0))
		}
	}
	ids := func(jobs []store.Job) []string {
		out := []string{}
		for _, j := range jobs {
			out = append(out, j.ID)
		}
		return out
	}
	newest, err := s.ListJobs(c, "ta", store.JobReconcile, "c1", 1)
	noErr(t, "newest", err)
	if len(newest) != 1 || newest[0].ID != wantRec[0] || newest[0].Status != store.JobRunning {
		t.Errorf("newest run: %v, want running %s", ids(newest), wantRec[0])
	}
	got, err := s.ListJobs(c, "ta", store.JobReconcile, "c1", 10)
	noErr(t, "newest 10", err)
	if fmt.Sprint(ids(got)) != fmt.Sprint(wantRec[:10]) {
		t.Errorf("newest 10: %v, want %v", ids(got), wantRec[:10])
	}
	got, err = s.ListJobs(c, "ta", store.JobReconcile, "c1", 1000)
	noErr(t, "all", err)
	if fmt.Sprint(ids(got)) != fmt.Sprint(wantRec) {
		t.Errorf("all %d runs: got %d, first %v", len(wantRec), len(got), ids(got)[:min(3, len(got))])
	}
	// The connection across kinds: runs at whole minutes, first syncs 2 s after every tenth.
	got, err = s.ListJobs(c, "ta", "", "c1", 3)
	noErr(t, "connection", err)
	if want := []string{"rec-119", "rec-118", "rec-117"}; fmt.Sprint(ids(got)) != fmt.Sprint(want) {
		t.Errorf("connection c1 newest 3: %v, want %v", ids(got), want)
	}
	got, err = s.ListJobs(c, "ta", "", "c1", 23)
	noErr(t, "connection 23", err)
	if len(got) != 23 || got[9].ID != "fs-110" || got[10].ID != "rec-110" || got[20].ID != "fs-100" || got[21].ID != "rec-100" {
		t.Errorf("connection c1 newest 23: %v", ids(got))
	}
	// The tenant across connections and kinds (the operator's listing).
	got, err = s.ListJobs(c, "ta", "", "", 4)
	noErr(t, "tenant", err)
	if want := []string{"rec-119", "rec-118", "rec-117", "rec-116"}; fmt.Sprint(ids(got)) != fmt.Sprint(want) {
		t.Errorf("tenant newest 4: %v, want %v", ids(got), want)
	}
	got, err = s.ListJobs(c, "ta", store.JobFirstSync, "", 2)
	noErr(t, "tenant first syncs", err)
	if want := []string{"fs-110", "fs-100"}; fmt.Sprint(ids(got)) != fmt.Sprint(want) {
		t.Errorf("tenant first syncs: %v, want %v", ids(got), want)
	}
}
