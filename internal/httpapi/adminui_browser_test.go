package httpapi_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/httpapi"
)

// TestAdminPageRetryInBrowser is the operator's path end to end: the store refuses a
// push for real (the mapped product is missing on the simulated store, a permanent
// 404), the page shows the failure with its reason, the operator heals the store and
// clicks Retry, and the store ends up holding the change.
func TestAdminPageRetryInBrowser(t *testing.T) {
	ctx := newBrowser(t)
	e := newEnv(t)
	e.settle(t)
	if err := e.hub.Store.PutMapping(context.Background(), domain.Mapping{Tenant: "acme", ConnectionID: connA, SKU: "A-3", ProductID: "103"}); err != nil {
		t.Fatalf("map A-3: %v", err)
	}
	result(t, e.post(t, keyA, batch(`{"type":"product","sku":"A-3","version":1,"name":"Product A-3","publish":true,"sync_stock":true}`,
		`{"type":"stock","sku":"A-3","version":1,"quantity":7}`), nil))
	// One fan-out by hand, so exactly one push message exists before the workers start.
	drain(t, e.hub.Changes, e.hub.Fanout)
	runWorkers(t, e.hub)
	f := waitFailures(t, e, keyA, 1)[0]
	if f.SKU != "A-3" || !strings.Contains(f.Reason, "not found on Tray") {
		t.Fatalf("failure %+v, want A-3 refused as not found", f)
	}
	srv := httptest.NewServer(e.h)
	t.Cleanup(srv.Close)

	const opKeyA = "acme-operator-key-0001"
	e.withOperatorKey(t, "acme", opKeyA)
	signIn(t, ctx, srv.URL+"/admin", opKeyA)
	browse(t, ctx, chromedp.WaitVisible(chromedp.CSS("li.failure")))
	row := text(t, ctx, "li.failure")
	for _, want := range []string{"not found on Tray", "SKU A-3", "push-tray", "Retry"} {
		if !strings.Contains(row, want) {
			t.Errorf("failure row %q lacks %q", row, want)
		}
	}
	failShot := screenshot(t, ctx, "li.failure", "1-failure.png")
	pageShot := screenshot(t, ctx, "", "0-page.png")

	e.sim.AddProduct("s1", "103", 0, decimal.Zero)
	browse(t, ctx, chromedp.Click(chromedp.CSS("li.failure button.retry")),
		chromedp.WaitVisible(chromedp.CSS("#flash.success")),
		chromedp.WaitNotPresent(chromedp.CSS("li.failure")),
		chromedp.WaitVisible(chromedp.CSS("#failures-empty")))
	if msg := text(t, ctx, "#flash"); msg != "1 moved back to the queue" {
		t.Errorf("flash %q", msg)
	}
	okShot := screenshot(t, ctx, "#flash", "2-retried.png")

	deadline := time.Now().Add(15 * time.Second)
	for {
		if p, ok := e.sim.Product("s1", "103"); ok && p.Stock == 7 {
			break
		}
		if time.Now().After(deadline) {
			p, _ := e.sim.Product("s1", "103")
			t.Fatalf("store holds %d of A-3 after the retry, want 7", p.Stock)
		}
		time.Sleep(20 * time.Millisecond)
	}

	checkPNG(t, "whole page", pageShot, "red-ish", func(r, g, b uint32) bool { return r > 150 && g < 90 && b < 90 })
	checkPNG(t, "failure row", failShot, "red-ish", func(r, g, b uint32) bool { return r > 150 && g < 90 && b < 90 })
	checkPNG(t, "success banner", okShot, "green-ish", func(r, g, b uint32) bool { return g > 80 && g > r+40 && g > b+20 })
}

// TestAdminPageKeys: a wrong key brings the form back with the hub's answer, and
// another tenant's key sees none of acme's failures.
func TestAdminPageKeys(t *testing.T) {
	ctx := newBrowser(t)
	e := newEnv(t)
	e.deadPush(t, 5)
	srv := httptest.NewServer(e.h)
	t.Cleanup(srv.Close)

	signIn(t, ctx, srv.URL+"/admin/", "not-a-key")
	browse(t, ctx, chromedp.WaitVisible(chromedp.CSS("#signin-error")), chromedp.WaitNotVisible(chromedp.CSS("#app")))
	if msg := text(t, ctx, "#signin-error"); !strings.Contains(msg, "unknown") {
		t.Errorf("sign-in error %q, want the hub's 'unknown ...' answer", msg)
	}

	// Beta has its own operator key: its ERP key no longer opens the page, the operator's does.
	e.withOperatorKey(t, "beta", opKeyB)
	signIn(t, ctx, srv.URL+"/admin/", keyB)
	browse(t, ctx, chromedp.WaitVisible(chromedp.CSS("#signin-error")), chromedp.WaitNotVisible(chromedp.CSS("#app")))
	signIn(t, ctx, srv.URL+"/admin/", opKeyB)
	browse(t, ctx, chromedp.WaitVisible(chromedp.CSS("#failures-empty")))
	waitUpdated(t, ctx)
	page := text(t, ctx, "#app")
	if strings.Contains(page, connA) || strings.Contains(page, "A-1") {
		t.Errorf("beta's page shows acme's data: %q", page)
	}
	if !strings.Contains(page, connB) {
		t.Errorf("beta's page does not list its own connection: %q", page)
	}
	// And acme, signed in after signing out, does see its failure.
	browse(t, ctx, chromedp.Click(chromedp.CSS("#signout")), chromedp.WaitVisible(chromedp.CSS("#key")))
	signIn(t, ctx, srv.URL+"/admin/", keyA)
	browse(t, ctx, chromedp.WaitVisible(chromedp.CSS("li.failure")))
}

// TestAdminPageServedWithCSP needs no browser: the page and its assets come from the
// API handler with their types and the security headers.
func TestAdminPageServedWithCSP(t *testing.T) {
	e := newEnv(t)
	if rec := e.do(t, req{Method: http.MethodGet, Path: "/admin"}); rec.Code != http.StatusMovedPermanently || rec.Header().Get("Location") != "/admin/" {
		t.Errorf("/admin: %d to %q, want 301 to /admin/", rec.Code, rec.Header().Get("Location"))
	}
	for _, c := range []struct {
		path, contentType, body string
		status                  int
	}{
		{"/admin/", "text/html; charset=utf-8", `<script src="app.js" defer></script>`, 200},
		{"/admin/app.js", "text/javascript; charset=utf-8", "Authorization", 200},
		{"/admin/style.css", "text/css; charset=utf-8", "li.failure", 200},
		{"/admin/nope.js", "text/plain; charset=utf-8", "not found", 404},
	} {
		rec := e.do(t, req{Method: http.MethodGet, Path: c.path})
		if rec.Code != c.status || rec.Header().Get("Content-Type") != c.contentType || !strings.Contains(rec.Body.String(), c.body) {
			t.Errorf("%s: %d %q, want %d %q containing %q", c.path, rec.Code, rec.Header().Get("Content-Type"), c.status, c.contentType, c.body)
		}
		csp := rec.Header().Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP %q", c.path, csp)
		}
		if rec.Header().Get("X-Content-Type-Options") != "nosniff" || rec.Header().Get("X-Frame-Options") != "DENY" ||
			rec.Header().Get("Cache-Control") != "no-cache" {
			t.Errorf("%s: headers %v", c.path, rec.Header())
		}
	}
}

// waitFailures polls the failure inbox until it holds n of the tenant's failures.
func waitFailures(t *testing.T, e *env, key string, n int) []httpapi.Failure {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		fl := decodeBody[httpapi.FailureList](t, e.get(t, key, "/v1/admin/failures"))
		if len(fl.Failures) == n {
			return fl.Failures
		}
		if time.Now().After(deadline) {
			t.Fatalf("failures %+v, want %d within 15 s", fl.Failures, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func signIn(t *testing.T, ctx context.Context, url, key string) {
	t.Helper()
	browse(t, ctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("#key")),
		chromedp.SendKeys(chromedp.CSS("#key"), key), chromedp.Click(chromedp.CSS("#signin-form button[type=submit]")))
}

// waitUpdated waits for a refresh to have finished ("last updated" set).
func waitUpdated(t *testing.T, ctx context.Context) {
	t.Helper()
	browse(t, ctx, chromedp.Action[chromedp.Void](func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Poll[bool](`document.getElementById("updated").textContent !== "never"`)(ctx, tg)
		return chromedp.Void{}, err
	}))
}

// browse runs steps with a deadline, so a page that never shows something fails the
// test instead of hanging it.
func browse(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, steps...); err != nil {
		page, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		t.Fatalf("browser: %v; the page reads:\n%s", err, page)
	}
}

func text(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	s, err := chromedp.Run(sctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		t.Fatalf("text of %s: %v", css, err)
	}
	return strings.TrimSpace(s)
}

// screenshot captures one element (the whole page when css is ""), keeps it under
// t.TempDir() and, when PONTE_SCREENSHOT_DIR is set, copies it there for people to look at.
func screenshot(t *testing.T, ctx context.Context, css, name string) []byte {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	shot := chromedp.FullScreenshot(100) // 100 means PNG
	if css != "" {
		shot = chromedp.Screenshot(chromedp.CSS(css))
	}
	b, err := chromedp.Run(sctx, shot)
	if err != nil {
		t.Fatalf("screenshot of %s: %v", css, err)
	}
	dirs := []string{t.TempDir()}
	if d := os.Getenv("PONTE_SCREENSHOT_DIR"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatalf("screenshot dir: %v", err)
		}
		dirs = append(dirs, d)
	}
	for _, d := range dirs {
		if err := os.WriteFile(filepath.Join(d, name), b, 0o644); err != nil {
			t.Fatalf("save screenshot: %v", err)
		}
	}
	return b
}

// checkPNG decodes a screenshot and asserts it is a real rendering: a sane size, not
// blank (several distinct colours) and with some pixels of the expected colour.
func checkPNG(t *testing.T, what string, b []byte, colour string, match func(r, g, b uint32) bool) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: not a PNG: %v", what, err)
	}
	size := img.Bounds().Size()
	if size.X < 200 || size.Y < 20 || size.X > 4000 || size.Y > 4000 {
		t.Errorf("%s: size %v", what, size)
	}
	colours, matching := distinct(img, match)
	if colours < 8 {
		t.Errorf("%s: %d distinct colours, looks blank", what, colours)
	}
	if matching < 50 {
		t.Errorf("%s: %d %s pixels, want a visible %s mark", what, matching, colour, colour)
	}
	t.Logf("%s: %v, %d colours, %d %s pixels", what, size, colours, matching, colour)
}

func distinct(img image.Image, match func(r, g, b uint32) bool) (colours, matching int) {
	seen := map[[3]uint32]bool{}
	r := img.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			c := [3]uint32{cr >> 8, cg >> 8, cb >> 8}
			seen[c] = true
			if match(c[0], c[1], c[2]) {
				matching++
			}
		}
	}
	return len(seen), matching
}
