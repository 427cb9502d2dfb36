package reconcile_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform/tray/traysim"
	"github.com/ponte-hub/ponte/internal/reconcile"
	"github.com/ponte-hub/ponte/internal/store"
)

// clock is a settable time for the service, so tests can age jobs.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func withClock(f *fixture) *clock {
	c := &clock{t: time.Now().UTC()}
	f.svc.Now = c.now
	return c
}

func decodeReport(t *testing.T, j store.Job) reconcile.Report {
	t.Helper()
	var rep reconcile.Report
	must(t, json.Unmarshal(j.Report, &rep))
	return rep
}

func (f *fixture) onlyJob(t *testing.T) store.Job {
	t.Helper()
	jobs, err := f.svc.Reports(f.ctx, "t1", "c1", 10)
	must(t, err)
	if len(jobs) != 1 {
		t.Fatalf("%d jobs stored, want 1: %+v", len(jobs), jobs)
	}
	return jobs[0]
}

func TestJobStoresProgressAndReport(t *testing.T) {
	f := newFixture(t)
	f.drift()
	var mid store.Job
	f.lister.beforePage = func(page int) {
		if page == 2 {
			mid = f.onlyJob(t)
		}
	}
	rep, err := f.svc.Run(f.ctx, "c1")
	must(t, err)
	// After page 1 the job is running with A and B checked and page 2 as its cursor.
	if mid.Status != store.JobRunning || mid.Done != 2 || mid.Cursor != "2" || mid.Kind != store.JobReconcile || mid.FinishedAt != nil {
		t.Fatalf("job after page 1: %+v", mid)
	}
	if r := decodeReport(t, mid); r.Checked != 2 || r.Corrected != 2 || r.Job != mid.ID {
		t.Fatalf("report after page 1: %+v", r)
	}
	j := f.onlyJob(t)
	if j.ID != rep.Job || !strings.HasPrefix(j.ID, "rec_") || j.Status != store.JobDone || j.Done != 6 || j.Cursor != "" ||
		j.FinishedAt == nil || j.Error != "" || j.DryRun {
		t.Fatalf("finished job %+v", j)
	}
	stored := decodeReport(t, j)
	if stored.Checked != 6 || stored.Drifted != 3 || stored.Corrected != 3 || stored.Pages != 3 || stored.FinishedAt.IsZero() {
		t.Fatalf("stored report %+v", stored)
	}
	if got := sorted(stored.DriftedSKUs); !slices.Equal(got, []string{"A", "B", "C"}) {
		t.Fatalf("stored drifted SKUs %q", got)
	}
}

func TestJobOutcomes(t *testing.T) {
	tests := []struct {
		name       string
		dry        bool
		failPage   int
		wantStatus string
	}{
		{"a dry run is a job too", true, 0, store.JobDone},
		{"a failed page fails the job with its error", false, 2, store.JobFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.svc.DryRun = tt.dry
			if tt.failPage > 0 {
				f.lister.beforePage = func(page int) {
					if page == tt.failPage {
						f.sim.InjectFault("s1", traysim.Fault{Kind: traysim.FaultServerError, Count: 100})
					}
				}
			}
			_, err := f.svc.Run(f.ctx, "c1")
			j := f.onlyJob(t)
			if j.Status != tt.wantStatus || j.DryRun != tt.dry || j.FinishedAt == nil {
				t.Fatalf("job %+v (run err %v)", j, err)
			}
			if (tt.wantStatus == store.JobFailed) != (j.Error != "" && err != nil) {
				t.Fatalf("job error %q, run error %v", j.Error, err)
			}
		})
	}
}

func TestInterruptedRunResumes(t *testing.T) {
	f := newFixture(t)
	f.drift()
	clk := withClock(f)
	ctx, cancel := context.WithCancel(f.ctx)
	var pages []int
	f.lister.beforePage = func(page int) {
		pages = append(pages, page)
		if page == 2 {
			cancel() // the run is killed before page 2
		}
	}
	_, err := f.svc.Run(ctx, "c1")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	crashed := f.onlyJob(t)
	if crashed.Status != store.JobRunning || crashed.Done != 2 || crashed.Cursor != "2" {
		t.Fatalf("interrupted job %+v, want running at page 2", crashed)
	}

	// Too fresh to be taken for crashed: another run must not start beside it.
	pages = nil
	_, err = f.svc.Run(f.ctx, "c1")
	if !errors.Is(err, reconcile.ErrRunning) || len(pages) != 0 {
		t.Fatalf("run beside a fresh job: err %v, pages %v", err, pages)
	}

	clk.add(reconcile.DefaultStaleAfter + time.Second)
	rep, err := f.svc.Run(f.ctx, "c1")
	must(t, err)
	if !slices.Equal(pages, []int{2, 3}) {
		t.Fatalf("resumed run read pages %v, want 2 and 3 only", pages)
	}
	if rep.Job != crashed.ID || rep.Resumed != 1 || rep.Pages != 3 || rep.Checked != 6 || rep.Drifted != 3 || rep.Corrected != 3 || rep.Unmapped != 1 {
		t.Fatalf("resumed report %+v", rep)
	}
	if !rep.StartedAt.Equal(crashed.StartedAt) {
		t.Fatalf("resumed report started %v, want the job's %v", rep.StartedAt, crashed.StartedAt)
	}
	j := f.onlyJob(t)
	if j.Status != store.JobDone || j.Done != 6 || decodeReport(t, j).Checked != 6 {
		t.Fatalf("resumed job %+v", j)
	}
	// A and B were queued by the first run, C by the resumed one: each once.
	if got := skusOf(t, f.drain(t)); !slices.Equal(got, []string{"A", "B", "C"}) {
		t.Fatalf("queued %q", got)
	}
}

func TestRunningJobBlocks(t *testing.T) {
	tests := []struct {
		name    string
		age     time.Duration
		dry     bool
		blocked bool
	}{
		{"a job updated just now blocks", time.Second, false, true},
		{"a fresh job blocks a dry run too", time.Second, true, true},
		{"a stale job of the other mode is closed and a new run starts", 3 * time.Minute, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			clk := withClock(f)
			other := store.Job{Tenant: "t1", ID: "rec_other", Kind: store.JobReconcile, ConnectionID: "c1", Status: store.JobRunning,
				Cursor: "4", StartedAt: clk.now().Add(-tt.age), UpdatedAt: clk.now().Add(-tt.age), Rev: 1}
			must(t, f.store.PutJob(f.ctx, other, 0))
			f.svc.DryRun = tt.dry
			read := false
			f.lister.beforePage = func(int) { read = true }
			rep, err := f.svc.Run(f.ctx, "c1")
			if tt.blocked {
				if !errors.Is(err, reconcile.ErrRunning) || read || rep.Job != "" {
					t.Fatalf("err %v, catalogue read %v, job %q", err, read, rep.Job)
				}
				// The scheduler skips it without an error.
				reps, err := f.svc.RunDue(f.ctx)
				if err != nil || len(reps) != 0 {
					t.Fatalf("RunDue beside a running job: %+v %v", reps, err)
				}
				return
			}
			must(t, err)
			if rep.Job == other.ID || rep.Checked != 6 {
				t.Fatalf("report %+v, want a new full run", rep)
			}
			old, err := f.store.GetJob(f.ctx, "t1", other.ID)
			must(t, err)
			if old.Status != store.JobFailed || old.FinishedAt == nil {
				t.Fatalf("crashed job of the other mode %+v, want closed as failed", old)
			}
		})
	}
}

func TestDue(t *testing.T) {
	f := newFixture(t)
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	type past struct {
		ago    time.Duration
		dry    bool
		status string
		idle   time.Duration // since its last update
	}
	tests := []struct {
		id       string
		interval string
		disabled bool
		jobs     []past
		due      bool
	}{
		{id: "never-ran", due: true},
		{id: "ran-recently", jobs: []past{{ago: 5 * time.Minute}}},
		{id: "ran-long-ago", jobs: []past{{ago: 16 * time.Minute}}, due: true},
		{id: "ran-one-tick-ago", jobs: []past{{ago: 15*time.Minute - 2*time.Second}}, due: true},
		{id: "off", interval: "off"},
		{id: "zero", interval: "0"},
		{id: "hourly-recent", interval: "1h", jobs: []past{{ago: 30 * time.Minute}}},
		{id: "hourly-old", interval: "1h", jobs: []past{{ago: 61 * time.Minute}}, due: true},
		{id: "typo-uses-default", interval: "15 minutes", jobs: []past{{ago: 16 * time.Minute}}, due: true},
		{id: "only-dry-runs", jobs: []past{{ago: time.Minute, dry: true}}, due: true},
		{id: "dry-after-real", jobs: []past{{ago: 10 * time.Minute}, {ago: time.Minute, dry: true}}},
		{id: "crashed", jobs: []past{{ago: 4 * time.Minute, status: store.JobRunning, idle: 3 * time.Minute}}, due: true},
		{id: "running", jobs: []past{{ago: 4 * time.Minute, status: store.JobRunning, idle: 10 * time.Second}}},
		{id: "disabled", disabled: true},
	}
	must(t, f.store.PutTenant(f.ctx, domain.Tenant{ID: "t9", Name: "T9", Currency: "BRL", CreatedAt: now}))
	for _, tt := range tests {
		c := domain.Connection{ID: tt.id, Tenant: "t9", Platform: "tray", Enabled: !tt.disabled,
			Settings: map[string]string{reconcile.SettingInterval: tt.interval}}
		must(t, f.store.PutConnection(f.ctx, c))
		for i, p := range tt.jobs {
			status := p.status
			if status == "" {
				status = store.JobDone
			}
			started := now.Add(-p.ago)
			j := store.Job{Tenant: "t9", ID: tt.id + "-" + string(rune('a'+i)), Kind: store.JobReconcile, ConnectionID: tt.id,
				Status: status, DryRun: p.dry, StartedAt: started, UpdatedAt: now.Add(-p.idle), Rev: 1}
			must(t, f.store.PutJob(f.ctx, j, 0))
		}
	}
	due, err := f.svc.Due(f.ctx, now)
	must(t, err)
	got := map[string]bool{}
	for _, c := range due {
		got[c.ID] = true
	}
	for _, tt := range tests {
		if got[tt.id] != tt.due {
			t.Errorf("%s: due %v, want %v", tt.id, got[tt.id], tt.due)
		}
	}
	if !got["c1"] {
		t.Error("the fixture's never-run connection is not due")
	}
}

func TestRunDueRunsOnceAnInterval(t *testing.T) {
	f := newFixture(t)
	f.drift()
	clk := withClock(f)
	reps, err := f.svc.RunDue(f.ctx)
	must(t, err)
	if len(reps) != 1 || reps[0].ConnectionID != "c1" || reps[0].Corrected != 3 {
		t.Fatalf("first RunDue %+v", reps)
	}
	clk.add(5 * time.Minute)
	if reps, err := f.svc.RunDue(f.ctx); err != nil || len(reps) != 0 {
		t.Fatalf("RunDue 5 minutes later: %+v %v", reps, err)
	}
	clk.add(10 * time.Minute)
	if reps, err := f.svc.RunDue(f.ctx); err != nil || len(reps) != 1 {
		t.Fatalf("RunDue an interval later: %+v %v", reps, err)
	}
	jobs, err := f.svc.Reports(f.ctx, "t1", "c1", 0)
	must(t, err)
	if len(jobs) != 2 || !jobs[0].StartedAt.After(jobs[1].StartedAt) {
		t.Fatalf("reports %+v, want two, newest first", jobs)
	}
}

func TestPriceDropGuardIsReportedAsHeld(t *testing.T) {
	f := newFixture(t)
	conn, err := f.store.GetConnection(f.ctx, "c1")
	must(t, err)
	pct := decimal.NewFromInt(10)
	conn.Rules.MaxPriceDropPct = &pct
	must(t, f.store.PutConnection(f.ctx, conn))
	// B shows 12.50 where the hub wants 10.00: bringing it back is a 20% drop.
	f.drift()
	rep, err := f.svc.Run(f.ctx, "c1")
	must(t, err)
	if rep.Held != 1 || len(rep.HeldSKUs) != 1 || rep.HeldSKUs[0].SKU != "B" ||
		!strings.HasPrefix(rep.HeldSKUs[0].Reason, reconcile.ReasonPriceDrop) || rep.Corrected != 3 {
		t.Fatalf("report %+v", rep)
	}
	// The pusher agrees: B's price is refused, A and C go out.
	msgs := f.drain(t)
	for i, err := range f.pusher.HandleBatch(f.ctx, msgs) {
		var pm struct{ SKU string }
		must(t, json.Unmarshal(msgs[i].Body, &pm))
		if (pm.SKU == "B") != (err != nil) {
			t.Errorf("push of %s: %v", pm.SKU, err)
		}
	}
	if p, _ := f.sim.Product("s1", "12"); !p.Price.Equal(decimal.RequireFromString("12.50")) {
		t.Fatalf("B's price is %s, want the guard to keep 12.50", p.Price)
	}
}
