package catalog_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/catalog"
	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/store"
)

// wantMatching is TestFirstSyncMatches' outcome: an interrupted run must end with it too.
var wantMatching = catalog.Counts{Checked: 8, AlreadyLinked: 1, LinkedBySKU: 2, LinkedByEAN: 1, LinkedByCode: 1, Ambiguous: 2, Unmatched: 1}

// links lists every store item's mapping, to prove nothing was linked twice.
func (f *fixture) links(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, k := range [][2]string{{"1", ""}, {"2", ""}, {"3", ""}, {"4", ""}, {"5", ""}, {"6", "61"}, {"6", "62"}, {"7", ""}} {
		out[k[0]+"/"+k[1]] = f.mapped(t, k[0], k[1])
	}
	return out
}

var wantLinks = map[string]string{"1/": "a-1", "2/": "B", "3/": "C", "4/": "", "5/": "", "6/61": "F", "6/62": "", "7/": "G"}

func (f *fixture) only(t *testing.T) store.Job {
	t.Helper()
	jobs, err := f.svc.Jobs(f.ctx, "t1", "c1", 10)
	must(t, err)
	if len(jobs) != 1 {
		t.Fatalf("%d jobs, want 1", len(jobs))
	}
	return jobs[0]
}

// A page that fails leaves the job running at its last saved page; RunPending resumes it
// once stale, without reading the pages before the cursor again.
func TestResumeAfterFailedPage(t *testing.T) {
	f := newFixture(t, domain.Rules{})
	seedMatching(t, f)
	f.rd.before = func(page int, _ string) error {
		if page == 2 {
			return errors.New("HTTP 503")
		}
		return nil
	}
	j, err := f.svc.Start(f.ctx, "t1", "c1")
	must(t, err)
	if _, err := f.svc.Run(f.ctx, j); err == nil {
		t.Fatal("Run succeeded with a failing page")
	}
	j = f.only(t)
	if j.Status != store.JobRunning || j.Cursor != "products:2" || j.Done != 2 || report(t, j).LastError == "" {
		t.Fatalf("after the failure: status %s cursor %q done %d report %s", j.Status, j.Cursor, j.Done, j.Report)
	}
	if _, err := f.svc.Start(f.ctx, "t1", "c1"); !errors.Is(err, catalog.ErrRunning) {
		t.Errorf("Start on a fresh failed run: %v, want ErrRunning", err)
	}
	must(t, f.svc.RunPending(f.ctx)) // not stale yet: nothing happens
	if n := len(f.rd.asked()); n != 2 {
		t.Fatalf("RunPending worked a fresh job (%d pages asked)", n)
	}
	f.clock.add(3 * time.Minute)
	must(t, f.svc.RunPending(f.ctx))
	j = f.only(t)
	rep := report(t, j)
	if j.Status != store.JobDone || !reflect.DeepEqual(counts(rep.Products), wantMatching) || rep.Runs != 2 || rep.LastError != "" {
		t.Errorf("resumed job %s: %+v runs %d err %q", j.Status, counts(rep.Products), rep.Runs, rep.LastError)
	}
	if got := f.rd.asked(); !slices.Equal(got, []string{"", "2", "2", "4", "6"}) {
		t.Errorf("cursors asked %q: the first page must be read once", got)
	}
	if got := f.links(t); !reflect.DeepEqual(got, wantLinks) {
		t.Errorf("links %v, want %v", got, wantLinks)
	}
}

// cancelStore stops the run (as a crash would) right after the nth mapping write.
type cancelStore struct {
	catalog.Store
	mu     sync.Mutex
	n      int
	cancel context.CancelFunc
}

func (c *cancelStore) PutMapping(ctx context.Context, m domain.Mapping) error {
	err := c.Store.PutMapping(ctx, m)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n--; c.n == 0 {
		c.cancel()
	}
	return err
}

// A run stopped between pages or in the middle of one (its ctx ends: a crash seen from
// inside) resumes from its last saved page and ends with the counts of an unbroken run.
func TestResumeAfterCrash(t *testing.T) {
	cases := []struct {
		name      string
		stopPage  int // cancel before this page is read
		stopLinks int // or after this many mapping writes
		cursor    string
	}{
		{name: "between pages", stopPage: 3, cursor: "products:4"},
		{name: "mid page", stopLinks: 1, cursor: ""},
		{name: "mid later page", stopLinks: 3, cursor: "products:2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, domain.Rules{})
			seedMatching(t, f)
			ctx, cancel := context.WithCancel(f.ctx)
			defer cancel()
			f.rd.before = func(page int, _ string) error {
				if page == tc.stopPage {
					cancel()
				}
				return nil
			}
			if tc.stopLinks > 0 {
				f.svc.Store = &cancelStore{Store: f.st, n: tc.stopLinks, cancel: cancel}
			}
			j, err := f.svc.Start(ctx, "t1", "c1")
			must(t, err)
			if _, err := f.svc.Run(ctx, j); !errors.Is(err, context.Canceled) {
				t.Fatalf("Run: %v, want canceled", err)
			}
			if j = f.only(t); j.Status != store.JobRunning || j.Cursor != tc.cursor {
				t.Fatalf("after the crash: status %s cursor %q, want running at %q", j.Status, j.Cursor, tc.cursor)
			}
			f.svc.Store = f.st
			f.rd.before = nil
			f.clock.add(3 * time.Minute)
			must(t, f.svc.RunPending(f.ctx))
			j = f.only(t)
			if rep := report(t, j); j.Status != store.JobDone || !reflect.DeepEqual(counts(rep.Products), wantMatching) {
				t.Errorf("resumed job %s: %+v\nwant %+v", j.Status, counts(rep.Products), wantMatching)
			}
			if got := f.links(t); !reflect.DeepEqual(got, wantLinks) {
				t.Errorf("links %v, want %v", got, wantLinks)
			}
		})
	}
}

// Start makes a job waiting for a worker: a second Start is refused, RunPending works it
// at once, and a stale one is handed back by Start to continue.
func TestStartRunPending(t *testing.T) {
	f := newFixture(t, domain.Rules{})
	seedMatching(t, f)
	j, err := f.svc.Start(f.ctx, "t1", "c1")
	must(t, err)
	if !report(t, j).Pending {
		t.Error("a started job is not pending")
	}
	if _, err := f.svc.Start(f.ctx, "t1", "c1"); !errors.Is(err, catalog.ErrRunning) {
		t.Fatalf("second Start: %v, want ErrRunning", err)
	}
	must(t, f.svc.RunPending(f.ctx))
	if got := f.only(t); got.ID != j.ID || got.Status != store.JobDone {
		t.Fatalf("RunPending left job %s %s", got.ID, got.Status)
	}
	// The job as Start returned it is an old revision: a second worker cannot claim it.
	if _, err := f.svc.Run(f.ctx, j); err == nil {
		t.Error("Run of a finished job's old revision succeeded")
	}

	// A stale job is handed back by Start, waiting again, and finishes from its cursor.
	f.rd.before = func(page int, _ string) error {
		if page == 6 { // the second job's second page
			return errors.New("HTTP 500")
		}
		return nil
	}
	j2, err := f.svc.Start(f.ctx, "t1", "c1")
	must(t, err)
	if _, err := f.svc.Run(f.ctx, j2); err == nil {
		t.Fatal("Run succeeded with a failing page")
	}
	f.clock.add(3 * time.Minute)
	j3, err := f.svc.Start(f.ctx, "t1", "c1")
	must(t, err)
	if j3.ID != j2.ID || !report(t, j3).Pending || j3.Cursor != "products:2" {
		t.Fatalf("Start on a stale job gave %s pending %v cursor %q, want %s again", j3.ID, report(t, j3).Pending, j3.Cursor, j2.ID)
	}
	j3, err = f.svc.Run(f.ctx, j3)
	must(t, err)
	if rep := report(t, j3); j3.Status != store.JobDone || rep.Products.Checked != 8 || rep.Products.AlreadyLinked != 5 {
		t.Errorf("second job %s: %+v", j3.Status, counts(rep.Products))
	}
}
