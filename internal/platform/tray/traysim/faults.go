package traysim

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// FaultKind is a failure the simulator can inject.
type FaultKind int

const (
	// FaultServerError answers 500 with a JSON body.
	FaultServerError FaultKind = iota + 1
	// FaultRateLimit answers 429 with Retry-After (Fault.RetryAfter, whole seconds).
	FaultRateLimit
	// FaultHang waits Fault.Delay (or until the client gives up), then answers normally.
	FaultHang
	// FaultMalformed answers 200 with a body that is not JSON.
	FaultMalformed
	// FaultTruncated answers 200 and cuts the body short (Content-Length larger than sent).
	FaultTruncated
	// FaultUnauthorized answers 401 without an error_code (a proxy or an unannounced
	// auth failure), to API calls only: token calls are served normally.
	FaultUnauthorized
)

// Fault applies to the next Count requests of a store (after the limits admit them).
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
		writeError(w, http.StatusInternalServerError, "Internal Server Error", "injected failure", 0)
	case FaultRateLimit:
		w.Header().Set("Retry-After", strconv.Itoa(int(f.RetryAfter/time.Second)))
		writeError(w, http.StatusTooManyRequests, "Too Many Requests", "injected rate limit", 0)
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
		_, _ = w.Write([]byte("<html><body>502 Bad Gateway</body></html>"))
	case FaultUnauthorized:
		writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "Unauthorized", "code": http.StatusUnauthorized})
	case FaultTruncated:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "512")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"message":"Sav`))
	default:
		return false
	}
	return true
}

// RefusePrices makes a store answer 400 with cause, as Tray does for a value it will
// not take, to every product or variant PUT that carries a price (price,
// promotional_price or cost_price), leaving the item unchanged; PUTs without one are
// served as usual. An empty cause stops refusing.
func (s *Server) RefusePrices(storeID, cause string) {
	if st := s.store(storeID); st != nil {
		st.mu.Lock()
		st.priceRefusal = cause
		st.mu.Unlock()
	}
}

// refusesPrice returns the cause to refuse a PUT's fields with, or "".
func (st *store) refusesPrice(fields map[string]json.RawMessage) string {
	st.mu.Lock()
	cause := st.priceRefusal
	st.mu.Unlock()
	if cause == "" {
		return ""
	}
	for _, name := range []string{"price", "promotional_price", "cost_price"} {
		if _, ok := fields[name]; ok {
			return cause
		}
	}
	return ""
}
