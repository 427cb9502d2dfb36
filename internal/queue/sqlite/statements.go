package sqlite

// The statements on hot paths, prepared once when the broker opens: parsing SQL costs
// more than running these small statements.
const (
	sqlKeyed = `SELECT 1 FROM messages
		WHERE queue = ? AND key = ? AND key <> '' AND in_flight = 0 AND grp = ? LIMIT 1`
	sqlGrouped = `SELECT 1 FROM messages WHERE queue = ? AND grp = ? LIMIT 1`
	sqlInsert  = `INSERT INTO messages(queue, body, grp, key, sent_at, visible_at, head)
		VALUES(?, ?, ?, ?, ?, ?, ?)`
	sqlNextVisible = `SELECT MIN(visible_at) FROM messages
				WHERE queue = ? AND head = 1 AND visible_at > ?`
	sqlCandidates = `SELECT id, receive_count FROM messages
		WHERE queue = ? AND head = 1 AND visible_at <= ? ORDER BY visible_at, id LIMIT ?`
	sqlDeliver = `UPDATE messages SET receive_count = receive_count + 1, in_flight = 1,
		visible_at = ?, receipt = id || '.' || (receive_count + 1) || '.' || ?
		WHERE id IN (SELECT value FROM json_each(?))
		RETURNING id, body, grp, receipt, receive_count, sent_at`
	sqlDelete = `DELETE FROM messages WHERE id = ? AND queue = ? AND receipt = ?
			RETURNING grp, head`
	sqlHasReceipt = `SELECT 1 FROM messages WHERE id = ? AND queue = ? AND receipt = ?`
	sqlCopyDead   = `INSERT INTO dead_letters(id, queue, body, grp, key, reason, attempts, sent_at, dead_at)
		SELECT id, queue, body, grp, key, ?, receive_count, sent_at, ? FROM messages WHERE id = ?`
	sqlRemoveDead = `DELETE FROM messages WHERE id = ? RETURNING grp, head`
	sqlPromote    = `UPDATE messages SET head = 1 WHERE id =
		(SELECT id FROM messages WHERE queue = ? AND grp = ? ORDER BY id LIMIT 1)`
	sqlDeleteDead = `DELETE FROM dead_letters WHERE id = ?`
	sqlFollowers  = `SELECT id, receive_count, in_flight, visible_at FROM messages
		WHERE queue = ? AND grp = (SELECT grp FROM messages WHERE id = ?) AND id > ? ORDER BY id LIMIT ?`
)

var hotStatements = []string{sqlKeyed, sqlGrouped, sqlInsert, sqlNextVisible, sqlCandidates, sqlDeliver, sqlDelete, sqlHasReceipt, sqlCopyDead, sqlRemoveDead, sqlPromote, sqlDeleteDead, sqlFollowers}
