// Command samgen writes the SAM template rendered from internal/topology. Run from infra/:
//
//	go run ./cmd/samgen            # writes ../template.yaml
//	go run ./cmd/samgen -o -       # prints it
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/ponte-hub/ponte/infra/sam"
	"github.com/ponte-hub/ponte/internal/topology"
)

func main() {
	out := flag.String("o", "../template.yaml", "output file, - for stdout")
	flag.Parse()
	b, err := sam.Render(topology.Default())
	if err != nil {
		fmt.Fprintln(os.Stderr, "samgen:", err)
		os.Exit(1)
	}
	if *out == "-" {
		os.Stdout.Write(b)
		return
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "samgen:", err)
		os.Exit(1)
	}
}
