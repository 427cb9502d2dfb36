package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sort"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/ingest"
	"github.com/ponte-hub/ponte/internal/store"
)

const maxIdempotencyKeyLen = 255

// postChanges is POST /v1/erp/changes.
func (a *API) postChanges(w http.ResponseWriter, r *http.Request, t domain.Tenant) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, ingest.MaxBatchBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "body", "batch exceeds 1 MiB; split it")
			return
		}
		writeError(w, http.StatusBadRequest, "body", "could not read body: "+err.Error())
		return
	}
	idemKey := r.Header.Get("Idempotency-Key")
	if len(idemKey) > maxIdempotencyKeyLen {
		writeError(w, http.StatusBadRequest, "Idempotency-Key", "at most 255 characters")
		return
	}
	if idemKey == "" {
		status, resp := a.applyBatch(r, t, body)
		writeRaw(w, status, resp)
		return
	}
	a.idempotent(w, r, t.ID+":"+idemKey, body, func() (int, []byte) { return a.applyBatch(r, t, body) })
}

// idempotent runs fn once per key: a repeat with the same body gets the stored answer.
func (a *API) idempotent(w http.ResponseWriter, r *http.Request, key string, body []byte, fn func() (int, []byte)) {
	ttl := a.IdempotencyTTL
	if ttl <= 0 {
		ttl = 24 * time.Hour
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	rec, claimed, err := a.Store.ClaimIdempotency(r.Context(), key, hash, ttl)
	if err != nil {
		logger(r).Error("idempotency claim failed", "err", err)
		writeError(w, http.StatusServiceUnavailable, "", "store unavailable; retry")
		return
	}
	if !claimed {
		switch {
		case rec.RequestHash != hash:
			writeError(w, http.StatusUnprocessableEntity, "Idempotency-Key", "key already used for a different batch")
		case rec.Status != store.IdemCompleted:
			w.Header().Set("Retry-After", "1")
			writeError(w, http.StatusConflict, "Idempotency-Key", "a request with this key is still in progress; retry shortly")
		default:
			w.Header().Set("Idempotent-Replayed", "true")
			writeRaw(w, rec.StatusCode, rec.Response)
		}
		return
	}
	status, resp := fn()
	if status >= 500 {
		// Not applied (or not fully queued): let the retry run again.
		if err := a.Store.ReleaseIdempotency(r.Context(), key); err != nil {
			logger(r).Error("idempotency release failed", "err", err)
		}
	} else if err := a.Store.CompleteIdempotency(r.Context(), key, status, resp, ttl); err != nil {
		logger(r).Error("idempotency completion failed", "err", err)
	}
	writeRaw(w, status, resp)
}

// applyBatch decodes, validates and applies one batch and renders the answer.
func (a *API) applyBatch(r *http.Request, t domain.Tenant, body []byte) (int, []byte) {
	log := logger(r).With("tenant", t.ID)
	changes, rejected, err := ingest.Decode(body, currencyOf(t))
	if err != nil {
		var be *ingest.BatchError
		if errors.As(err, &be) {
			log.Info("batch refused", "reason", be.Msg)
			return http.StatusBadRequest, mustJSON(ErrorBody{Error: be.Msg, Field: "body"})
		}
		return http.StatusBadRequest, mustJSON(ErrorBody{Error: err.Error(), Field: "body"})
	}
	res, err := a.Ingest.Apply(r.Context(), t.ID, changes)
	if err != nil {
		log.Error("batch not applied", "err", err, "changes", len(changes))
		return http.StatusServiceUnavailable, mustJSON(ErrorBody{Error: "changes could not be stored; nothing acknowledged, retry the batch"})
	}
	res.Rejected = append(res.Rejected, rejected...)
	sort.Slice(res.Rejected, func(i, j int) bool { return res.Rejected[i].Index < res.Rejected[j].Index })
	if len(res.Rejected) > 0 {
		log.Info("batch items rejected", "accepted", res.Accepted, "rejected", len(res.Rejected),
			"first_field", res.Rejected[0].Field, "first_error", res.Rejected[0].Error)
	}
	if a.Observer != nil {
		a.Observer(t.ID, res, time.Now())
	}
	return http.StatusAccepted, mustJSON(res)
}

func currencyOf(t domain.Tenant) string {
	if t.Currency != "" {
		return t.Currency
	}
	return "BRL"
}

func mustJSON(v any) []byte {
	var buf bytes.Buffer
	_ = json.NewEncoder(&buf).Encode(v)
	return buf.Bytes()
}

func writeRaw(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
