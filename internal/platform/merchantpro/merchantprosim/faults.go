package merchantprosim

import (
	"net/http"
	"strconv"
	"time"
)

// FaultKind is a failure the simulator can inject.
type FaultKind int

const (
	// FaultServerError answers 500 with a JSON error body.
	FaultServerError FaultKind = iota + 1
	// FaultBadGateway answers 502 with an HTML body, as a proxy in front of a shop would.
	FaultBadGateway
	// FaultRateLimit answers 429 with Retry-After (Fault.RetryAfter, whole seconds).
	FaultRateLimit
	// FaultHang waits Fault.Delay (or until the client gives up), then serves normally.
	FaultHang
	// FaultMalformed answers 200 with a body that is not JSON.
	FaultMalformed
	// FaultTruncated answers 200 and cuts the body short (Content-Length larger than sent).
	FaultTruncated
)

// Fault applies to the next Count admitted requests of a store.
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
func applyFault(w http.ResponseWriter, r *http.Request, f *Fault) bool {
	switch f.Kind {
	case FaultServerError:
		writeError(w, http.StatusInternalServerError, "InternalError", "injected failure")
	case FaultBadGateway:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("<html><body><h1>502 Bad Gateway</h1></body></html>"))
	case FaultRateLimit:
		w.Header().Set("Retry-After", strconv.Itoa(int(f.RetryAfter/time.Second)))
		writeError(w, http.StatusTooManyRequests, "TooManyRequests", "injected rate limit")
	case FaultHang:
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
			return false
		case <-r.Context().Done():
		}
	case FaultMalformed:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("<html><body>maintenance</body></html>"))
	case FaultTruncated:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "4096")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"id":1,"data":{"sto`))
	default:
		return false
	}
	return true
}
