package woocommercesim

import (
	"net/http"
	"strconv"
	"time"
)

// FaultKind is a failure the simulator can inject.
type FaultKind int

const (
	// FaultServerError answers 500 with WordPress's critical-error body.
	FaultServerError FaultKind = iota + 1
	// FaultRateLimit answers 429 with Retry-After (Fault.RetryAfter, whole seconds).
	FaultRateLimit
	// FaultHang waits Fault.Delay (or until the client gives up), then answers normally.
	FaultHang
	// FaultMalformed answers 200 with an HTML page (a caching plugin or a PHP notice).
	FaultMalformed
	// FaultTruncated answers 200 and cuts the body short (Content-Length larger than sent).
	FaultTruncated
)

// Fault applies to the next Count requests of a store (after the limit admits them).
type Fault struct {
	Kind       FaultKind
	Count      int
	RetryAfter time.Duration
	Delay      time.Duration
}

// InjectFault queues a fault for a store; faults run in the order injected.
func (s *Server) InjectFault(storeID string, f Fault) {
	if f.Count <= 0 {
		f.Count = 1
	}
	if st := s.store(storeID); st != nil {
		st.mu.Lock()
		st.faults = append(st.faults, f)
		st.mu.Unlock()
	}
}

// applyFault writes the fault's answer; false means carry on serving normally.
func applyFault(w http.ResponseWriter, r *http.Request, f *Fault) (done bool) {
	switch f.Kind {
	case FaultServerError:
		writeError(w, http.StatusInternalServerError, "internal_server_error",
			"<p>There has been a critical error on this website.</p>")
	case FaultRateLimit:
		w.Header().Set("Retry-After", strconv.Itoa(int(f.RetryAfter/time.Second)))
		writeError(w, http.StatusTooManyRequests, "rate_limit_exceeded", "Too many requests (injected).")
	case FaultHang:
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
			return false
		case <-r.Context().Done():
		}
	case FaultMalformed:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("<br />\n<b>Warning</b>: Undefined index in functions.php<br />\n{\"update\":"))
	case FaultTruncated:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "4096")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"update":[{"id":`))
	default:
		return false
	}
	return true
}
