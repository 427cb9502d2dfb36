package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ponte-hub/ponte/internal/secrets/keys"
	"github.com/ponte-hub/ponte/internal/store"
)

// GetSecret implements platform.Secrets over values stored in plain text, for tests and
// tools that hold no keyring; the hub reads credentials through SealedSecrets. A sealed
// value is refused, never returned as if it were the credentials.
func (s *Store) GetSecret(ctx context.Context, ref string) (map[string]string, error) {
	data, err := s.secretRow(ctx, ref)
	if err != nil {
		return nil, err
	}
	if _, sealed := keys.KeyID(data); sealed {
		return nil, fmt.Errorf("get secret %s: sealed; read it with the keyring (SealedSecrets)", ref)
	}
	return decodeSecret(ref, []byte(data))
}

// PutSecret implements platform.Secrets, replacing all values under ref in plain text;
// the hub writes through SealedSecrets instead.
func (s *Store) PutSecret(ctx context.Context, ref string, values map[string]string) error {
	data, err := encodeSecret(ref, values)
	if err != nil {
		return err
	}
	return s.putSecretRow(ctx, ref, string(data))
}

// SealedSecrets implements platform.Secrets with every value sealed (AES-256-GCM) under
// a keyring, bound to its ref: a copy of state.db alone does not reveal credentials.
type SealedSecrets struct {
	store *Store
	ring  *keys.Keyring
}

// SealSecrets returns the store's credentials sealed under ring, after re-sealing, under
// ring's current key, every value stored in plain text or under an older key: a rotated
// key takes over at the first start that has it, and the old key may then be dropped.
// resealed counts the values rewritten.
func (s *Store) SealSecrets(ctx context.Context, ring *keys.Keyring) (sealed *SealedSecrets, resealed int, err error) {
	ss := &SealedSecrets{store: s, ring: ring}
	rows, err := s.queryR(ctx, `SELECT ref, data FROM secrets ORDER BY ref`)
	if err != nil {
		return nil, 0, fmt.Errorf("seal secrets: list: %w", err)
	}
	type row struct{ ref, data string }
	var stale []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.ref, &r.data); err != nil {
			rows.Close()
			return nil, 0, fmt.Errorf("seal secrets: list: %w", err)
		}
		if id, ok := keys.KeyID(r.data); !ok || id != ring.Current() {
			stale = append(stale, r)
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, 0, fmt.Errorf("seal secrets: list: %w", err)
	}
	for _, r := range stale {
		values, err := ss.open(r.ref, r.data)
		if err != nil {
			return nil, resealed, fmt.Errorf("seal secrets: %w", err)
		}
		data, err := ss.seal(r.ref, values)
		if err != nil {
			return nil, resealed, err
		}
		// Only if unchanged since read: a value written meanwhile is already sealed anew.
		if _, err := s.write.ExecContext(ctx, `UPDATE secrets SET data = ? WHERE ref = ? AND data = ?`, data, r.ref, r.data); err != nil {
			return nil, resealed, fmt.Errorf("seal secrets: rewrite %s: %w", r.ref, err)
		}
		resealed++
	}
	if resealed > 0 {
		// SQLite leaves a rewritten row's old bytes in free space and in the WAL: rebuild
		// the file and empty the WAL, so no plain-text credential (or value under a retired
		// key) survives on disk. Once per migration or rotation, at start.
		if _, err := s.write.ExecContext(ctx, `VACUUM`); err != nil {
			return nil, resealed, fmt.Errorf("seal secrets: vacuum: %w", err)
		}
		if _, err := s.write.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			return nil, resealed, fmt.Errorf("seal secrets: checkpoint: %w", err)
		}
	}
	return ss, resealed, nil
}

// GetSecret returns ref's values; store.ErrNotFound when there are none.
func (ss *SealedSecrets) GetSecret(ctx context.Context, ref string) (map[string]string, error) {
	data, err := ss.store.secretRow(ctx, ref)
	if err != nil {
		return nil, err
	}
	return ss.open(ref, data)
}

// PutSecret replaces ref's values, sealed under the keyring's current key.
func (ss *SealedSecrets) PutSecret(ctx context.Context, ref string, values map[string]string) error {
	data, err := ss.seal(ref, values)
	if err != nil {
		return err
	}
	return ss.store.putSecretRow(ctx, ref, data)
}

// aad binds a sealed value to its ref.
func aad(ref string) []byte { return []byte("ponte/secret/" + ref) }

func (ss *SealedSecrets) seal(ref string, values map[string]string) (string, error) {
	plain, err := encodeSecret(ref, values)
	if err != nil {
		return "", err
	}
	data, err := ss.ring.Seal(plain, aad(ref))
	if err != nil {
		return "", fmt.Errorf("seal secret %s: %w", ref, err)
	}
	return data, nil
}

// open reads a stored value: sealed, or plain text from before sealing (SealSecrets
// rewrites those at start).
func (ss *SealedSecrets) open(ref, data string) (map[string]string, error) {
	if _, sealed := keys.KeyID(data); !sealed {
		return decodeSecret(ref, []byte(data))
	}
	plain, err := ss.ring.Open(data, aad(ref))
	if err != nil {
		return nil, fmt.Errorf("secret %s: %w", ref, err)
	}
	return decodeSecret(ref, plain)
}

func (s *Store) secretRow(ctx context.Context, ref string) (string, error) {
	var data string
	err := s.scanRowR(ctx, `SELECT data FROM secrets WHERE ref = ?`, []any{ref}, &data)
	if errors.Is(err, sql.ErrNoRows) {
		// The ref is a name, not a value, so it is safe to put in the error.
		return "", fmt.Errorf("get secret %s: %w", ref, store.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("get secret %s: %w", ref, err)
	}
	return data, nil
}

func (s *Store) putSecretRow(ctx context.Context, ref, data string) error {
	if ref == "" {
		return fmt.Errorf("put secret: empty ref")
	}
	_, err := s.write.ExecContext(ctx,
		`INSERT INTO secrets (ref, data) VALUES (?, ?) ON CONFLICT (ref) DO UPDATE SET data = excluded.data`, ref, data)
	if err != nil {
		return fmt.Errorf("put secret %s: %w", ref, err)
	}
	return nil
}

func encodeSecret(ref string, values map[string]string) ([]byte, error) {
	if ref == "" {
		return nil, fmt.Errorf("put secret: empty ref")
	}
	b, err := json.Marshal(values)
	if err != nil {
		return nil, fmt.Errorf("put secret %s: encode: %w", ref, err)
	}
	return b, nil
}

// decodeSecret never quotes the value in its error: it holds credentials.
func decodeSecret(ref string, data []byte) (map[string]string, error) {
	var v map[string]string
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("secret %s: not a JSON object of strings", ref)
	}
	return v, nil
}
