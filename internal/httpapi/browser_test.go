package httpapi_test

import (
	"context"
	"os"
	"testing"

	"github.com/chromedp/chromedp"
)

// chromium finds the browser: $PONTE_CHROMIUM, else /usr/bin/chromium. Missing, the
// browser tests skip, unless PONTE_REQUIRE_BROWSER=1 (CI) makes that a failure.
func chromium(t *testing.T) string {
	t.Helper()
	path := os.Getenv("PONTE_CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("PONTE_REQUIRE_BROWSER") == "1" {
			t.Fatalf("no browser at %s (%v): install it with scripts/browser.sh (Debian package chromium) or set PONTE_CHROMIUM", path, err)
		}
		t.Skipf("no browser at %s; install it with scripts/browser.sh or set PONTE_CHROMIUM", path)
	}
	return path
}

// newBrowser starts a headless Chromium for the test; --no-sandbox because CI runs as root.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := append([]chromedp.ExecAllocatorOption{}, chromedp.DefaultExecAllocatorOptions[:]...)
	opts = append(opts, chromedp.ExecPath(chromium(t)), chromedp.Headless, chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(1280, 1000))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser with no deadline (see chromedp.Run)
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}
