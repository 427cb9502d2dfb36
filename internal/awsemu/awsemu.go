// Package awsemu names the AWS API-compatible server behind an endpoint, so the AWS
// adapters' test suites log the server they really ran against and adapt to what it
// guarantees (scripts/aws-emulator.sh starts moto, scripts/elasticmq.sh ElasticMQ).
package awsemu

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Server is what the tests know about the server behind an endpoint.
type Server struct {
	// Name is "moto server", "ElasticMQ" or "server <Server header>" for another one.
	Name string
	// Moto: moto's conditional writes are not atomic under concurrency, so the store's
	// race cases cannot hold there.
	Moto bool
}

func (s Server) String() string { return s.Name }

// Identify asks the server at endpoint who it is: moto answers its own /moto-api/;
// ElasticMQ runs on pekko-http (akka-http before 1.5) and says so in its Server header.
func Identify(ctx context.Context, endpoint string) (Server, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	base := strings.TrimRight(endpoint, "/")
	if code, _, err := get(ctx, base+"/moto-api/"); err != nil {
		return Server{}, fmt.Errorf("identify server at %s: %w", endpoint, err)
	} else if code == http.StatusOK {
		return Server{Name: "moto server", Moto: true}, nil
	}
	_, header, err := get(ctx, base+"/?Action=ListQueues")
	if err != nil {
		return Server{}, fmt.Errorf("identify server at %s: %w", endpoint, err)
	}
	if h := strings.ToLower(header); strings.Contains(h, "pekko-http") || strings.Contains(h, "akka-http") {
		return Server{Name: "ElasticMQ"}, nil
	}
	return Server{Name: fmt.Sprintf("server %q", header)}, nil
}

// get returns a GET's status code and Server header.
func get(ctx context.Context, url string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	_ = res.Body.Close()
	return res.StatusCode, res.Header.Get("Server"), nil
}
