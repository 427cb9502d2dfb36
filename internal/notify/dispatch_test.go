package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/queue"
	"github.com/ponte-hub/ponte/internal/worker"
)

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// secrets is a map-backed SecretReader.
type secrets map[string]map[string]string

func (m secrets) GetSecret(_ context.Context, ref string) (map[string]string, error) {
	v, ok := m[ref]
	if !ok {
		return nil, fmt.Errorf("secret %s: not found", ref)
	}
	return v, nil
}

type ack struct{ tenant, order, number string }

type acker struct {
	mu   sync.Mutex
	acks []ack
	err  error
}

func (a *acker) AckOrder(_ context.Context, tenant, orderID, number string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.acks = append(a.acks, ack{tenant, orderID, number})
	return a.err
}

// receiver is an httptest endpoint that verifies every delivery as a customer would.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	got    []http.Header
	bodies [][]byte
	answer http.HandlerFunc
}

func newReceiver(t *testing.T, answer http.HandlerFunc) *receiver {
	r := &receiver{t: t, answer: answer}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		if err := Verify(vectors[0].secret, req.Header, body, 0, testNow); err != nil {
			t.Errorf("receiver: %v", err)
		}
		r.mu.Lock()
		r.got = append(r.got, req.Header.Clone())
		r.bodies = append(r.bodies, body)
		r.mu.Unlock()
		r.answer(w, req)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) calls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

func answer(status int, header map[string]string, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// endless answers status with a body that never ends: only a bounded read returns.
func endless(status int, prefix string) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		w.WriteHeader(status)
		_, _ = io.WriteString(w, prefix)
		chunk := bytes.Repeat([]byte("x"), 32<<10)
		for req.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}
}

const orderData = `{"id":"ord_1","tenant":"t1","number":"1001"}`

func setup(t *testing.T, h http.HandlerFunc, ep domain.WebhookEndpoint) (*Dispatcher, *receiver, *acker, *bytes.Buffer) {
	r := newReceiver(t, h)
	if ep.ID == "" {
		ep.ID = "e1"
	}
	if ep.URL == "" {
		ep.URL = r.srv.URL + "/hook?token=tok-in-url"
	}
	if ep.SecretRef == "" {
		ep.SecretRef = "whsec-ref"
	}
	logs := &bytes.Buffer{}
	a := &acker{}
	d := &Dispatcher{
		Tenants: tenants{"t1": {ID: "t1", Endpoints: []domain.WebhookEndpoint{ep}}},
		Secrets: secrets{"whsec-ref": {"secret": vectors[0].secret}},
		Acker:   a,
		Now:     func() time.Time { return testNow },
		Log:     slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	return d, r, a, logs
}

func message(t *testing.T, endpoint, typ, data string) queue.Message {
	t.Helper()
	b, err := json.Marshal(Message{Tenant: "t1", Endpoint: endpoint, EventID: "evt_1", Type: typ, At: testNow.Add(-time.Second), Data: json.RawMessage(data)})
	if err != nil {
		t.Fatal(err)
	}
	return queue.Message{ID: "m1", Body: b, Attempts: 1}
}

// outcome renders a handler result as the worker reads it.
func outcome(err error) string {
	var dead *worker.DeadError
	var retry *worker.RetryError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &dead):
		return "dead: " + dead.Reason
	case errors.As(err, &retry):
		return fmt.Sprintf("retry %s: %v", retry.After, retry.Err)
	default:
		return "error: " + err.Error()
	}
}

func TestDispatchDeliversSignedEnvelope(t *testing.T) {
	d, r, _, logs := setup(t, answer(204, nil, ""), domain.WebhookEndpoint{})
	msg := message(t, "e1", "order.shipped", orderData)
	for range 2 { // a retry sends the same webhook-id
		if err := d.Handle(context.Background(), msg); err != nil {
			t.Fatal(err)
		}
	}
	if r.calls() != 2 {
		t.Fatalf("%d calls", r.calls())
	}
	for i, h := range r.got {
		if h.Get(HeaderID) != "evt_1" || h.Get("Content-Type") != "application/json" || h.Get("User-Agent") != UserAgent {
			t.Errorf("call %d headers %v", i, h)
		}
		if h.Get(HeaderTimestamp) != fmt.Sprint(testNow.Unix()) {
			t.Errorf("call %d timestamp %s", i, h.Get(HeaderTimestamp))
		}
	}
	var env struct {
		Type      string          `json:"type"`
		Timestamp string          `json:"timestamp"`
		Data      json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(r.bodies[0], &env); err != nil {
		t.Fatal(err)
	}
	if env.Type != "order.shipped" || env.Timestamp != "2026-03-01T11:59:59Z" || string(env.Data) != orderData {
		t.Fatalf("envelope %s", r.bodies[0])
	}
	for _, leak := range []string{vectors[0].secret, "tok-in-url", "1001"} {
		if strings.Contains(logs.String(), leak) {
			t.Errorf("logs contain %q:\n%s", leak, logs)
		}
	}
}

func TestDispatchClassifiesAnswers(t *testing.T) {
	long := strings.Repeat("é", 400) // 800 bytes, two-byte runes
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    string // prefix of outcome
		also    string // must appear in the outcome too
	}{
		{"200", answer(200, nil, "ok"), "ok", ""},
		{"202", answer(202, nil, ""), "ok", ""},
		{"408", answer(408, nil, ""), "retry 0s: endpoint answered HTTP 408", ""},
		{"425", answer(425, nil, ""), "retry 0s: endpoint answered HTTP 425", ""},
		{"429 with Retry-After seconds", answer(429, map[string]string{"Retry-After": "120"}, "slow down"), "retry 2m0s: endpoint answered HTTP 429", "slow down"},
		{"503 with Retry-After date", answer(503, map[string]string{"Retry-After": testNow.Add(30 * time.Second).Format(http.TimeFormat)}, ""), "retry 30s:", ""},
		{"Retry-After capped", answer(503, map[string]string{"Retry-After": "999999"}, ""), "retry 1h0m0s:", ""},
		{"Retry-After in the past", answer(503, map[string]string{"Retry-After": testNow.Add(-time.Hour).Format(http.TimeFormat)}, ""), "retry 0s:", ""},
		{"Retry-After garbage", answer(429, map[string]string{"Retry-After": "soon"}, ""), "retry 0s:", ""},
		{"500", answer(500, nil, "boom"), "retry 0s: endpoint answered HTTP 500: boom", ""},
		{"410", answer(410, nil, "bye"), "dead: endpoint gone", "(endpoint e1 at 127.0.0.1:"},
		{"400 names status and body", answer(400, nil, "missing field\n\tcustomer"), "dead: endpoint refused the event: HTTP 400: missing field customer", ""},
		{"401 empty body", answer(401, nil, ""), "dead: endpoint refused the event: HTTP 401: (empty body)", ""},
		{"422 body cut to 300 bytes", answer(422, nil, long), "dead: endpoint refused the event: HTTP 422: " + strings.Repeat("é", 150) + "…", ""},
		{"redirect not followed", answer(302, map[string]string{"Location": "https://elsewhere.example/"}, ""), "dead: endpoint answered HTTP 302", ""},
		{"endless 2xx body is read to 64 KiB", endless(200, ""), "ok", ""},
		{"endless 4xx body", endless(400, "nope "), "dead: endpoint refused the event: HTTP 400: nope xxx", "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, r, _, _ := setup(t, tt.handler, domain.WebhookEndpoint{})
			got := outcome(d.Handle(context.Background(), message(t, "e1", "order.accepted", orderData)))
			if !strings.HasPrefix(got, tt.want) || !strings.Contains(got, tt.also) {
				t.Fatalf("outcome %q, want prefix %q containing %q", got, tt.want, tt.also)
			}
			if strings.Contains(got, "tok-in-url") {
				t.Errorf("outcome leaks the URL token: %s", got)
			}
			if r.calls() != 1 {
				t.Errorf("%d calls", r.calls())
			}
		})
	}
}

func TestDispatchNetworkFailuresRetry(t *testing.T) {
	t.Run("connection refused", func(t *testing.T) {
		d, r, _, _ := setup(t, answer(200, nil, ""), domain.WebhookEndpoint{})
		r.srv.Close()
		got := outcome(d.Handle(context.Background(), message(t, "e1", "order.accepted", orderData)))
		if !strings.HasPrefix(got, "retry 0s:") || strings.Contains(got, "tok-in-url") {
			t.Fatalf("outcome %q", got)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		release := make(chan struct{})
		defer close(release)
		d, _, _, _ := setup(t, func(http.ResponseWriter, *http.Request) { <-release }, domain.WebhookEndpoint{})
		d.Client = &http.Client{Timeout: 50 * time.Millisecond}
		got := outcome(d.Handle(context.Background(), message(t, "e1", "order.accepted", orderData)))
		if !strings.HasPrefix(got, "retry 0s:") {
			t.Fatalf("outcome %q", got)
		}
	})
}

func TestDispatchDrops(t *testing.T) {
	tests := []struct {
		name string
		ep   domain.WebhookEndpoint
		msg  func(t *testing.T) queue.Message
	}{
		{"endpoint removed", domain.WebhookEndpoint{}, func(t *testing.T) queue.Message { return message(t, "gone", "order.accepted", orderData) }},
		{"endpoint disabled", domain.WebhookEndpoint{Disabled: true}, func(t *testing.T) queue.Message { return message(t, "e1", "order.accepted", orderData) }},
		{"no longer subscribed", domain.WebhookEndpoint{Events: []string{"order.cancelled"}}, func(t *testing.T) queue.Message { return message(t, "e1", "order.accepted", orderData) }},
		{"tenant gone", domain.WebhookEndpoint{}, func(t *testing.T) queue.Message {
			m := message(t, "e1", "order.accepted", orderData)
			m.Body = bytes.Replace(m.Body, []byte(`"tenant":"t1"`), []byte(`"tenant":"t9"`), 1)
			return m
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, r, _, logs := setup(t, answer(200, nil, ""), tt.ep)
			if err := d.Handle(context.Background(), tt.msg(t)); err != nil {
				t.Fatalf("Handle = %v, want a silent drop", err)
			}
			if r.calls() != 0 {
				t.Errorf("%d calls", r.calls())
			}
			if !strings.Contains(logs.String(), "webhook dropped") {
				t.Errorf("no log line for the drop:\n%s", logs)
			}
		})
	}
}

func TestDispatchERPAck(t *testing.T) {
	erp := domain.WebhookEndpoint{ERPOrders: true}
	tests := []struct {
		name    string
		ep      domain.WebhookEndpoint
		typ     string
		data    string
		handler http.HandlerFunc
		ackErr  error
		want    string
		acks    []ack
		calls   int
	}{
		{"number from the body", erp, "order.accepted", orderData, answer(200, nil, `{"erp_order_number": " V-42 "}`), nil, "ok", []ack{{"t1", "ord_1", "V-42"}}, 1},
		{"empty 2xx registers without number", erp, "order.accepted", orderData, answer(204, nil, ""), nil, "ok", []ack{{"t1", "ord_1", ""}}, 1},
		{"text body registers without number", erp, "order.accepted", orderData, answer(200, nil, "thanks"), nil, "ok", []ack{{"t1", "ord_1", ""}}, 1},
		{"endless body registers without number", erp, "order.accepted", orderData, endless(200, `{"erp_order_number":"V-1","pad":"`), nil, "ok", []ack{{"t1", "ord_1", ""}}, 1},
		{"ack failure retries", erp, "order.accepted", orderData, answer(200, nil, `{"erp_order_number":"V-7"}`), errors.New("store down"), "retry 0s:", []ack{{"t1", "ord_1", "V-7"}}, 1},
		{"refusal is not an ack", erp, "order.accepted", orderData, answer(500, nil, ""), nil, "retry 0s:", nil, 1},
		{"other event types are not acked", erp, "order.cancelled", orderData, answer(200, nil, `{"erp_order_number":"V-9"}`), nil, "ok", nil, 1},
		{"plain endpoints are not acked", domain.WebhookEndpoint{}, "order.accepted", orderData, answer(200, nil, `{"erp_order_number":"V-9"}`), nil, "ok", nil, 1},
		{"order without id is dead before sending", erp, "order.accepted", `{"number":"1001"}`, answer(200, nil, ""), nil, "dead: event evt_1: order.accepted data has no order \"id\"", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, r, a, _ := setup(t, tt.handler, tt.ep)
			a.err = tt.ackErr
			got := outcome(d.Handle(context.Background(), message(t, "e1", tt.typ, tt.data)))
			if !strings.HasPrefix(got, tt.want) {
				t.Fatalf("outcome %q, want prefix %q", got, tt.want)
			}
			if fmt.Sprint(a.acks) != fmt.Sprint(tt.acks) {
				t.Errorf("acks %v, want %v", a.acks, tt.acks)
			}
			if r.calls() != tt.calls {
				t.Errorf("%d calls, want %d", r.calls(), tt.calls)
			}
		})
	}
}

func TestDispatchConfigurationErrors(t *testing.T) {
	tests := []struct {
		name    string
		ep      domain.WebhookEndpoint
		secrets secrets
		body    []byte
		noAcker bool
		want    string
	}{
		{"secret not readable", domain.WebhookEndpoint{SecretRef: "missing"}, nil, nil, false, "error: endpoint e1: read signing secret missing"},
		{"secret without value", domain.WebhookEndpoint{}, secrets{"whsec-ref": {"other": "x"}}, nil, false, `dead: endpoint e1: secret whsec-ref has no "secret" value`},
		{"secret malformed", domain.WebhookEndpoint{}, secrets{"whsec-ref": {"secret": "whsec_ not-base64 hunter2"}}, nil, false, "dead: endpoint e1: secret whsec-ref: invalid webhook signing secret"},
		{"bad URL", domain.WebhookEndpoint{URL: "ftp://x.example/"}, nil, nil, false, "dead: endpoint e1: URL is not an absolute http(s) URL"},
		{"bad message", domain.WebhookEndpoint{}, nil, []byte(`{"tenant":"t1"}`), false, "dead: webhook message m1 is not a notify.Message"},
		{"ERP endpoint without Acker", domain.WebhookEndpoint{ERPOrders: true}, nil, nil, true, "error: deliver event evt_1 to ERP endpoint e1: no Acker wired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, r, _, _ := setup(t, answer(200, nil, ""), tt.ep)
			if tt.secrets != nil {
				d.Secrets = tt.secrets
			}
			if tt.noAcker {
				d.Acker = nil
			}
			msg := message(t, "e1", "order.accepted", orderData)
			if tt.body != nil {
				msg.Body = tt.body
			}
			got := outcome(d.Handle(context.Background(), msg))
			if !strings.HasPrefix(got, tt.want) {
				t.Fatalf("outcome %q, want prefix %q", got, tt.want)
			}
			if strings.Contains(got, "hunter2") {
				t.Errorf("outcome leaks the secret: %s", got)
			}
			if r.calls() != 0 {
				t.Errorf("%d calls", r.calls())
			}
		})
	}
}
