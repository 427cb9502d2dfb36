package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The crash suite runs the real binary: `ponte serve` on loopback, killed with SIGKILL
// while batches with Idempotency-Keys are in flight, then restarted on the same store.
// Every key is retried as the README tells an ERP to: each must end applied exactly once
// (its SKUs at revision 1 with the values sent), and a key whose request the crash cut
// off must be free again within a lease, not answer 409 for a day.

const (
	crashTenant      = "crash"
	crashAPIKey      = "crash-erp-key-0123456789abcdef"
	crashOperatorKey = "crash-operator-key-0123456789abcdef"
	crashConnection  = "crash-tray"
	crashWorkers     = 12
	// crashAfter is how many answered batches a round waits for before the kill: the hub
	// is then warm and every worker has a batch in flight.
	crashAfter = 24
	// crashRounds bounds the attempts at catching a request mid-flight.
	crashRounds = 3
	// retryWindow bounds how long a retried key may stay "in progress" after the restart:
	// a few leases (10 s each), against the 24 h a stuck key used to wait.
	retryWindow = 45 * time.Second
)

func TestCrashMidRequestIdempotencyKeys(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary; skipped in -short")
	}
	bin := filepath.Join(t.TempDir(), "ponte")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// batch makes each batch take a while to apply, so the kill lands inside some, and
	// stays well within the server's write timeout on the slower emulator.
	for _, backend := range []struct {
		name  string
		env   func(t *testing.T) []string
		batch int
	}{
		{"embedded", func(t *testing.T) []string { return []string{"PONTE_BACKEND=embedded"} }, 150},
		{"aws", awsCrashEnv, 30},
	} {
		t.Run(backend.name, func(t *testing.T) {
			env := backend.env(t)
			dir := t.TempDir()
			setup := filepath.Join(dir, "setup.json")
			if err := os.WriteFile(setup, crashSetup(), 0o600); err != nil {
				t.Fatal(err)
			}
			h := &crashHub{t: t, bin: bin, dir: dir, addr: freeAddr(t), batch: backend.batch,
				env: append(env, "PONTE_CONFIG="+setup, "PONTE_DATA="+filepath.Join(dir, "data"))}
			h.start()
			t.Cleanup(h.kill)

			var all []crashKey
			interrupted := 0
			for round := 1; round <= crashRounds && interrupted == 0; round++ {
				keys := h.streamAndKill(round)
				h.start()
				in := h.retryAll(keys)
				t.Logf("round %d: %d keys sent before and during the kill, %d cut off after their claim", round, len(keys), in)
				interrupted += in
				all = append(all, keys...)
			}
			// Every key, interrupted or not, must have been applied exactly once.
			h.checkAppliedOnce(all)
			if interrupted == 0 {
				// Where each kill lands is up to the machine's timing: a run whose kills all
				// fell between requests proves exactly-once but not the lease, and says so
				// rather than failing CI on timing (the other backend's run, or the next run,
				// catches requests mid-flight).
				t.Skipf("no key was cut off after its claim in %d rounds (the kills fell between requests); every key was applied once", crashRounds)
			}
		})
	}
}

// awsCrashEnv runs the hub in AWS mode on the emulator, with its own table and queues.
func awsCrashEnv(t *testing.T) []string {
	endpoint := os.Getenv("PONTE_AWS_ENDPOINT")
	if endpoint == "" {
		if os.Getenv("PONTE_REQUIRE_AWS") == "1" {
			t.Fatal("PONTE_REQUIRE_AWS=1 but PONTE_AWS_ENDPOINT is not set; run scripts/aws-emulator.sh start")
		}
		t.Skip("PONTE_AWS_ENDPOINT not set (scripts/aws-emulator.sh start)")
	}
	name := "crash" + strings.ToLower(rand.Text()[:10])
	return []string{"PONTE_BACKEND=aws", "PONTE_AWS_ENDPOINT=" + endpoint, "PONTE_AWS_CREATE=1",
		"PONTE_TABLE=" + name, "PONTE_NAME_PREFIX=" + name}
}

func crashSetup() []byte {
	b, _ := json.Marshal(map[string]any{
		"tenants": []map[string]any{{"id": crashTenant, "name": "Crash", "api_key": crashAPIKey,
			"operator_key": crashOperatorKey, "currency": "BRL"}},
		// A disabled connection: the trace route needs one, and nothing is pushed anywhere.
		"connections": []map[string]any{{"id": crashConnection, "tenant": crashTenant, "platform": "tray",
			"enabled": false, "secret_ref": crashConnection,
			"settings": map[string]string{"api_address": "http://127.0.0.1:1/web_api"}}},
		"secrets": map[string]map[string]string{crashConnection: {"consumer_key": "ck", "consumer_secret": "cs", "code": "c"}},
	})
	return b
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// crashKey is one batch sent with an Idempotency-Key: its SKUs are its own, so the
// SKUs' revisions tell how many times it was applied.
type crashKey struct {
	key  string
	body []byte
	skus []string
	qty  int
}

func newCrashKey(round, worker, seq, size int) crashKey {
	k := crashKey{key: fmt.Sprintf("r%d-w%d-%d", round, worker, seq), qty: 1 + (worker*7+seq)%50}
	// A product change introduces each SKU; its stock follows in the same batch.
	var changes []map[string]any
	for i := range size {
		sku := fmt.Sprintf("%s-%03d", strings.ToUpper(k.key), i)
		k.skus = append(k.skus, sku)
		changes = append(changes,
			map[string]any{"type": "product", "sku": sku, "version": 1, "name": "Crash " + sku},
			map[string]any{"type": "stock", "sku": sku, "version": 1, "warehouse": "main", "quantity": k.qty})
	}
	k.body, _ = json.Marshal(map[string]any{"changes": changes})
	return k
}

type crashHub struct {
	t      *testing.T
	bin    string
	dir    string
	addr   string
	env    []string
	cmd    *exec.Cmd
	exited chan error // receives the running process's exit
	runs   int
	batch  int // SKUs per batch (a product and a stock change each)
}

func (h *crashHub) url(path string) string { return "http://" + h.addr + path }

// start runs `ponte serve` and waits until /healthz answers.
func (h *crashHub) start() {
	h.t.Helper()
	h.runs++
	logPath := filepath.Join(h.dir, fmt.Sprintf("serve-%d.log", h.runs))
	logf, err := os.Create(logPath)
	if err != nil {
		h.t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(h.bin, "serve")
	cmd.Env = append(os.Environ(), append(h.env, "PONTE_ADDR="+h.addr)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	h.cmd, h.exited = cmd, make(chan error, 1)
	go func(exited chan<- error) { exited <- cmd.Wait() }(h.exited)
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(h.url("/healthz"))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case err := <-h.exited:
			h.cmd = nil
			out, _ := os.ReadFile(logPath)
			h.t.Fatalf("ponte serve exited before serving: %v\n%s", err, out)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			h.kill()
			h.t.Fatal("ponte serve did not answer /healthz within 60 s")
		}
	}
}

// kill sends SIGKILL and waits for the process to be gone; with none running it returns at once.
func (h *crashHub) kill() {
	if h.cmd == nil {
		return
	}
	_ = h.cmd.Process.Kill()
	<-h.exited
	h.cmd = nil
}

// post sends one batch with its key; the error is the transport's (the hub died).
func (h *crashHub) post(ctx context.Context, k crashKey) (int, http.Header, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url("/v1/erp/changes"), bytes.NewReader(k.body))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+crashAPIKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", k.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, body, err
}

// streamAndKill has every worker post fresh keyed batches back to back, kills the hub
// once crashAfter batches were answered (so every worker has one in flight), and returns
// every key sent, answered or not.
func (h *crashHub) streamAndKill(round int) []crashKey {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		mu       sync.Mutex
		sent     []crashKey
		answered int
		failures []string
		enough   = make(chan struct{})
		once     sync.Once
		wg       sync.WaitGroup
	)
	for w := range crashWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := 0; ctx.Err() == nil; seq++ {
				k := newCrashKey(round, w, seq, h.batch)
				mu.Lock()
				sent = append(sent, k)
				mu.Unlock()
				status, _, body, err := h.post(ctx, k)
				if err != nil {
					return // the hub is gone
				}
				mu.Lock()
				if err := wholeBatchAccepted(status, body, len(k.skus)); err != nil {
					failures = append(failures, k.key+": "+err.Error())
				}
				answered++
				if answered >= crashAfter {
					once.Do(func() { close(enough) })
				}
				mu.Unlock()
			}
		}()
	}
	select {
	case <-enough:
	case <-time.After(2 * time.Minute):
		h.t.Error("the hub answered too few batches before the kill")
	}
	h.kill()
	cancel()
	wg.Wait()
	if len(failures) > 0 {
		h.t.Fatalf("batches refused before the kill: %v", failures)
	}
	return sent
}

// retryAll retries every key until it is no longer in progress and checks the answer.
// It returns how many keys the crash cut off after their claim: found in progress after
// the restart, or run again (not replayed) finding changes the dead request had stored.
// Under the old 24 h claim each of these would have answered 409 to the end.
func (h *crashHub) retryAll(keys []crashKey) int {
	h.t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(retryWindow)
	inProgress := 0
	for _, k := range keys {
		seenBusy := false // the key's claim outlived its dead request
		for {
			status, hdr, body, err := h.post(ctx, k)
			if err != nil {
				h.t.Fatalf("retry %s: %v", k.key, err)
			}
			if status == http.StatusConflict {
				seenBusy = true
				if time.Now().After(deadline) {
					h.t.Fatalf("key %s still in progress %v after the restart: %s", k.key, retryWindow, body)
				}
				wait, _ := strconv.Atoi(hdr.Get("Retry-After"))
				time.Sleep(time.Duration(max(wait, 1)) * time.Second)
				continue
			}
			if err := wholeBatchAccepted(status, body, len(k.skus)); err != nil {
				h.t.Fatalf("retry %s: %v", k.key, err)
			}
			var res struct {
				Duplicates int `json:"duplicates"`
			}
			_ = json.Unmarshal(body, &res)
			if hdr.Get("Idempotent-Replayed") == "" && res.Duplicates > 0 {
				seenBusy = true
			}
			break
		}
		if seenBusy {
			inProgress++
		}
	}
	return inProgress
}

// wholeBatchAccepted checks an answer: 202 with every change counted (applied now, or
// already stored by a request the crash cut off) and none refused.
func wholeBatchAccepted(status int, body []byte, skus int) error {
	var res struct {
		Accepted int               `json:"accepted"`
		Rejected []json.RawMessage `json:"rejected"`
	}
	if status != http.StatusAccepted || json.Unmarshal(body, &res) != nil ||
		res.Accepted != 2*skus || len(res.Rejected) != 0 {
		return fmt.Errorf("%d %.300s, want 202 accepting all %d changes", status, body, 2*skus)
	}
	return nil
}

// checkAppliedOnce reads every key's first and last SKU back through the operator's
// trace: the stock sent, at revision 1 (a second application would have moved it).
func (h *crashHub) checkAppliedOnce(keys []crashKey) {
	h.t.Helper()
	for _, k := range keys {
		for _, sku := range []string{k.skus[0], k.skus[len(k.skus)-1]} {
			req, _ := http.NewRequest(http.MethodGet, h.url("/v1/admin/connections/"+crashConnection+"/skus/"+sku+"/trace"), nil)
			req.Header.Set("Authorization", "Bearer "+crashOperatorKey)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				h.t.Fatalf("trace %s: %v", sku, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var tr struct {
				State *struct {
					Rev   int64 `json:"rev"`
					Stock map[string]struct {
						Quantity int `json:"quantity"`
					} `json:"stock"`
				} `json:"state"`
			}
			if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &tr) != nil || tr.State == nil {
				h.t.Fatalf("trace %s (key %s): %d %s", sku, k.key, resp.StatusCode, body)
			}
			if tr.State.Rev != 1 || tr.State.Stock["main"].Quantity != k.qty {
				h.t.Errorf("key %s: SKU %s at rev %d with stock %+v, want rev 1 with %d in main",
					k.key, sku, tr.State.Rev, tr.State.Stock, k.qty)
			}
		}
	}
}
