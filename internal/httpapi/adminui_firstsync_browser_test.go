package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/app"
	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/ingest"
)

// The store items of the first-sync test: Tray lists items by EAN only (no SKU).
const (
	eanTwice   = "7891000000017" // on ERP products: ambiguous
	eanUnknown = "7899999999993" // on no ERP product: unmatched until A-5 gets it as a code
)

// TestAdminPageFirstSyncInBrowser is the operator's first sync end to end: the page
// starts it, the scheduler works it, the report lists the ambiguous and the unmatched
// store items; the operator gives an ERP product the unmatched item's code from the
// report and starts the sync again, which links the item by that code.
func TestAdminPageFirstSyncInBrowser(t *testing.T) {
	ctx := newBrowser(t)
	e := newEnv(t)
	bg := context.Background()

	// ERP side: two products share an EAN, one has none (it will receive the code).
	var changes []ingest.Change
	for _, p := range []domain.Product{
		{SKU: "A-3", EAN: eanTwice, Name: "ERP three"},
		{SKU: "A-4", EAN: eanTwice, Name: "ERP four"},
		{SKU: "A-5", Name: "ERP five"},
	} {
		p.Publish, p.SyncStock, p.Version = true, true, 1
		changes = append(changes, ingest.Change{Kind: ingest.KindProduct, SKU: p.SKU, Version: 1, Product: &p})
	}
	if _, err := e.hub.Ingest.Apply(bg, "acme", changes); err != nil {
		t.Fatalf("seed ERP products: %v", err)
	}
	// Store side: besides 101 and 102 (already mapped), one item per EAN.
	for id, ean := range map[string]string{"103": eanTwice, "104": eanUnknown} {
		e.sim.AddProduct("s1", id, 2, decimal.RequireFromString("10.00"))
		setTrayEAN(t, e, id, ean)
	}

	sctx, stop := context.WithCancel(bg)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		e.hub.RunScheduler(sctx, app.Schedule{OrderPoll: time.Hour, Reconcile: 200 * time.Millisecond})
	}()
	t.Cleanup(func() { stop(); <-stopped })
	srv := httptest.NewServer(e.h)
	t.Cleanup(srv.Close)

	const opKeyA = "acme-operator-key-0001"
	e.withOperatorKey(t, "acme", opKeyA)
	signIn(t, ctx, srv.URL+"/admin/", opKeyA)
	startFirstSync(t, ctx)
	waitFirstSyncDone(t, ctx, 1)

	card := text(t, ctx, "#reports-body article.job")
	for _, want := range []string{"First sync · " + connA, "Ambiguous (1)", "EAN " + eanTwice, "candidates: A-3, A-4",
		"Unmatched (1)", "EAN " + eanUnknown, "product 104"} {
		if !strings.Contains(card, want) {
			t.Errorf("report card %q lacks %q", card, want)
		}
	}
	checkCounts(t, ctx, map[string]string{"checked": "4", "already linked": "2", "ambiguous": "1", "unmatched": "1", "linked by code": "0"})
	shot := screenshot(t, ctx, "#reports-body article.job", "3-first-sync-report.png")
	checkPNG(t, "first-sync report", shot, "green-ish", func(r, g, b uint32) bool { return g > 80 && g > r+40 && g > b+20 })

	// The unmatched item's "Add code" form comes filled with the item's EAN; the
	// operator names the ERP product that carries it.
	const unmatchedForm = `[...document.querySelectorAll("#reports-body article.job:first-child .matches")]` +
		`.find((d) => d.querySelector("h4").textContent.startsWith("Unmatched")).querySelector("form")`
	if code := evalString(t, ctx, unmatchedForm+`.elements.code.value`); code != eanUnknown {
		t.Fatalf("the form offers code %q, want the item's EAN %s", code, eanUnknown)
	}
	browse(t, ctx, chromedp.SendKeys(chromedp.JSPath(unmatchedForm+`.elements.sku`), "A-5"))
	// A refresh (every 5 s, or this click) must not wipe what the operator typed.
	refreshNow(t, ctx)
	if sku := evalString(t, ctx, unmatchedForm+`.elements.sku.value`); sku != "A-5" {
		t.Fatalf("after a refresh the form holds SKU %q, want what was typed", sku)
	}
	browse(t, ctx, chromedp.Click(chromedp.JSPath(unmatchedForm+`.querySelector("button[type=submit]")`)),
		chromedp.WaitVisible(chromedp.CSS("#reports-body .result.ok")))
	if msg := text(t, ctx, "#reports-body .result.ok"); msg != "Added. A-5 now has codes: "+eanUnknown {
		t.Errorf("add code answered %q", msg)
	}

	startFirstSync(t, ctx)
	waitFirstSyncDone(t, ctx, 2)
	checkCounts(t, ctx, map[string]string{"checked": "4", "already linked": "2", "linked by code": "1", "ambiguous": "1", "unmatched": "0"})
	if card := text(t, ctx, "#reports-body article.job"); !strings.Contains(card, "Unmatched (0)") || strings.Contains(card, eanUnknown) {
		t.Errorf("the second run still lists the item: %q", card)
	}
	m, err := e.hub.Store.GetMapping(bg, "acme", connA, "A-5")
	if err != nil || m.ProductID != "104" || m.VariantID != "" {
		t.Fatalf("mapping of A-5: %+v, %v; want store product 104", m, err)
	}
}

// startFirstSync clicks "Start first sync" on acme's connection and waits for the page
// to say it started.
func startFirstSync(t *testing.T, ctx context.Context) {
	t.Helper()
	button := `[...document.querySelectorAll("#connections-body article.conn")].find((a) => a.querySelector("h3").textContent.startsWith("` +
		connA + ` ")).querySelector(".tools").children[0]`
	browse(t, ctx, chromedp.WaitVisible(chromedp.CSS("#connections-body article.conn .tools")))
	if label := evalString(t, ctx, button+`.textContent`); label != "Start first sync" {
		t.Fatalf("first tool is %q", label)
	}
	browse(t, ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector("#connections-body .tool-out")?.replaceChildren()`),
		chromedp.Click(chromedp.JSPath(button)),
		chromedp.WaitVisible(chromedp.CSS("#connections-body .tool-out p.ok")))
	if msg := text(t, ctx, "#connections-body .tool-out p.ok"); !strings.HasPrefix(msg, "First sync started") {
		t.Fatalf("start answered %q", msg)
	}
}

// waitFirstSyncDone waits until the Reports section lists `runs` first-sync runs, the
// newest done (the page refreshes every 5 s; "Refresh now" is clicked meanwhile).
func waitFirstSyncDone(t *testing.T, ctx context.Context, runs int) {
	t.Helper()
	if kind := evalString(t, ctx, `document.getElementById("reports-filter").elements.kind.value`); kind != "first_sync" {
		t.Fatalf("reports show kind %q after starting a first sync", kind)
	}
	done := fmt.Sprintf(`(() => {
		const jobs = document.querySelectorAll("#reports-body article.job");
		if (jobs.length !== %d) return false;
		return jobs[0].querySelector("h3 .badge").textContent === "done";
	})()`, runs)
	deadline := time.Now().Add(30 * time.Second)
	for {
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		ok, err := chromedp.Run(sctx, chromedp.Evaluate[bool](done))
		cancel()
		if err != nil {
			t.Fatalf("read the reports: %v", err)
		}
		if ok {
			if progress := text(t, ctx, "#reports-body article.job .progress"); progress != "4 / 4" {
				t.Errorf("progress of run #%d reads %q, want 4 / 4", runs, progress)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no finished first sync #%d within 30 s; the reports read:\n%s", runs, text(t, ctx, "#reports"))
		}
		browse(t, ctx, chromedp.Click(chromedp.CSS("#refresh")))
		time.Sleep(200 * time.Millisecond)
	}
}

// checkCounts compares the newest report card's counts (label -> value) with want.
func checkCounts(t *testing.T, ctx context.Context, want map[string]string) {
	t.Helper()
	raw := evalString(t, ctx, `JSON.stringify(Object.fromEntries([...document.querySelector(
		"#reports-body article.job:first-child dl.counts").querySelectorAll("dt")].map((dt) => [dt.textContent, dt.nextElementSibling.textContent])))`)
	var got map[string]string
	if err := json.Unmarshal([]byte(raw), &got); err != nil {
		t.Fatalf("counts %q: %v", raw, err)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("count %q = %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
}

// refreshNow clicks "Refresh now" and waits for that refresh to finish.
func refreshNow(t *testing.T, ctx context.Context) {
	t.Helper()
	before := evalString(t, ctx, `document.getElementById("updated").getAttribute("datetime") || ""`)
	browse(t, ctx, chromedp.Click(chromedp.CSS("#refresh")), chromedp.Action[chromedp.Void](func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Poll[bool](fmt.Sprintf(`document.getElementById("updated").getAttribute("datetime") !== %q`, before))(ctx, tg)
		return chromedp.Void{}, err
	}))
}

func evalString(t *testing.T, ctx context.Context, expr string) string {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	s, err := chromedp.Run(sctx, chromedp.Evaluate[string](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return s
}

// setTrayEAN gives a product of acme's simulated store (s1) an EAN the way a merchant
// would: through Tray's API (a token from /auth, then PUT /products/{id}).
func setTrayEAN(t *testing.T, e *env, productID, ean string) {
	t.Helper()
	conn, err := e.hub.Store.GetConnection(context.Background(), connA)
	if err != nil {
		t.Fatalf("read connection %s: %v", connA, err)
	}
	api := conn.Settings["api_address"]
	form := url.Values{"consumer_key": {"ck-s1"}, "consumer_secret": {"cs-s1"}, "code": {"code-s1"}}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	trayCall(t, http.MethodPost, api+"/auth", "application/x-www-form-urlencoded", form.Encode(), http.StatusCreated, &tok)
	body := fmt.Sprintf(`{"Product":{"ean":%q}}`, ean)
	trayCall(t, http.MethodPut, api+"/products/"+productID+"?access_token="+url.QueryEscape(tok.AccessToken), "application/json", body, http.StatusOK, nil)
}

func trayCall(t *testing.T, method, u, contentType, body string, status int, out any) {
	t.Helper()
	r, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	var raw json.RawMessage
	_ = json.NewDecoder(resp.Body).Decode(&raw)
	if resp.StatusCode != status {
		t.Fatalf("%s %s: %d %s, want %d", method, u, resp.StatusCode, raw, status)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, u, raw, err)
		}
	}
}
