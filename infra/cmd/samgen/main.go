// Command samgen writes the SAM template rendered from internal/topology. Run from infra/:
//
//	go run ./cmd/samgen            # writes ../template.yaml
//	go run ./cmd/samgen -o -       # prints it
//	go run ./cmd/samgen -functions # lists "LogicalID CodeDir" per function (for scripts)
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
	list := flag.Bool("functions", false, "list each function's logical ID and code dir instead")
	flag.Parse()
	if *list {
		for _, f := range topology.Default().Functions {
			fmt.Println(f.LogicalID, f.CodeDir)
		}
		return
	}
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
