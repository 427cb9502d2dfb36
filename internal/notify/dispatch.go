package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/queue"
	"github.com/ponte-hub/ponte/internal/store"
	"github.com/ponte-hub/ponte/internal/worker"
)

const (
	// UserAgent identifies our deliveries to receivers.
	UserAgent = "Ponte-Webhooks/1"
	// RequestTimeout bounds one delivery attempt, whatever the client's own timeout.
	RequestTimeout = 10 * time.Second
	// EventOrderAccepted is the event an ERP push intake registers orders from.
	EventOrderAccepted = "order.accepted"
	// maxResponse is all we ever read of an answer: enough for an ERP number or an error.
	maxResponse = 64 << 10
)

// SecretReader reads a named secret (platform.Secrets satisfies it).
type SecretReader interface {
	GetSecret(ctx context.Context, ref string) (map[string]string, error)
}

// Acker registers an accepted order with the ERP's number, as the pull API's ack does.
type Acker interface {
	AckOrder(ctx context.Context, tenant, orderID, erpOrderNumber string) error
}

// Dispatcher delivers queued Messages to their endpoints (a worker.Handler).
type Dispatcher struct {
	Tenants TenantReader
	Secrets SecretReader
	// Client sends the requests; nil means one that does not follow redirects (a
	// redirected POST would lose its body or become a GET).
	Client *http.Client
	// PublicOnly makes the default Client refuse endpoints that resolve to private,
	// loopback or link-local addresses (set on AWS; the local hub posts to localhost).
	PublicOnly bool
	// Acker is needed only when an endpoint has ERPOrders.
	Acker Acker
	Now   func() time.Time
	Log   *slog.Logger

	defaultOnce   sync.Once
	defaultClient *http.Client
}

// envelope is the Standard Webhooks payload shape.
type envelope struct {
	Type      string          `json:"type"`
	Timestamp string          `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

// Handle delivers one message; its error follows worker's Retry/Dead conventions.
func (d *Dispatcher) Handle(ctx context.Context, msg queue.Message) error {
	var m Message
	if err := json.Unmarshal(msg.Body, &m); err != nil || m.Tenant == "" || m.Endpoint == "" || m.EventID == "" || m.Type == "" {
		return worker.Dead("webhook message %s is not a notify.Message (tenant, endpoint, event_id, type)", msg.ID)
	}
	log := d.log().With("tenant", m.Tenant, "endpoint", m.Endpoint, "event", m.EventID, "type", m.Type)
	t, err := d.Tenants.GetTenant(ctx, m.Tenant)
	if errors.Is(err, store.ErrNotFound) {
		log.Info("webhook dropped: tenant no longer exists")
		return nil
	}
	if err != nil {
		return fmt.Errorf("deliver event %s: read tenant %s: %w", m.EventID, m.Tenant, err)
	}
	ep, ok := endpoint(t, m.Endpoint)
	if !ok || !subscribed(ep, m.Type) {
		// The tenant changed its mind since the publish; its current settings win.
		log.Info("webhook dropped: endpoint removed, disabled or no longer subscribed")
		return nil
	}
	ack := ep.ERPOrders && m.Type == EventOrderAccepted
	var orderID string
	if ack {
		// Checked before sending: an ERP answer we could not record would be lost.
		if orderID, err = orderIDOf(m.Data); err != nil {
			return worker.Dead("event %s: %v", m.EventID, err)
		}
		if d.Acker == nil {
			return fmt.Errorf("deliver event %s to ERP endpoint %s: no Acker wired", m.EventID, ep.ID)
		}
	}
	if u, err := url.Parse(ep.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return worker.Dead("endpoint %s: URL is not an absolute http(s) URL", ep.ID)
	}
	secret, err := d.secret(ctx, ep)
	if err != nil {
		return err
	}
	body, err := json.Marshal(envelope{Type: m.Type, Timestamp: m.At.UTC().Format(time.RFC3339Nano), Data: dataOrNull(m.Data)})
	if err != nil {
		return worker.Dead("event %s: encode payload: %v", m.EventID, err)
	}
	status, header, answer, err := d.post(ctx, ep.URL, m.EventID, secret, body)
	if errors.Is(err, errPrivateAddress) {
		return worker.Dead("endpoint %s at %s: %v", ep.ID, host(ep.URL), errPrivateAddress)
	}
	if err != nil {
		log.Warn("webhook delivery failed", "host", host(ep.URL), "attempt", msg.Attempts, "err", err)
		return worker.Retry(0, fmt.Errorf("deliver event %s to endpoint %s: %w", m.EventID, ep.ID, err))
	}
	if err := classify(status, header, answer, d.now()); err != nil {
		log.Warn("webhook refused", "host", host(ep.URL), "status", status, "attempt", msg.Attempts)
		if dead, ok := errors.AsType[*worker.DeadError](err); ok {
			// The reason is all the operator sees in the dead letters: say where.
			return worker.Dead("%s (endpoint %s at %s)", dead.Reason, ep.ID, host(ep.URL))
		}
		return fmt.Errorf("deliver event %s to endpoint %s: %w", m.EventID, ep.ID, err)
	}
	log.Debug("webhook delivered", "host", host(ep.URL), "status", status, "attempt", msg.Attempts)
	if !ack {
		return nil
	}
	number := erpOrderNumber(answer)
	if err := d.Acker.AckOrder(ctx, m.Tenant, orderID, number); err != nil {
		// Retrying re-sends the same webhook-id; the ERP de-duplicates on it.
		return worker.Retry(0, fmt.Errorf("event %s: register order %s with ERP number %q: %w", m.EventID, orderID, number, err))
	}
	return nil
}

// secret reads the endpoint's signing secret. A read failure may pass and is retried; a
// missing or malformed secret needs the operator, so it is dead-lettered (redrive after
// fixing it). Errors name the secret, never its value.
func (d *Dispatcher) secret(ctx context.Context, ep domain.WebhookEndpoint) (string, error) {
	if ep.SecretRef == "" {
		return "", worker.Dead("endpoint %s has no secret_ref to sign with", ep.ID)
	}
	values, err := d.Secrets.GetSecret(ctx, ep.SecretRef)
	if err != nil {
		return "", fmt.Errorf("endpoint %s: read signing secret %s: %w", ep.ID, ep.SecretRef, err)
	}
	s := values["secret"]
	if s == "" {
		return "", worker.Dead("endpoint %s: secret %s has no \"secret\" value", ep.ID, ep.SecretRef)
	}
	if _, err := signingKey(s); err != nil {
		return "", worker.Dead("endpoint %s: secret %s: %v", ep.ID, ep.SecretRef, err)
	}
	return s, nil
}

// post sends one signed attempt and reads at most maxResponse bytes of the answer.
func (d *Dispatcher) post(ctx context.Context, target, id, secret string, body []byte) (int, http.Header, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, RequestTimeout)
	defer cancel()
	now := d.now() // one instant for the signature and its header
	sig, err := Sign(secret, id, now, body)
	if err != nil {
		return 0, nil, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("build request to %s: %w", host(target), redact(err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set(HeaderID, id)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(HeaderSignature, sig)
	resp, err := d.client().Do(req)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("POST to %s: %w", host(target), redact(err))
	}
	defer func() { _ = resp.Body.Close() }()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil && resp.StatusCode/100 != 2 {
		// A failure answer cut short still classifies by its status.
		err = nil
	}
	if err != nil {
		return 0, nil, nil, fmt.Errorf("read answer from %s: %w", host(target), redact(err))
	}
	return resp.StatusCode, resp.Header, answer, nil
}

func (d *Dispatcher) client() *http.Client {
	if d.Client != nil {
		return d.Client
	}
	d.defaultOnce.Do(func() { d.defaultClient = d.newClient() })
	return d.defaultClient
}

// newClient builds the default client once, so connections to an endpoint are reused.
func (d *Dispatcher) newClient() *http.Client {
	c := &http.Client{
		Timeout:       RequestTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if d.PublicOnly {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.Proxy = nil // a proxy would dial the private address on our behalf
		t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: publicOnly}).DialContext
		c.Transport = t
	}
	return c
}

func (d *Dispatcher) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Dispatcher) log() *slog.Logger {
	if d.Log != nil {
		return d.Log
	}
	return slog.New(slog.DiscardHandler)
}

// orderIDOf reads the order id from an order event's data (an OrderRecord as JSON).
func orderIDOf(data json.RawMessage) (string, error) {
	var rec struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(data, &rec); err != nil || strings.TrimSpace(rec.ID) == "" {
		return "", errors.New("order.accepted data has no order \"id\"")
	}
	return rec.ID, nil
}

// erpOrderNumber reads the optional {"erp_order_number": "..."}; any other body (empty,
// text, cut short) registers the order without a number.
func erpOrderNumber(answer []byte) string {
	var a struct {
		Number string `json:"erp_order_number"`
	}
	if json.Unmarshal(answer, &a) != nil {
		return ""
	}
	return strings.TrimSpace(a.Number)
}

func dataOrNull(data json.RawMessage) json.RawMessage {
	if len(bytes.TrimSpace(data)) == 0 {
		return json.RawMessage("null")
	}
	return data
}

// host is what logs and errors show of an endpoint URL: its path or query may hold a token.
func host(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(invalid URL)"
	}
	return u.Host
}

// redact drops the *url.Error wrapper, whose text repeats the full URL.
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
