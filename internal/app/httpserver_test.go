package app_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/app"
)

// patience bounds every wait on the server below: far above the limits under test, so
// only a server that never cuts off fails, never a slow machine.
const patience = 20 * time.Second

// startLimited serves the embedded hub's real API with limits on a loopback port.
func startLimited(t *testing.T, limits app.HTTPLimits) string {
	t.Helper()
	hub := openEmbedded(t)
	srv, err := app.ListenHTTP("127.0.0.1:0", hub.API.Handler(), limits, quietLogger())
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), patience)
		defer cancel()
		_ = srv.Shutdown(ctx)
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	return srv.Addr().String()
}

func dialFrom(t *testing.T, addr, fromIP string) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: patience}
	if fromIP != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(fromIP)}
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s from %q: %v", addr, fromIP, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// closedByServer reads until the server closes c; it fails when patience runs out first.
// What the server wrote before closing is returned.
func closedByServer(t *testing.T, c net.Conn) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(patience))
	var got strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		got.Write(buf[:n])
		if err == nil {
			continue
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("the server still holds the connection after %s (read so far %q)", patience, got.String())
		}
		return got.String() // EOF or reset: closed
	}
}

// healthz sends one keep-alive request on c and returns the answer's status.
func healthz(t *testing.T, c net.Conn, r *bufio.Reader) int {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(patience))
	if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: ponte\r\n\r\n"); err != nil {
		t.Fatalf("write request: %v", err)
	}
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestHTTPServerCutsOffSlowAndIdleClients: a body that never ends, headers that never end
// and a keep-alive left idle are each closed by the server instead of held.
func TestHTTPServerCutsOffSlowAndIdleClients(t *testing.T) {
	limits := app.DefaultHTTPLimits
	limits.ReadHeaderTimeout, limits.ReadTimeout, limits.IdleTimeout = 300*time.Millisecond, 500*time.Millisecond, 300*time.Millisecond
	addr := startLimited(t, limits)
	cases := []struct {
		name string
		// send runs on a fresh connection; the server must then close it.
		send func(t *testing.T, c net.Conn)
	}{
		{name: "slow body", send: func(t *testing.T, c net.Conn) {
			_, err := io.WriteString(c, "POST /v1/erp/changes HTTP/1.1\r\nHost: ponte\r\nAuthorization: Bearer whoever-holds-this-key-0001\r\n"+
				"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"changes\":[")
			if err != nil {
				t.Fatal(err)
			}
		}},
		{name: "slow headers", send: func(t *testing.T, c net.Conn) {
			if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: ponte\r\nX-Dribble: a"); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "idle keep-alive", send: func(t *testing.T, c net.Conn) {
			if got := healthz(t, c, bufio.NewReader(c)); got != http.StatusOK {
				t.Fatalf("healthz: %d", got)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dialFrom(t, addr, "")
			tc.send(t, c)
			closedByServer(t, c)
		})
	}
}

// TestHTTPServerCapsConnectionsPerClient: one address gets MaxConnsPerClient open
// connections; the next is answered 429 and closed, another address is still served, and
// a closed connection frees its slot.
func TestHTTPServerCapsConnectionsPerClient(t *testing.T) {
	limits := app.DefaultHTTPLimits
	limits.MaxConnsPerClient = 2
	addr := startLimited(t, limits)

	held := make([]net.Conn, limits.MaxConnsPerClient)
	for i := range held {
		held[i] = dialFrom(t, addr, "127.0.0.1")
		// A served request proves the server accepted and counts the connection.
		if got := healthz(t, held[i], bufio.NewReader(held[i])); got != http.StatusOK {
			t.Fatalf("connection %d: healthz %d", i, got)
		}
	}
	over := dialFrom(t, addr, "127.0.0.1")
	if got := closedByServer(t, over); !strings.HasPrefix(got, "HTTP/1.1 429 ") || !strings.Contains(got, "too many connections") {
		t.Fatalf("connection over the cap got %q, want a 429 naming the cap, then closed", got)
	}
	// Linux routes all of 127/8 to loopback: 127.0.0.2 is another client.
	other := dialFrom(t, addr, "127.0.0.2")
	if got := healthz(t, other, bufio.NewReader(other)); got != http.StatusOK {
		t.Fatalf("another client refused: %d", got)
	}
	// The first client closes one of its connections: a new one gets in once the server
	// has seen the close (it learns of it asynchronously, so the test retries).
	_ = held[0].Close()
	deadline := time.Now().Add(patience)
	for {
		c := dialFrom(t, addr, "127.0.0.1")
		_ = c.SetDeadline(time.Now().Add(patience))
		_, _ = io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: ponte\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err == nil && resp.StatusCode == http.StatusOK {
			break
		}
		_ = c.Close()
		if time.Now().After(deadline) {
			t.Fatalf("a freed slot was never reused: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestHTTPLimitsFromEnv(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		want    func(l app.HTTPLimits) bool
		errName string // the error names this variable; "" means valid
	}{
		{name: "defaults", want: func(l app.HTTPLimits) bool { return l == app.DefaultHTTPLimits }},
		{name: "every setting", env: map[string]string{
			"PONTE_HTTP_READ_HEADER_TIMEOUT": "2s", "PONTE_HTTP_READ_TIMEOUT": "15s", "PONTE_HTTP_WRITE_TIMEOUT": "20s",
			"PONTE_HTTP_IDLE_TIMEOUT": "1m", "PONTE_HTTP_MAX_CONNS_PER_CLIENT": "8",
		}, want: func(l app.HTTPLimits) bool {
			return l == app.HTTPLimits{ReadHeaderTimeout: 2 * time.Second, ReadTimeout: 15 * time.Second, WriteTimeout: 20 * time.Second,
				IdleTimeout: time.Minute, MaxConnsPerClient: 8}
		}},
		{name: "not a duration", env: map[string]string{"PONTE_HTTP_READ_TIMEOUT": "30"}, errName: "PONTE_HTTP_READ_TIMEOUT"},
		{name: "zero timeout", env: map[string]string{"PONTE_HTTP_IDLE_TIMEOUT": "0s"}, errName: "PONTE_HTTP_IDLE_TIMEOUT"},
		{name: "negative timeout", env: map[string]string{"PONTE_HTTP_WRITE_TIMEOUT": "-1s"}, errName: "PONTE_HTTP_WRITE_TIMEOUT"},
		{name: "zero cap", env: map[string]string{"PONTE_HTTP_MAX_CONNS_PER_CLIENT": "0"}, errName: "PONTE_HTTP_MAX_CONNS_PER_CLIENT"},
		{name: "cap not a number", env: map[string]string{"PONTE_HTTP_MAX_CONNS_PER_CLIENT": "many"}, errName: "PONTE_HTTP_MAX_CONNS_PER_CLIENT"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, name := range []string{"PONTE_HTTP_READ_HEADER_TIMEOUT", "PONTE_HTTP_READ_TIMEOUT", "PONTE_HTTP_WRITE_TIMEOUT",
				"PONTE_HTTP_IDLE_TIMEOUT", "PONTE_HTTP_MAX_CONNS_PER_CLIENT"} {
				t.Setenv(name, tc.env[name])
			}
			l, err := app.HTTPLimitsFromEnv()
			if tc.errName != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.errName+":") {
					t.Fatalf("error %v, want one naming %s", err, tc.errName)
				}
				return
			}
			if err != nil || !tc.want(l) {
				t.Fatalf("limits %+v, %v", l, err)
			}
		})
	}
}
