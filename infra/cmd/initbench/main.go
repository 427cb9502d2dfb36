// Command initbench measures each function's cold-start initialisation locally: it runs
// the function's bootstrap against a minimal fake Lambda runtime API on loopback, with the
// environment the declaration gives the function (queue URLs and table name filled with
// placeholders; nothing is contacted), and times process start to the first
// GET /runtime/invocation/next, the moment Lambda counts as the end of Init.
//
//	go run ./cmd/initbench -runs 5 DIR...   # each DIR/<function>/bootstrap, built for this host
//
// Binaries must be built for the host (the deployed ones are arm64); the figures are
// this machine's, a guide to what the handler does before serving, not Lambda's numbers.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ponte-hub/ponte/internal/topology"
)

func main() {
	runs := flag.Int("runs", 5, "starts per function")
	timeout := flag.Duration("timeout", 10*time.Second, "give up on a start after this long")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: initbench [-runs N] DIR")
		os.Exit(2)
	}
	dir := flag.Arg(0)
	failed := false
	for _, f := range topology.Default().Functions {
		bin := filepath.Join(dir, f.Short, topology.Handler)
		if _, err := os.Stat(bin); err != nil {
			fmt.Printf("init %-22s skipped: no %s (no %s yet)\n", f.Short, bin, f.CodeDir)
			continue
		}
		var times []time.Duration
		for i := 0; i < *runs; i++ {
			d, err := measure(bin, f, *timeout)
			if err != nil {
				fmt.Printf("init %-22s FAILED: %v\n", f.Short, err)
				failed = true
				break
			}
			times = append(times, d)
		}
		if len(times) == *runs {
			sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
			fmt.Printf("init %-22s min %6.1f ms  median %6.1f ms  max %6.1f ms  (%d starts)\n", f.Short,
				ms(times[0]), ms(times[len(times)/2]), ms(times[len(times)-1]), len(times))
		}
	}
	if failed {
		os.Exit(1)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// measure starts bin once and returns the time to its first request for an invocation.
func measure(bin string, f topology.Function, timeout time.Duration) (time.Duration, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	ready := make(chan time.Time, 1)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/runtime/invocation/next") {
			select {
			case ready <- time.Now():
			default:
			}
			<-r.Context().Done() // hold the poll, as Lambda does between invocations
			return
		}
		w.WriteHeader(http.StatusAccepted) // init/error reports
	})}
	go srv.Serve(ln)
	defer srv.Close()

	var stderr strings.Builder
	cmd := exec.Command(bin)
	cmd.Env = environment(f, ln.Addr().String())
	cmd.Stderr = &stderr
	cmd.Stdout = &stderr // the hub logs JSON to stdout
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Kill()
		<-exited
	}()
	select {
	case t := <-ready:
		return t.Sub(start), nil
	case err := <-exited:
		exited <- err
		return 0, fmt.Errorf("exited before asking for work (%v): %s", err, tail(stderr.String()))
	case <-time.After(timeout):
		return 0, fmt.Errorf("no request within %v: %s", timeout, tail(stderr.String()))
	}
}

// environment is the function's declared environment with placeholder resource locations,
// plus what Lambda itself sets.
func environment(f topology.Function, api string) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"AWS_LAMBDA_RUNTIME_API=" + api,
		"AWS_REGION=us-east-1",
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=initbench", "AWS_SECRET_ACCESS_KEY=initbench", "AWS_SESSION_TOKEN=initbench",
		"AWS_LAMBDA_FUNCTION_NAME=" + topology.WithStage(f.Name, "bench"),
		fmt.Sprintf("AWS_LAMBDA_FUNCTION_MEMORY_SIZE=%d", f.MemoryMB),
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"_HANDLER=" + topology.Handler,
	}
	for _, e := range f.Env {
		var v string
		switch e.Value.Kind {
		case topology.RefLiteral:
			v = topology.WithStage(e.Value.Value, "bench")
		case topology.RefTableName:
			v = "ponte-bench"
		case topology.RefQueueURL:
			v = "https://sqs.us-east-1.amazonaws.com/000000000000/" + e.Value.ID
		default:
			v = "initbench"
		}
		env = append(env, e.Name+"="+v)
	}
	return env
}

func tail(s string) string {
	if len(s) > 400 {
		s = "..." + s[len(s)-400:]
	}
	return strings.TrimSpace(s)
}
