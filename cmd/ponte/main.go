// Command ponte is the local hub and ops CLI: `ponte serve` runs the HTTP API, the queue
// workers and the embedded store in one process; `ponte bench` measures it; `ponte
// reconcile` reads the stores back and corrects drift; `ponte first-sync` links a store's
// existing catalogue to the ERP's products.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: ponte <command> [flags]

commands:
  serve   run the hub: HTTP API, queue workers, embedded store (demo stores without config)
  bench   drive a burst of ERP changes through the hub and its simulators; prints a JSON line
  reconcile [-dry-run] CONNECTION|all
          read stock and prices back from the store(s), queue corrections for drift; prints the reports as JSON
          (each run is a stored job: an interrupted one resumes at the next run)
  reconcile -reports CONNECTION
          print the connection's last 10 reconciliation jobs with their reports as JSON
  first-sync [-reports] CONNECTION
          import the store's catalogue and link it to the ERP's products by SKU, EAN, additional code;
          prints the report (ambiguous and unmatched items) as JSON; an interrupted run resumes
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(ctx, os.Args[2:])
	case "bench":
		err = runBench(ctx, os.Args[2:])
	case "reconcile":
		err = runReconcile(ctx, os.Args[2:])
	case "first-sync":
		err = runFirstSync(ctx, os.Args[2:])
	case "-h", "--help", "help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "ponte: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "ponte %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}
