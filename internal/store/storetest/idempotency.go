package storetest

import (
	"errors"
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
	if !claimed || rec.Status != store.IdemInProgress || rec.Key != "k1" || rec.RequestHash != "hash-1" || rec.Owner == "" {
		t.Fatalf("first claim: claimed=%v record %+v", claimed, rec)
	}
	owner := rec.Owner
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
		{"another owner cannot complete", func() error {
			return wantErrOnly(s.CompleteIdempotency(c, "k1", "someone-else", 500, nil, ttl), store.ErrNotFound)
		}, store.IdemInProgress, 0, ""},
		{"another owner cannot renew", func() error {
			return wantErrOnly(s.RenewIdempotency(c, "k1", "someone-else", ttl), store.ErrNotFound)
		}, store.IdemInProgress, 0, ""},
		{"another owner's release leaves the claim", func() error {
			return s.ReleaseIdempotency(c, "k1", "someone-else")
		}, store.IdemInProgress, 0, ""},
		{"the owner renews", func() error { return s.RenewIdempotency(c, "k1", owner, ttl) },
			store.IdemInProgress, 0, ""},
		{"complete stores the response", func() error {
			return s.CompleteIdempotency(c, "k1", owner, 202, []byte(`{"accepted":3}`), ttl)
		}, store.IdemCompleted, 202, `{"accepted":3}`},
		{"a completed key is not renewed", func() error {
			return wantErrOnly(s.RenewIdempotency(c, "k1", owner, ttl), store.ErrNotFound)
		}, store.IdemCompleted, 202, `{"accepted":3}`},
		{"a completed key is not released", func() error {
			return s.ReleaseIdempotency(c, "k1", owner)
		}, store.IdemCompleted, 202, `{"accepted":3}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			noErr(t, "act", tc.act())
			got, claimed, err := s.ClaimIdempotency(c, "k1", "hash-other", ttl)
			noErr(t, "claim", err)
			if claimed {
				t.Fatal("claimed a live key twice")
			}
			if got.Key != "k1" || got.RequestHash != "hash-1" || got.Status != tc.wantStatus || got.Owner != "" ||
				got.StatusCode != tc.wantCode || string(got.Response) != tc.wantBody {
				t.Errorf("existing record %+v (body %q), want status %s code %d body %q",
					got, got.Response, tc.wantStatus, tc.wantCode, tc.wantBody)
			}
			wantUTC(t, "existing expires_at", got.ExpiresAt)
		})
	}

	t.Run("release lets the key run again", func(t *testing.T) {
		first, claimed, err := s.ClaimIdempotency(c, "k2", "hash-2", ttl)
		noErr(t, "claim", err)
		if !claimed {
			t.Fatal("fresh key not claimed")
		}
		noErr(t, "release", s.ReleaseIdempotency(c, "k2", first.Owner))
		rec, claimed, err := s.ClaimIdempotency(c, "k2", "hash-2b", ttl)
		noErr(t, "reclaim", err)
		if !claimed || rec.RequestHash != "hash-2b" {
			t.Errorf("after release: claimed=%v record %+v", claimed, rec)
		}
		if rec.Owner == first.Owner {
			t.Errorf("the new claim has the released claim's owner %q", rec.Owner)
		}
		noErr(t, "release absent key", s.ReleaseIdempotency(c, "never-claimed", "nobody"))
	})

	t.Run("complete without a claim", func(t *testing.T) {
		err := s.CompleteIdempotency(c, "never-claimed", "nobody", 200, nil, ttl)
		wantErr(t, "complete", err, store.ErrNotFound)
		err = s.RenewIdempotency(c, "never-claimed", "nobody", ttl)
		wantErr(t, "renew", err, store.ErrNotFound)
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
			first, claimed, err := s.ClaimIdempotency(c, key, "h1", short)
			noErr(t, "claim", err)
			if !claimed {
				t.Fatal("not claimed")
			}
			if tc.complete {
				noErr(t, "complete", s.CompleteIdempotency(c, key, first.Owner, 200, []byte("ok"), short))
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

// testIdempotencyLease: an in-progress claim is a lease. Renewed, it outlives its first
// lease; left alone (its holder died), it lapses and the next claim wins, after which the
// old holder can no longer renew, complete or release the key.
func testIdempotencyLease(t *testing.T, s store.Store) {
	c := ctx(t)
	const lease = 300 * time.Millisecond
	// lapse waits well past a lease, so a lease that was not renewed has surely lapsed.
	lapse := func() { time.Sleep(lease + 300*time.Millisecond) }

	t.Run("renewed lease outlives its first term", func(t *testing.T) {
		rec, claimed, err := s.ClaimIdempotency(c, "lease-renewed", "h1", lease)
		noErr(t, "claim", err)
		if !claimed {
			t.Fatal("not claimed")
		}
		noErr(t, "renew", s.RenewIdempotency(c, "lease-renewed", rec.Owner, time.Hour))
		lapse()
		got, claimed, err := s.ClaimIdempotency(c, "lease-renewed", "h1", lease)
		noErr(t, "second claim", err)
		if claimed || got.Status != store.IdemInProgress {
			t.Fatalf("renewed claim was taken: claimed=%v record %+v", claimed, got)
		}
		noErr(t, "complete", s.CompleteIdempotency(c, "lease-renewed", rec.Owner, 202, []byte("done"), time.Hour))
	})

	t.Run("lapsed lease is taken over", func(t *testing.T) {
		dead, claimed, err := s.ClaimIdempotency(c, "lease-lapsed", "h1", lease)
		noErr(t, "claim", err)
		if !claimed {
			t.Fatal("not claimed")
		}
		lapse()
		heir, claimed, err := s.ClaimIdempotency(c, "lease-lapsed", "h1", time.Hour)
		noErr(t, "claim after lapse", err)
		if !claimed || heir.Owner == dead.Owner || heir.Status != store.IdemInProgress {
			t.Fatalf("after lapse: claimed=%v record %+v (dead owner %q)", claimed, heir, dead.Owner)
		}
		wantErr(t, "dead holder renews", s.RenewIdempotency(c, "lease-lapsed", dead.Owner, time.Hour), store.ErrNotFound)
		wantErr(t, "dead holder completes",
			s.CompleteIdempotency(c, "lease-lapsed", dead.Owner, 202, []byte("stale"), time.Hour), store.ErrNotFound)
		noErr(t, "dead holder releases", s.ReleaseIdempotency(c, "lease-lapsed", dead.Owner))
		got, claimed, err := s.ClaimIdempotency(c, "lease-lapsed", "h1", time.Hour)
		noErr(t, "third claim", err)
		if claimed || got.Status != store.IdemInProgress {
			t.Fatalf("the heir's claim did not survive the dead holder: claimed=%v record %+v", claimed, got)
		}
		noErr(t, "heir completes", s.CompleteIdempotency(c, "lease-lapsed", heir.Owner, 202, []byte("once"), time.Hour))
		got, _, err = s.ClaimIdempotency(c, "lease-lapsed", "h1", time.Hour)
		noErr(t, "read outcome", err)
		if got.Status != store.IdemCompleted || string(got.Response) != "once" {
			t.Errorf("outcome %+v (body %q), want the heir's", got, got.Response)
		}
	})
}

// wantErrOnly turns "err is target" into nil and anything else into an error, so a table
// row can expect a refusal.
func wantErrOnly(err, target error) error {
	if errors.Is(err, target) {
		return nil
	}
	return fmt.Errorf("got %v, want %v", err, target)
}
