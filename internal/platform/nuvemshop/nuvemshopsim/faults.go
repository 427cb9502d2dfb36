package nuvemshopsim

import (
	"net/http"
	"strconv"
	"time"
)

// FaultKind is a failure the simulator can inject.
type FaultKind int

const (
	// FaultServerError answers 500 in the API's error envelope.
	FaultServerError FaultKind = iota + 1
	// FaultRateLimit answers 429 with x-rate-limit-reset = Fault.Reset (milliseconds).
	FaultRateLimit
	// FaultHang waits Fault.Delay (or until the client gives up), then answers normally.
	FaultHang
	// FaultMalformed answers 200 with a body that is not JSON.
	FaultMalformed
	// FaultTruncated answers 200 and cuts the body short (Content-Length larger than sent).
	FaultTruncated
	// FaultUnauthorized answers 401 as for a revoked token.
	FaultUnauthorized
)

// Fault applies to the next Count requests of a store that the bucket admits.
type Fault struct {
	Kind  FaultKind
	Count int
	Reset time.Duration
	Delay time.Duration
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
		writeError(w, http.StatusInternalServerError, "Internal Server Error", "injected failure")
	case FaultRateLimit:
		w.Header().Set("x-rate-limit-remaining", "0")
		w.Header().Set("x-rate-limit-reset", strconv.FormatInt(f.Reset.Milliseconds(), 10))
		writeError(w, http.StatusTooManyRequests, "Too Many Requests", "injected rate limit")
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
	case FaultTruncated:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "512")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`[{"id":1,"variants":[{"id":`))
	case FaultUnauthorized:
		writeError(w, http.StatusUnauthorized, "Unauthorized", "Invalid access token")
	default:
		return false
	}
	return true
}
