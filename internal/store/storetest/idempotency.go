package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/store"
)

func testIdempotency(t *testing.T, s store.Store) {
	c := ctx(t)
	const ttl = time.Hour
	before := time.Now()

	rec, claimed, err := s.ClaimIdempotency(c, "k1", "hash-1", ttl)
	noErr(t, "first claim", err)
	if !claimed || rec.Status != store.IdemInProgress || rec.Key != "k1" || rec.RequestHash != "hash-1" {
		t.Fatalf("first claim: claimed=%v record %+v", claimed, rec)
	}
	wantUTC(t, "expires_at", rec.ExpiresAt)
	if rec.ExpiresAt.Before(before.Add(ttl-time.Second)) || rec.ExpiresAt.After(time.Now().Add(ttl+time.Second)) {
		t.Errorf("expires_at %v is not about now+%v", rec.ExpiresAt, ttl)
	}

	for _, tc := range []struct {
		name       string
		act        func() error
		wantStatus string
		wantCode   int
		wantBody   string
	}{
		{"second claim sees in progress", func() error { return nil }, store.IdemInProgress, 0, ""},
		{"complete stores the response", func() error {
			return s.CompleteIdempotency(c, "k1", 202, []byte(`{"accepted":3}`), ttl)
		}, store.IdemCompleted, 202, `{"accepted":3}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			noErr(t, "act", tc.act())
			got, claimed, err := s.ClaimIdempotency(c, "k1", "hash-other", ttl)
			noErr(t, "claim", err)
			if claimed {
				t.Fatal("claimed a live key twice")
			}
			if got.Key != "k1" || got.RequestHash != "hash-1" || got.Status != tc.wantStatus ||
				got.StatusCode != tc.wantCode || string(got.Response) != tc.wantBody {
				t.Errorf("existing record %+v (body %q), want status %s code %d body %q",
					got, got.Response, tc.wantStatus, tc.wantCode, tc.wantBody)
			}
			wantUTC(t, "existing expires_at", got.ExpiresAt)
		})
	}

	t.Run("release lets the key run again", func(t *testing.T) {
		_, claimed, err := s.ClaimIdempotency(c, "k2", "hash-2", ttl)
		noErr(t, "claim", err)
		if !claimed {
			t.Fatal("fresh key not claimed")
		}
		noErr(t, "release", s.ReleaseIdempotency(c, "k2"))
		rec, claimed, err := s.ClaimIdempotency(c, "k2", "hash-2b", ttl)
		noErr(t, "reclaim", err)
		if !claimed || rec.RequestHash != "hash-2b" {
			t.Errorf("after release: claimed=%v record %+v", claimed, rec)
		}
		noErr(t, "release absent key", s.ReleaseIdempotency(c, "never-claimed"))
	})

	t.Run("complete without a claim", func(t *testing.T) {
		err := s.CompleteIdempotency(c, "never-claimed", 200, nil, ttl)
		wantErr(t, "complete", err, store.ErrNotFound)
	})
}

func testIdempotencyExpiry(t *testing.T, s store.Store) {
	c := ctx(t)
	const short = 300 * time.Millisecond
	for _, tc := range []struct {
		name     string
		complete bool
	}{{"in progress", false}, {"completed", true}} {
		t.Run(tc.name, func(t *testing.T) {
			key := "exp-" + tc.name
			_, claimed, err := s.ClaimIdempotency(c, key, "h1", short)
			noErr(t, "claim", err)
			if !claimed {
				t.Fatal("not claimed")
			}
			if tc.complete {
				noErr(t, "complete", s.CompleteIdempotency(c, key, 200, []byte("ok"), short))
			}
			if _, claimed, _ := s.ClaimIdempotency(c, key, "h2", time.Hour); claimed {
				t.Fatal("claimed before expiry")
			}
			time.Sleep(short + 200*time.Millisecond)
			rec, claimed, err := s.ClaimIdempotency(c, key, "h2", time.Hour)
			noErr(t, "claim after expiry", err)
			if !claimed || rec.RequestHash != "h2" || rec.Status != store.IdemInProgress || rec.StatusCode != 0 {
				t.Errorf("after expiry: claimed=%v record %+v", claimed, rec)
			}
		})
	}
}

func testIdempotencyRace(t *testing.T, s store.Store) {
	c := ctx(t)
	const n = 8
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		winners []string
		seen    = map[string]int{}
	)
	for g := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hash := fmt.Sprintf("hash-%d", g)
			rec, claimed, err := s.ClaimIdempotency(c, "race", hash, time.Hour)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("claimer %d: %v", g, err)
				return
			}
			if claimed {
				winners = append(winners, hash)
			}
			seen[rec.RequestHash]++
		}()
	}
	wg.Wait()
	if len(winners) != 1 {
		t.Fatalf("%d claimers won (%v), want exactly one", len(winners), winners)
	}
	if seen[winners[0]] != n {
		t.Errorf("claimers saw request hashes %v, want all %d to see the winner's %s", seen, n, winners[0])
	}
}
