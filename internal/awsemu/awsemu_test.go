package awsemu_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/ponte-hub/ponte/internal/awsemu"
)

func TestIdentify(t *testing.T) {
	tests := []struct {
		name     string
		handler  http.HandlerFunc
		wantName string
		wantMoto bool
	}{
		{"moto", func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/moto-api/" {
				http.NotFound(w, r)
			}
		}, "moto server", true},
		{"elasticmq", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Server", "pekko-http/1.3.0")
			if r.URL.Path == "/moto-api/" {
				http.NotFound(w, r)
			}
		}, "ElasticMQ", false},
		{"other", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Server", "Jetty(9.4)")
			http.NotFound(w, r)
		}, `server "Jetty(9.4)"`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			got, err := awsemu.Identify(context.Background(), srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			if got.Name != tc.wantName || got.Moto != tc.wantMoto {
				t.Errorf("got %+v, want %q moto=%t", got, tc.wantName, tc.wantMoto)
			}
		})
	}
	if _, err := awsemu.Identify(context.Background(), "http://127.0.0.1:1"); err == nil {
		t.Error("no server: no error")
	}
}

// TestIdentifyRunningServers names the servers scripts/test.sh started, when it did.
func TestIdentifyRunningServers(t *testing.T) {
	for env, want := range map[string]string{"PONTE_AWS_ENDPOINT": "moto server", "PONTE_ELASTICMQ_ENDPOINT": "ElasticMQ"} {
		endpoint := os.Getenv(env)
		if endpoint == "" {
			continue
		}
		got, err := awsemu.Identify(context.Background(), endpoint)
		if err != nil || got.Name != want {
			t.Errorf("%s=%s: %v, %v; want %s", env, endpoint, got, err, want)
		}
	}
}
