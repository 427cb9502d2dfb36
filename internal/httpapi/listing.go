package httpapi

import (
	"errors"
	"net/http"

	"github.com/ponte-hub/ponte/internal/store"
)

// listFailed answers a listing's error. A cursor the listing did not give out is the
// client's mistake: 400 naming the parameter, logged at INFO, so the client stops instead
// of retrying and the ERROR log stays for the store's own failures (503, retry).
func listFailed(w http.ResponseWriter, r *http.Request, err error, what, tenant string) {
	if errors.Is(err, store.ErrBadCursor) {
		logger(r).Info(what+": bad cursor", "tenant", tenant, "err", err)
		writeError(w, http.StatusBadRequest, "cursor", "not a cursor this listing gave out; start again without it")
		return
	}
	logger(r).Error(what+" failed", "tenant", tenant, "err", err)
	writeError(w, http.StatusServiceUnavailable, "", "store unavailable; retry")
}
