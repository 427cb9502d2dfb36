package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/ingest"
	"github.com/ponte-hub/ponte/internal/store"
)

const maxIdempotencyKeyLen = 255

// postChanges is POST /v1/erp/changes.
func (a *API) postChanges(w http.ResponseWriter, r *http.Request, t domain.Tenant) {
	if !isJSONMediaType(r.Header.Get("Content-Type")) {
		writeError(w, http.StatusUnsupportedMediaType, "Content-Type", "must be application/json (UTF-8)")
		return
	}
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
// The in-progress claim is a lease renewed while fn runs, so a request cut off by a
// crash frees its key within one lease and the retry runs the batch (whose changes carry
// versions, so work the dead request already stored counts as duplicates, not twice).
func (a *API) idempotent(w http.ResponseWriter, r *http.Request, key string, body []byte, fn func() (int, []byte)) {
	ttl := a.IdempotencyTTL
	if ttl <= 0 {
		ttl = 24 * time.Hour
	}
	lease := a.IdempotencyLease
	if lease <= 0 {
		lease = 10 * time.Second
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	rec, claimed, err := a.Store.ClaimIdempotency(r.Context(), key, hash, lease)
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
			w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(time.Until(rec.ExpiresAt))))
			writeError(w, http.StatusConflict, "Idempotency-Key", "a request with this key is still in progress; retry shortly")
		default:
			w.Header().Set("Idempotent-Replayed", "true")
			writeRaw(w, rec.StatusCode, rec.Response)
		}
		return
	}
	stopRenewing := a.renewWhileRunning(r, key, rec.Owner, lease)
	status, resp := fn()
	stopRenewing()
	if status >= 500 {
		// Not applied (or not fully queued): let the retry run again.
		if err := a.Store.ReleaseIdempotency(r.Context(), key, rec.Owner); err != nil {
			logger(r).Error("idempotency release failed", "err", err)
		}
	} else if err := a.Store.CompleteIdempotency(r.Context(), key, rec.Owner, status, resp, ttl); err != nil {
		// The answer stands (the batch was applied); a retry re-runs it as duplicates.
		logger(r).Warn("idempotency outcome not stored", "err", err)
	}
	writeRaw(w, status, resp)
}

// renewWhileRunning renews the claim every third of its lease until the returned stop is
// called, so a long batch keeps its key while a dead holder's key lapses within a lease.
func (a *API) renewWhileRunning(r *http.Request, key, owner string, lease time.Duration) (stop func()) {
	ctx, cancel := context.WithCancel(r.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(lease / 3)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if err := a.Store.RenewIdempotency(ctx, key, owner, lease); err != nil && ctx.Err() == nil {
					logger(r).Warn("idempotency lease not renewed", "err", err)
				}
			}
		}
	}()
	return func() { cancel(); <-done }
}

// retryAfterSeconds rounds a wait up to whole seconds, at least one.
func retryAfterSeconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	return max(s, 1)
}

// applyBatch decodes, validates and applies one batch and renders the answer.
func (a *API) applyBatch(r *http.Request, t domain.Tenant, body []byte) (int, []byte) {
	log := logger(r).With("tenant", t.ID)
	changes, rejected, err := ingest.Decode(body, currencyOf(t))
	if err != nil {
		var be *ingest.BatchError
		if errors.As(err, &be) {
			log.Info("batch refused", "reason", be.Msg)
			field := be.Field
			if field == "" {
				field = "body"
			}
			return http.StatusBadRequest, mustJSON(ErrorBody{Error: be.Msg, Field: field})
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

// isJSONMediaType accepts application/json, with no charset or charset=utf-8 (JSON is
// UTF-8, RFC 8259). Anything else, a missing header included, is not read as JSON: a
// form post or a text upload is the sender's mistake to hear about, not to guess at.
func isJSONMediaType(header string) bool {
	mt, params, err := mime.ParseMediaType(header)
	if err != nil || mt != "application/json" {
		return false
	}
	cs, ok := params["charset"]
	return !ok || strings.EqualFold(cs, "utf-8")
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
