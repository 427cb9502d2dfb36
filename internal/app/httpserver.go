package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"
)

// HTTPLimits bound what one client can hold of the local server (`ponte serve`): a body
// sent slowly, a keep-alive left idle and a pile of connections from one address are
// cut off instead of held without end. On AWS, API Gateway sets these limits.
type HTTPLimits struct {
	// ReadHeaderTimeout bounds reading a request's headers (PONTE_HTTP_READ_HEADER_TIMEOUT).
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included (PONTE_HTTP_READ_TIMEOUT).
	ReadTimeout time.Duration
	// WriteTimeout bounds handling a request and writing its answer, counted from the end
	// of its headers (PONTE_HTTP_WRITE_TIMEOUT).
	WriteTimeout time.Duration
	// IdleTimeout closes a keep-alive connection left without a request (PONTE_HTTP_IDLE_TIMEOUT).
	IdleTimeout time.Duration
	// MaxConnsPerClient caps the open connections of one client IP address; one more is
	// answered 429 and closed (PONTE_HTTP_MAX_CONNS_PER_CLIENT). Behind a reverse proxy
	// every client shares the proxy's address: raise it there.
	MaxConnsPerClient int
}

// DefaultHTTPLimits fit an ERP posting batches of up to a few megabytes and an operator's
// browser: a minute to send a request, a minute to answer it.
var DefaultHTTPLimits = HTTPLimits{
	ReadHeaderTimeout: 10 * time.Second,
	ReadTimeout:       60 * time.Second,
	WriteTimeout:      60 * time.Second,
	IdleTimeout:       60 * time.Second,
	MaxConnsPerClient: 64,
}

// HTTPLimitsFromEnv reads the PONTE_HTTP_* variables over DefaultHTTPLimits; a bad value
// is an error naming its variable.
func HTTPLimitsFromEnv() (HTTPLimits, error) {
	l := DefaultHTTPLimits
	for _, d := range []struct {
		name string
		dst  *time.Duration
	}{
		{"PONTE_HTTP_READ_HEADER_TIMEOUT", &l.ReadHeaderTimeout},
		{"PONTE_HTTP_READ_TIMEOUT", &l.ReadTimeout},
		{"PONTE_HTTP_WRITE_TIMEOUT", &l.WriteTimeout},
		{"PONTE_HTTP_IDLE_TIMEOUT", &l.IdleTimeout},
	} {
		v := os.Getenv(d.name)
		if v == "" {
			continue
		}
		dur, err := time.ParseDuration(v)
		if err != nil || dur <= 0 {
			return HTTPLimits{}, fmt.Errorf("%s: %q is not a positive duration (such as 30s)", d.name, v)
		}
		*d.dst = dur
	}
	if v := os.Getenv("PONTE_HTTP_MAX_CONNS_PER_CLIENT"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return HTTPLimits{}, fmt.Errorf("PONTE_HTTP_MAX_CONNS_PER_CLIENT: %q is not a positive number", v)
		}
		l.MaxConnsPerClient = n
	}
	return l, l.Validate()
}

// Validate refuses a zero or negative limit: each one is what stops a client holding
// the server, so "no limit" is not offered.
func (l HTTPLimits) Validate() error {
	switch {
	case l.ReadHeaderTimeout <= 0:
		return errors.New("read header timeout: must be positive")
	case l.ReadTimeout <= 0:
		return errors.New("read timeout: must be positive")
	case l.WriteTimeout <= 0:
		return errors.New("write timeout: must be positive")
	case l.IdleTimeout <= 0:
		return errors.New("idle timeout: must be positive")
	case l.MaxConnsPerClient <= 0:
		return errors.New("max connections per client: must be positive")
	}
	return nil
}

// HTTPServer is the local server with its limits applied.
type HTTPServer struct {
	srv      *http.Server
	listener *clientCapListener
}

// ListenHTTP listens on addr and returns the server, ready to Serve h within limits.
func ListenHTTP(addr string, h http.Handler, limits HTTPLimits, log *slog.Logger) (*HTTPServer, error) {
	if err := limits.Validate(); err != nil {
		return nil, fmt.Errorf("http limits: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return &HTTPServer{
		srv: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: limits.ReadHeaderTimeout,
			ReadTimeout:       limits.ReadTimeout,
			WriteTimeout:      limits.WriteTimeout,
			IdleTimeout:       limits.IdleTimeout,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
		listener: &clientCapListener{Listener: ln, max: limits.MaxConnsPerClient, open: map[string]int{}, log: log},
	}, nil
}

// Addr is the address the server listens on (the port chosen when addr asked for :0).
func (s *HTTPServer) Addr() net.Addr { return s.listener.Addr() }

// Serve answers requests until Shutdown; it then returns http.ErrServerClosed.
func (s *HTTPServer) Serve() error { return s.srv.Serve(s.listener) }

// Shutdown stops accepting, waits for the requests in flight until ctx ends, and closes.
func (s *HTTPServer) Shutdown(ctx context.Context) error { return s.srv.Shutdown(ctx) }

// tooManyConnsBody answers a connection over its client's cap before it is closed, so a
// well-behaved client learns why instead of seeing a bare reset.
const tooManyConnsBody = `{"error":"too many connections from this address; reuse or close some"}` + "\n"

func tooManyConns() []byte {
	return []byte("HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nConnection: close\r\n" +
		"Retry-After: 1\r\nContent-Length: " + strconv.Itoa(len(tooManyConnsBody)) + "\r\n\r\n" + tooManyConnsBody)
}

// clientCapListener counts open connections per client IP and closes those over max.
type clientCapListener struct {
	net.Listener
	max int
	log *slog.Logger

	mu   sync.Mutex
	open map[string]int
	// warned holds the clients already logged as over their cap, so a flood costs one
	// log line per episode, not one per connection.
	warned map[string]bool
}

func (l *clientCapListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := clientIP(c.RemoteAddr())
		if l.admit(ip) {
			return &countedConn{Conn: c, release: func() { l.release(ip) }}, nil
		}
		// A fresh socket's send buffer is empty, so this short write does not block
		// the accept loop; the deadline guards against the odd case where it would.
		_ = c.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = c.Write(tooManyConns())
		_ = c.Close()
	}
}

func (l *clientCapListener) admit(ip string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[ip] >= l.max {
		if !l.warned[ip] {
			if l.warned == nil {
				l.warned = map[string]bool{}
			}
			l.warned[ip] = true
			l.log.Warn("client over its connection cap: refusing its new connections", "client", ip, "max_conns_per_client", l.max)
		}
		return false
	}
	l.open[ip]++
	return true
}

func (l *clientCapListener) release(ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open[ip]--
	if l.open[ip] <= 0 {
		delete(l.open, ip)
	}
	if l.open[ip] < l.max {
		delete(l.warned, ip)
	}
}

func clientIP(a net.Addr) string {
	if tcp, ok := a.(*net.TCPAddr); ok {
		return tcp.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// countedConn gives its slot back once, however many times it is closed.
type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
