package tray

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/tray/traysim"
)

func pushOne(e *env) error {
	return e.c.Push(context.Background(), e.conn, []platform.Update{{Target: platform.Target{SKU: "S", ProductID: "1"}, Stock: i64(1)}})[0]
}

func TestTokenBootstrapAndReuse(t *testing.T) {
	e := newEnv(t, traysim.Options{}, nil)
	seedProducts(e.sim, 1)
	for range 3 {
		if err := pushOne(e); err != nil {
			t.Fatal(err)
		}
	}
	if g, r := e.endpoint(traysim.EpAuthGrant), e.endpoint(traysim.EpAuthRefresh); g != 1 || r != 0 {
		t.Fatalf("grants %d refreshes %d, want 1 and 0", g, r)
	}
	saved := e.secrets.get("tray/conn1")
	for _, k := range []string{"access_token", "refresh_token", "access_expires_at", "refresh_expires_at", "consumer_secret"} {
		if saved[k] == "" {
			t.Fatalf("secret lacks %s after bootstrap: %v", k, keys(saved))
		}
	}
	exp, err := time.Parse(time.RFC3339, saved["access_expires_at"])
	if err != nil || time.Until(exp) < 2*time.Hour || time.Until(exp) > 3*time.Hour+time.Minute {
		t.Fatalf("access_expires_at %q (%v), want about 3h ahead", saved["access_expires_at"], err)
	}
	// A new connector (another instance) reuses the saved token: no grant.
	e.c = New(e.secrets, Options{Now: e.clock.Now})
	if err := pushOne(e); err != nil {
		t.Fatal(err)
	}
	if g := e.endpoint(traysim.EpAuthGrant); g != 1 {
		t.Fatalf("grants %d after restart, want 1", g)
	}
}

func TestTokenRefreshBeforeExpiry(t *testing.T) {
	e := newEnv(t, traysim.Options{}, nil)
	seedProducts(e.sim, 1)
	if err := pushOne(e); err != nil {
		t.Fatal(err)
	}
	old := e.secrets.get("tray/conn1")["access_token"]
	e.clock.Add(3*time.Hour - time.Minute) // inside the refresh margin
	if err := pushOne(e); err != nil {
		t.Fatal(err)
	}
	if g, r := e.endpoint(traysim.EpAuthGrant), e.endpoint(traysim.EpAuthRefresh); g != 1 || r != 1 {
		t.Fatalf("grants %d refreshes %d, want 1 and 1", g, r)
	}
	if now := e.secrets.get("tray/conn1")["access_token"]; now == old || now == "" {
		t.Fatal("refreshed token not saved")
	}
}

func TestExpiredRefreshTokenFallsBackToCode(t *testing.T) {
	e := newEnv(t, traysim.Options{}, nil)
	seedProducts(e.sim, 1)
	if err := pushOne(e); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(31 * 24 * time.Hour)
	if err := pushOne(e); err != nil {
		t.Fatal(err)
	}
	if g, r := e.endpoint(traysim.EpAuthGrant), e.endpoint(traysim.EpAuthRefresh); g != 2 || r != 0 {
		t.Fatalf("grants %d refreshes %d, want 2 and 0", g, r)
	}
}

func TestExpired1000RefreshesOnceAndRetries(t *testing.T) {
	e := newEnv(t, traysim.Options{}, nil)
	seedProducts(e.sim, 40)
	if err := pushOne(e); err != nil {
		t.Fatal(err)
	}
	e.sim.ExpireAccessTokens(testStore) // Tray expired it early; we still think it is valid
	ups := make([]platform.Update, 40)
	for i := range ups {
		ups[i] = platform.Update{Target: platform.Target{SKU: "s", ProductID: itoa(i + 1)}, Stock: i64(5)}
	}
	e.c.opts.MaxConcurrency = 16
	for i, err := range e.c.Push(context.Background(), e.conn, ups) {
		if err != nil {
			t.Fatalf("update %d: %v", i, err)
		}
	}
	if r := e.endpoint(traysim.EpAuthRefresh); r != 1 {
		t.Fatalf("refreshes = %d, want exactly 1 (no thundering herd)", r)
	}
}

func TestAuthFailures(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(e *env)
		wantMsg string
	}{
		{"blocked store", func(e *env) { e.sim.SetStoreStatus(testStore, traysim.StoreBlocked) }, "blocked"},
		{"inactive store", func(e *env) { e.sim.SetStoreStatus(testStore, traysim.StoreInactive) }, "inactive"},
		{"cancelled store", func(e *env) { e.sim.SetStoreStatus(testStore, traysim.StoreCancelled) }, "cancelled"},
		{"wrong secret", func(e *env) {
			e.secrets.data["tray/conn1"]["consumer_secret"] = "nope"
		}, "re-authorise"},
		{"missing code", func(e *env) { delete(e.secrets.data["tray/conn1"], "code") }, "lack code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, traysim.Options{}, nil)
			seedProducts(e.sim, 1)
			tt.setup(e)
			err := pushOne(e)
			if kindOf(err) != platform.Auth || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("got %v, want auth error mentioning %q", err, tt.wantMsg)
			}
			if strings.Contains(err.Error(), "cs-test") || strings.Contains(err.Error(), "code-test") {
				t.Fatalf("error leaks a credential: %v", err)
			}
		})
	}
	t.Run("store blocked after bootstrap", func(t *testing.T) {
		e := newEnv(t, traysim.Options{}, nil)
		seedProducts(e.sim, 1)
		if err := pushOne(e); err != nil {
			t.Fatal(err)
		}
		e.sim.SetStoreStatus(testStore, traysim.StoreBlocked)
		if err := pushOne(e); kindOf(err) != platform.Auth || !strings.Contains(err.Error(), "blocked") {
			t.Fatalf("got %v, want auth/blocked", err)
		}
		if r := e.endpoint(traysim.EpAuthRefresh); r != 0 {
			t.Fatalf("refreshed %d times for a blocked store", r)
		}
	})
}

func TestTransportErrorRedactsToken(t *testing.T) {
	e := newEnv(t, traysim.Options{}, nil)
	seedProducts(e.sim, 1)
	if err := pushOne(e); err != nil {
		t.Fatal(err)
	}
	e.sim.Close()
	err := pushOne(e)
	tok := e.secrets.get("tray/conn1")["access_token"]
	if kindOf(err) != platform.Transient || strings.Contains(err.Error(), tok) || strings.Contains(err.Error(), "access_token=") {
		t.Fatalf("got %v; want transient without the token", err)
	}
}

func TestRedact(t *testing.T) {
	in := `Put "http://x/web_api/products/1?access_token=abc&x=1": refresh_token=def code=ghi consumer_secret=jkl`
	out := redact(in)
	for _, s := range []string{"abc", "def", "ghi", "jkl"} {
		if strings.Contains(out, s) {
			t.Fatalf("redact left %q in %q", s, out)
		}
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestAuthRefusalRefreshesOnce: whatever 401 Tray gives a cached token (1000, 1099 or
// none), the connector refreshes once (falling back to the code when the refresh token
// is refused too) and retries once; a second refusal fails the call.
func TestAuthRefusalRefreshesOnce(t *testing.T) {
	tests := []struct {
		name              string
		refuse            func(e *env)
		grants, refreshes int64
		wantErr           bool
	}{
		{"1000 expired", func(e *env) { e.sim.ExpireAccessTokens(testStore) }, 1, 1, false},
		{"1099 invalid", func(e *env) { e.sim.InvalidateAccessTokens(testStore) }, 1, 1, false},
		{"1099 with the refresh token refused too", func(e *env) {
			e.sim.InvalidateAccessTokens(testStore)
			e.sim.InvalidateRefreshTokens(testStore)
		}, 2, 1, false},
		{"plain 401", func(e *env) { e.sim.InjectFault(testStore, traysim.Fault{Kind: traysim.FaultUnauthorized}) }, 1, 1, false},
		{"refused again after the refresh", func(e *env) {
			e.sim.InjectFault(testStore, traysim.Fault{Kind: traysim.FaultUnauthorized, Count: 2})
		}, 1, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, traysim.Options{}, nil)
			seedProducts(e.sim, 1)
			if err := pushOne(e); err != nil {
				t.Fatal(err)
			}
			tt.refuse(e)
			err := pushOne(e)
			if tt.wantErr != (err != nil) || (err != nil && kindOf(err) != platform.Auth) {
				t.Fatalf("push: %v (want error %v)", err, tt.wantErr)
			}
			if g, r := e.endpoint(traysim.EpAuthGrant), e.endpoint(traysim.EpAuthRefresh); g != tt.grants || r != tt.refreshes {
				t.Fatalf("grants %d refreshes %d, want %d and %d", g, r, tt.grants, tt.refreshes)
			}
		})
	}
}
