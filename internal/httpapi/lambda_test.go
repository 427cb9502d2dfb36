package httpapi_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ponte-hub/ponte/internal/httpapi"
	"github.com/ponte-hub/ponte/internal/ingest"
)

// seen is what the echo handler saw of the request LambdaHTTP built.
type seen struct {
	Method, Path, RawQuery string
	Query                  map[string][]string
	Header                 http.Header
	Body                   []byte
	ContentLength          int64
	RemoteAddr             string
}

// echo records the request and answers with a status and repeated headers.
func echo(status int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s := seen{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Query: r.URL.Query(), Header: r.Header,
			Body: b, ContentLength: r.ContentLength, RemoteAddr: r.RemoteAddr}
		w.Header().Add("X-Multi", "a")
		w.Header().Add("X-Multi", "b")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(s)
	})
}

func v2(method, path string) events.APIGatewayV2HTTPRequest {
	ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: "$default", RawPath: path, Headers: map[string]string{}}
	ev.RequestContext.HTTP.Method = method
	ev.RequestContext.HTTP.Path = path
	ev.RequestContext.HTTP.SourceIP = "203.0.113.9"
	return ev
}

func TestLambdaHTTPAdapter(t *testing.T) {
	cases := []struct {
		name   string
		ev     func() events.APIGatewayV2HTTPRequest
		status int
		check  func(t *testing.T, s seen)
	}{
		{
			name: "plain body, headers and method",
			ev: func() events.APIGatewayV2HTTPRequest {
				ev := v2("POST", "/v1/erp/changes")
				ev.Headers = map[string]string{"authorization": "Bearer k", "content-type": "application/json", "idempotency-key": "i-1"}
				ev.Body = `{"changes":[]}`
				return ev
			},
			status: 202,
			check: func(t *testing.T, s seen) {
				if s.Method != "POST" || s.Path != "/v1/erp/changes" || string(s.Body) != `{"changes":[]}` || s.ContentLength != 14 {
					t.Fatalf("request %+v", s)
				}
				if s.Header.Get("Authorization") != "Bearer k" || s.Header.Get("Idempotency-Key") != "i-1" {
					t.Fatalf("lower-case event headers not readable canonically: %v", s.Header)
				}
				if s.RemoteAddr != "203.0.113.9:0" {
					t.Fatalf("remote addr %q", s.RemoteAddr)
				}
			},
		},
		{
			name: "base64 body is decoded",
			ev: func() events.APIGatewayV2HTTPRequest {
				ev := v2("POST", "/x")
				ev.Body = base64.StdEncoding.EncodeToString([]byte("\x00binary\xff{}"))
				ev.IsBase64Encoded = true
				return ev
			},
			status: 200,
			check: func(t *testing.T, s seen) {
				if string(s.Body) != "\x00binary\xff{}" || s.ContentLength != 10 {
					t.Fatalf("body %q length %d", s.Body, s.ContentLength)
				}
			},
		},
		{
			name: "raw query string kept, repeated parameters too",
			ev: func() events.APIGatewayV2HTTPRequest {
				ev := v2("GET", "/v1/erp/orders")
				ev.RawQueryString = "status=pending&tag=a&tag=b%20c"
				ev.QueryStringParameters = map[string]string{"status": "pending", "tag": "a,b c"}
				return ev
			},
			status: 200,
			check: func(t *testing.T, s seen) {
				if s.RawQuery != "status=pending&tag=a&tag=b%20c" || s.Query["status"][0] != "pending" ||
					len(s.Query["tag"]) != 2 || s.Query["tag"][1] != "b c" {
					t.Fatalf("query %q %v", s.RawQuery, s.Query)
				}
			},
		},
		{
			name: "path from requestContext when rawPath is empty, GET by default",
			ev: func() events.APIGatewayV2HTTPRequest {
				ev := v2("", "/healthz")
				ev.RawPath = ""
				return ev
			},
			status: 200,
			check: func(t *testing.T, s seen) {
				if s.Method != "GET" || s.Path != "/healthz" {
					t.Fatalf("method %q path %q", s.Method, s.Path)
				}
			},
		},
		{
			name: "decoded path characters stay in the path",
			ev: func() events.APIGatewayV2HTTPRequest {
				return v2("GET", "/v1/admin/connections/c1/skus/CANECA AZUL?x#y")
			},
			status: 200,
			check: func(t *testing.T, s seen) {
				if s.Path != "/v1/admin/connections/c1/skus/CANECA AZUL?x#y" || s.RawQuery != "" {
					t.Fatalf("path %q query %q", s.Path, s.RawQuery)
				}
			},
		},
		{
			name: "cookies and the gateway's request id",
			ev: func() events.APIGatewayV2HTTPRequest {
				ev := v2("GET", "/x")
				ev.Cookies = []string{"a=1", "b=2"}
				ev.RequestContext.RequestID = "gw-req-1"
				return ev
			},
			status: 200,
			check: func(t *testing.T, s seen) {
				if s.Header.Get("Cookie") != "a=1; b=2" || s.Header.Get("X-Request-Id") != "gw-req-1" {
					t.Fatalf("headers %v", s.Header)
				}
			},
		},
		{
			name: "a client request id wins over the gateway's",
			ev: func() events.APIGatewayV2HTTPRequest {
				ev := v2("GET", "/x")
				ev.Headers["x-request-id"] = "client-1"
				ev.RequestContext.RequestID = "gw-req-1"
				return ev
			},
			status: 200,
			check: func(t *testing.T, s seen) {
				if s.Header.Get("X-Request-Id") != "client-1" {
					t.Fatalf("X-Request-Id %q", s.Header.Get("X-Request-Id"))
				}
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, err := httpapi.LambdaHTTP{Handler: echo(c.status)}.Handle(context.Background(), c.ev())
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, c.status)
			}
			if resp.Headers["Content-Type"] != "application/json" || resp.Headers["X-Multi"] != "a,b" {
				t.Fatalf("response headers %v", resp.Headers)
			}
			if resp.IsBase64Encoded {
				t.Fatal("JSON answer marked base64")
			}
			var s seen
			if err := json.Unmarshal([]byte(resp.Body), &s); err != nil {
				t.Fatalf("body %q: %v", resp.Body, err)
			}
			c.check(t, s)
		})
	}
}

func TestLambdaHTTPBadBase64(t *testing.T) {
	called := false
	h := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true })
	ev := v2("POST", "/v1/erp/changes")
	ev.Body, ev.IsBase64Encoded = "not base64!", true
	resp, err := httpapi.LambdaHTTP{Handler: h}.Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	var eb httpapi.ErrorBody
	if resp.StatusCode != 400 || json.Unmarshal([]byte(resp.Body), &eb) != nil || !strings.Contains(eb.Error, "base64") {
		t.Fatalf("answer %d %q", resp.StatusCode, resp.Body)
	}
	if resp.Headers["Content-Type"] != "application/json" || called {
		t.Fatalf("headers %v, handler called %v", resp.Headers, called)
	}
}

// TestLambdaHTTPWithAPI runs the real API behind the adapter: the same answers as the
// local server, request id included.
func TestLambdaHTTPWithAPI(t *testing.T) {
	e := newEnv(t)
	fn := httpapi.LambdaHTTP{Handler: e.h}.Handle
	body := batch(stockItem("A-1", 3, 11), `{"type":"colour","sku":"A-1","version":3}`)
	cases := []struct {
		name     string
		ev       func() events.APIGatewayV2HTTPRequest
		status   int
		accepted int
		field    string
	}{
		{
			name: "base64 batch accepted",
			ev: func() events.APIGatewayV2HTTPRequest {
				ev := v2("POST", "/v1/erp/changes")
				ev.Headers = map[string]string{"authorization": "Bearer " + keyA, "content-type": "application/json"}
				ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(body)), true
				ev.RequestContext.RequestID = "gw-1"
				return ev
			},
			status: 202, accepted: 1, field: "type",
		},
		{
			name: "wrong key",
			ev: func() events.APIGatewayV2HTTPRequest {
				ev := v2("POST", "/v1/erp/changes")
				ev.Headers = map[string]string{"authorization": "Bearer nope"}
				ev.Body = body
				ev.RequestContext.RequestID = "gw-1"
				return ev
			},
			status: 401, field: "authorization",
		},
		{
			name: "over 1 MiB",
			ev: func() events.APIGatewayV2HTTPRequest {
				ev := v2("POST", "/v1/erp/changes")
				ev.Headers = map[string]string{"authorization": "Bearer " + keyA, "content-type": "application/json"}
				ev.Body = body + strings.Repeat(" ", ingest.MaxBatchBytes)
				ev.RequestContext.RequestID = "gw-1"
				return ev
			},
			status: 413, field: "body",
		},
		{
			name: "another tenant's SKU view",
			ev: func() events.APIGatewayV2HTTPRequest {
				ev := v2("GET", viewPath(connA, "A-1"))
				ev.Headers = map[string]string{"authorization": "Bearer " + keyB}
				ev.RequestContext.RequestID = "gw-1"
				return ev
			},
			status: 404, field: "id",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, err := fn(context.Background(), c.ev())
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != c.status || resp.Headers["X-Request-Id"] != "gw-1" || resp.Headers["Content-Type"] != "application/json" {
				t.Fatalf("status %d headers %v body %s", resp.StatusCode, resp.Headers, resp.Body)
			}
			if c.status == 202 {
				var res ingest.Result
				if err := json.Unmarshal([]byte(resp.Body), &res); err != nil || res.Accepted != c.accepted ||
					len(res.Rejected) != 1 || res.Rejected[0].Index != 1 || res.Rejected[0].Field != c.field {
					t.Fatalf("result %s (%v)", resp.Body, err)
				}
				return
			}
			var eb httpapi.ErrorBody
			if err := json.Unmarshal([]byte(resp.Body), &eb); err != nil || eb.Field != c.field {
				t.Fatalf("error %s (%v)", resp.Body, err)
			}
		})
	}
	if st, _ := e.sku(t, "acme", "A-1"); st.Stock["default"].Quantity != 11 {
		t.Fatalf("stock via Lambda not stored: %+v", st.Stock)
	}
}
