package state

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"easbridge/server/eas"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// busyTimeoutMS is how long a connection waits for a lock held by another
// connection (in practice another process on the same file: in-process writes
// are already serialised by the single writer connection) before failing with
// SQLITE_BUSY. Our transactions take well under a millisecond (see
// docs/BENCHMARKS.md, "State store (SQLite)"), so 5 s only runs out when
// something else holds the file locked, and it still fails inside an EAS
// request's lifetime rather than hanging it.
const busyTimeoutMS = 5000

// SQLite is the Store kept in one SQLite database file (modernc.org/sqlite,
// pure Go, no cgo).
//
// It holds two pools on the same file: a single writer connection, whose
// transactions begin with BEGIN IMMEDIATE (_txlock=immediate) so that a
// read-check-write such as PutCollection's key comparison holds the write
// lock from its first read, and a pool of query_only reader connections. In
// WAL mode readers never block the writer nor each other, and each reader
// statement sees the last committed state.
type SQLite struct {
	w *sql.DB // one connection, BEGIN IMMEDIATE
	r *sql.DB // query_only connections
}

var _ Store = (*SQLite)(nil)

// OpenSQLite opens (creating it, and its parent directory, if needed) the
// state database at path and brings its schema up to date. It fails if the
// file was written by a newer easbridge whose schema this build does not
// know, or is not an easbridge state database.
func OpenSQLite(ctx context.Context, path string) (*SQLite, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("state: open %s: %w", path, err)
	}
	// The database holds device identities and policy keys: keep it to the
	// owner. SQLite creates the -wal and -shm files with the database file's
	// permissions, so creating the file first with 0600 covers them too.
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("state: open %s: create directory: %w", abs, err)
	}
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("state: open %s: %w", abs, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("state: open %s: %w", abs, err)
	}

	w, err := sql.Open("sqlite", dsn(abs, true))
	if err != nil {
		return nil, fmt.Errorf("state: open %s: %w", abs, err)
	}
	// One writer: SQLite allows one write transaction at a time anyway, and
	// queueing in database/sql (which honours ctx) is cheaper than spinning
	// in the busy handler.
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)

	s := &SQLite{w: w}
	if err := s.checkWAL(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("state: open %s: %w", abs, err)
	}
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("state: open %s: %w", abs, err)
	}

	r, err := sql.Open("sqlite", dsn(abs, false))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("state: open %s: %w", abs, err)
	}
	// Reads are short indexed lookups and modernc's SQLite runs on the
	// calling goroutine, so more readers than Ps buy nothing; the floor of 2
	// keeps a slow Devices scan from stalling every other read on a 1-P box.
	n := max(2, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	r.SetConnMaxLifetime(0)
	r.SetConnMaxIdleTime(0)
	if err := r.PingContext(ctx); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("state: open %s: readers: %w", abs, err)
	}
	s.r = r
	return s, nil
}

// dsn is the modernc.org/sqlite data source name for the database at the
// absolute path abs, for the writer or for a reader connection.
//
//   - busy_timeout: see busyTimeoutMS; first, so that the pragmas after it
//     wait for locks too (the driver runs it first whatever the order).
//   - journal_mode(WAL): readers and the writer do not block each other, and
//     a commit is one append to the -wal file. Persistent in the file, so
//     only the writer sets it (before any reader opens).
//   - synchronous(NORMAL): in WAL mode SQLite then syncs only at checkpoints,
//     not at each commit. A commit that returned is in the -wal file through
//     write(2), hence in the OS page cache: it survives the process being
//     killed (TestCrashRecovery kills it with SIGKILL), and the database is
//     never corrupted. What a power loss or kernel crash can take back are
//     the last transactions since the previous checkpoint; for sync state the
//     cost is a client told its SyncKey is invalid and resyncing, which is
//     the price we pay for commits not waiting on fsync (FULL would sync the
//     WAL at every commit). https://sqlite.org/pragma.html#pragma_synchronous
//   - foreign_keys(1): off by default in SQLite; on so that any reference a
//     later migration declares is enforced.
//   - _txlock=immediate (a modernc.org/sqlite parameter, not a pragma): every
//     non-read-only transaction begins with BEGIN IMMEDIATE, taking the write
//     lock up front. A deferred transaction that reads and then writes can
//     fail with SQLITE_BUSY without waiting (its snapshot is stale once
//     another writer committed) instead of obeying busy_timeout.
//   - readers get query_only(1): a bug that writes through the read pool
//     fails instead of bypassing the writer's lock discipline.
//
// The path is percent-encoded: with the "file:" prefix SQLite parses the
// name as a URI (https://sqlite.org/uri.html), where '?', '#' and '%' are
// special.
func dsn(abs string, writer bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout("+strconv.Itoa(busyTimeoutMS)+")")
	if writer {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Add("_pragma", "foreign_keys(1)")
		q.Set("_txlock", "immediate")
	} else {
		q.Add("_pragma", "query_only(1)")
	}
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // Windows: file:/C:/dir/state.db
	}
	return "file:" + (&url.URL{Path: p}).EscapedPath() + "?" + q.Encode()
}

// checkWAL fails unless the database is in WAL mode: journal_mode(WAL)
// silently keeps the old mode where WAL is not possible (for example a file
// system without shared memory), and the concurrency above relies on it.
func (s *SQLite) checkWAL(ctx context.Context) error {
	var mode string
	if err := s.w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("journal mode: %w", err)
	}
	if mode != "wal" {
		return fmt.Errorf("journal mode is %q, want \"wal\"", mode)
	}
	return nil
}

// Close closes the readers, then the writer: the last connection to close
// checkpoints the WAL into the database file and removes it.
func (s *SQLite) Close() error {
	var errR error
	if s.r != nil {
		errR = s.r.Close()
	}
	errW := s.w.Close()
	if err := errors.Join(errR, errW); err != nil {
		return fmt.Errorf("state: close: %w", err)
	}
	return nil
}

// write runs fn in one write transaction (BEGIN IMMEDIATE) on the writer and
// commits it if fn returns nil.
func (s *SQLite) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback() // fn's error is the one that matters
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Times are stored as Unix milliseconds (UTC), NULL for the zero time, and
// read back in UTC: sub-millisecond precision and the location are dropped.
func timeToDB(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

func timeFromDB(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMilli(v.Int64).UTC()
}

const deviceColumns = `user, device_id, type, user_agent, model, imei, friendly_name,
	os, os_language, phone_number, mobile_operator, protocol_version, policy_hash,
	policy_key, pending_policy_key, access, wipe, first_seen, last_seen, last_command,
	access_by, wipe_requested, wipe_acknowledged`

type scanner interface{ Scan(dest ...any) error }

func scanDevice(row scanner) (eas.Device, error) {
	var (
		d                    eas.Device
		version              string
		first, last          sql.NullInt64
		wipeReq, wipeAck     sql.NullInt64
		policyKey, pendingPK int64
		access, wipe         int
		accessBy             string
	)
	err := row.Scan(&d.User, &d.ID, &d.Type, &d.UserAgent, &d.Model, &d.IMEI, &d.FriendlyName,
		&d.OS, &d.OSLanguage, &d.PhoneNumber, &d.MobileOperator, &version, &d.PolicyHash,
		&policyKey, &pendingPK, &access, &wipe, &first, &last, &d.LastCommand,
		&accessBy, &wipeReq, &wipeAck)
	if err != nil {
		return eas.Device{}, err
	}
	d.ProtocolVersion = eas.Version(version)
	d.PolicyKey = uint32(policyKey)
	d.PendingPolicyKey = uint32(pendingPK)
	d.Access = eas.Access(access)
	d.Wipe = eas.Wipe(wipe)
	d.FirstSeen = timeFromDB(first)
	d.LastSeen = timeFromDB(last)
	d.AccessBy = eas.AccessBy(accessBy)
	d.WipeRequested = timeFromDB(wipeReq)
	d.WipeAcknowledged = timeFromDB(wipeAck)
	return d, nil
}

// Device returns a device; ErrNotFound when unknown.
func (s *SQLite) Device(ctx context.Context, user, deviceID string) (eas.Device, error) {
	row := s.r.QueryRowContext(ctx,
		`SELECT `+deviceColumns+` FROM devices WHERE user = ? AND device_id = ?`, user, deviceID)
	d, err := scanDevice(row)
	if errors.Is(err, sql.ErrNoRows) {
		return eas.Device{}, fmt.Errorf("state: device %s/%s: %w", user, deviceID, ErrNotFound)
	}
	if err != nil {
		return eas.Device{}, fmt.Errorf("state: device %s/%s: %w", user, deviceID, err)
	}
	return d, nil
}

// PutDevice inserts or replaces a device.
func (s *SQLite) PutDevice(ctx context.Context, d eas.Device) error {
	if d.User == "" || d.ID == "" {
		return fmt.Errorf("state: put device %q/%q: empty user or device id", d.User, d.ID)
	}
	if err := putDevice(ctx, s.w, d); err != nil {
		return fmt.Errorf("state: put device %s/%s: %w", d.User, d.ID, err)
	}
	return nil
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func putDevice(ctx context.Context, db execer, d eas.Device) error {
	_, err := db.ExecContext(ctx,
		`INSERT OR REPLACE INTO devices (`+deviceColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.User, d.ID, d.Type, d.UserAgent, d.Model, d.IMEI, d.FriendlyName,
		d.OS, d.OSLanguage, d.PhoneNumber, d.MobileOperator, string(d.ProtocolVersion), d.PolicyHash,
		int64(d.PolicyKey), int64(d.PendingPolicyKey), int(d.Access), int(d.Wipe),
		timeToDB(d.FirstSeen), timeToDB(d.LastSeen), d.LastCommand,
		string(d.AccessBy), timeToDB(d.WipeRequested), timeToDB(d.WipeAcknowledged))
	return err
}

// UpdateDevice reads a device, lets fn change it and writes it back, in one
// write transaction (BEGIN IMMEDIATE): two updates of the same device never
// interleave, so neither loses the other's change. When the device is
// unknown fn gets a Device with only User and ID set and found false; the
// device is created if fn returns nil. An error from fn aborts the update
// and is returned wrapped. The stored device is returned.
func (s *SQLite) UpdateDevice(ctx context.Context, user, deviceID string, fn func(d *eas.Device, found bool) error) (eas.Device, error) {
	if user == "" || deviceID == "" {
		return eas.Device{}, fmt.Errorf("state: update device %q/%q: empty user or device id", user, deviceID)
	}
	var out eas.Device
	err := s.write(ctx, func(tx *sql.Tx) error {
		d, err := scanDevice(tx.QueryRowContext(ctx,
			`SELECT `+deviceColumns+` FROM devices WHERE user = ? AND device_id = ?`, user, deviceID))
		found := err == nil
		switch {
		case errors.Is(err, sql.ErrNoRows):
			d = eas.Device{User: user, ID: deviceID}
		case err != nil:
			return err
		}
		if err := fn(&d, found); err != nil {
			return err
		}
		// The key cannot move: fn changes the device, not which one.
		d.User, d.ID = user, deviceID
		out = d
		return putDevice(ctx, tx, d)
	})
	if err != nil {
		return eas.Device{}, fmt.Errorf("state: update device %s/%s: %w", user, deviceID, err)
	}
	return out, nil
}

// Devices lists every device of every user, ordered by user then id (byte
// order, as Go compares strings).
func (s *SQLite) Devices(ctx context.Context) ([]eas.Device, error) {
	rows, err := s.r.QueryContext(ctx,
		`SELECT `+deviceColumns+` FROM devices ORDER BY user, device_id`)
	if err != nil {
		return nil, fmt.Errorf("state: devices: %w", err)
	}
	defer rows.Close()
	var ds []eas.Device
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, fmt.Errorf("state: devices: %w", err)
		}
		ds = append(ds, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("state: devices: %w", err)
	}
	return ds, nil
}

// DeleteDevice forgets a device, its hierarchy state and its collection
// states in one transaction. Deleting an unknown device is not an error
// (any state left under its id is still removed).
func (s *SQLite) DeleteDevice(ctx context.Context, user, deviceID string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{
			`DELETE FROM collections WHERE user = ? AND device_id = ?`,
			`DELETE FROM hierarchy WHERE user = ? AND device_id = ?`,
			`DELETE FROM devices WHERE user = ? AND device_id = ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, user, deviceID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("state: delete device %s/%s: %w", user, deviceID, err)
	}
	return nil
}

// DeleteSyncState drops a device's hierarchy and collection states in one
// transaction, keeping the device record.
func (s *SQLite) DeleteSyncState(ctx context.Context, user, deviceID string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{
			`DELETE FROM collections WHERE user = ? AND device_id = ?`,
			`DELETE FROM hierarchy WHERE user = ? AND device_id = ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, user, deviceID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("state: delete sync state of %s/%s: %w", user, deviceID, err)
	}
	return nil
}

// keysJSON encodes keys as a JSON array, bound as one parameter and expanded
// with json_each: no limit on the number of keys (SQLite caps bound
// parameters at 32766, https://sqlite.org/limits.html#max_variable_number).
func keysJSON(keys []string) (string, error) {
	b, err := json.Marshal(keys)
	return string(b), err
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// knownFolderIDs adds to ids the ServerIds already assigned to keys.
func knownFolderIDs(ctx context.Context, q querier, user, keysJS string, ids map[string]string) error {
	rows, err := q.QueryContext(ctx,
		`SELECT key, server_id FROM folder_ids
		WHERE user = ? AND key IN (SELECT value FROM json_each(?))`, user, keysJS)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k, id string
		if err := rows.Scan(&k, &id); err != nil {
			return err
		}
		ids[k] = id
	}
	return rows.Err()
}

// FolderIDs returns the ServerId of each source folder key of a user,
// assigning new ones to unknown keys. ServerIds are decimal numbers from a
// per-user counter starting at 1 ("0" is the ParentId of top-level folders)
// that only grows, so an id is never handed out twice, even after its key
// was renamed away.
//
// The common case, every key known, is answered by a reader without taking
// the write lock; otherwise one write transaction reads again and assigns.
func (s *SQLite) FolderIDs(ctx context.Context, user string, keys []string) (map[string]string, error) {
	ids := make(map[string]string, len(keys))
	if len(keys) == 0 {
		return ids, nil
	}
	keysJS, err := keysJSON(keys)
	if err != nil {
		return nil, fmt.Errorf("state: folder ids of %s: %w", user, err)
	}
	if err := knownFolderIDs(ctx, s.r, user, keysJS, ids); err != nil {
		return nil, fmt.Errorf("state: folder ids of %s: %w", user, err)
	}
	if allKnown(ids, keys) {
		return ids, nil
	}

	err = s.write(ctx, func(tx *sql.Tx) error {
		clear(ids)
		// Again, under the write lock: another writer may have assigned
		// some of them since.
		if err := knownFolderIDs(ctx, tx, user, keysJS, ids); err != nil {
			return err
		}
		var next int64
		err := tx.QueryRowContext(ctx,
			`SELECT next_id FROM folder_counters WHERE user = ?`, user).Scan(&next)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			next = 1
		case err != nil:
			return err
		}
		start := next
		for _, k := range keys {
			if _, ok := ids[k]; ok {
				continue
			}
			id := strconv.FormatInt(next, 10)
			if _, err := tx.ExecContext(ctx,
				`INSERT INTO folder_ids (user, key, server_id) VALUES (?, ?, ?)`, user, k, id); err != nil {
				return fmt.Errorf("assign %s to %q: %w", id, k, err)
			}
			ids[k] = id
			next++
		}
		if next == start {
			return nil
		}
		_, err = tx.ExecContext(ctx,
			`INSERT INTO folder_counters (user, next_id) VALUES (?, ?)
			ON CONFLICT (user) DO UPDATE SET next_id = excluded.next_id`, user, next)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("state: folder ids of %s: %w", user, err)
	}
	return ids, nil
}

func allKnown(ids map[string]string, keys []string) bool {
	for _, k := range keys {
		if _, ok := ids[k]; !ok {
			return false
		}
	}
	return true
}

// RenameFolderKey moves a ServerId from oldKey to newKey. ErrNotFound when
// oldKey has none. If newKey already had a ServerId (left from a folder that
// was deleted), that id is dropped, never to be reused, and newKey takes
// oldKey's.
func (s *SQLite) RenameFolderKey(ctx context.Context, user, oldKey, newKey string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		var id string
		err := tx.QueryRowContext(ctx,
			`SELECT server_id FROM folder_ids WHERE user = ? AND key = ?`, user, oldKey).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if oldKey == newKey {
			return nil
		}
		if _, err := tx.ExecContext(ctx,
			`DELETE FROM folder_ids WHERE user = ? AND key = ?`, user, newKey); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx,
			`UPDATE folder_ids SET key = ? WHERE user = ? AND key = ?`, newKey, user, oldKey)
		return err
	})
	if err != nil {
		return fmt.Errorf("state: rename folder key of %s from %q to %q: %w", user, oldKey, newKey, err)
	}
	return nil
}

// FolderKey returns the source key for a ServerId; ErrNotFound.
func (s *SQLite) FolderKey(ctx context.Context, user, serverID string) (string, error) {
	var key string
	err := s.r.QueryRowContext(ctx,
		`SELECT key FROM folder_ids WHERE user = ? AND server_id = ?`, user, serverID).Scan(&key)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("state: folder key of %s/%s: %w", user, serverID, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("state: folder key of %s/%s: %w", user, serverID, err)
	}
	return key, nil
}

// Hierarchy returns a device's hierarchy state; the zero value when none
// was stored.
func (s *SQLite) Hierarchy(ctx context.Context, user, deviceID string) (Hierarchy, error) {
	var (
		h          Hierarchy
		cur        string
		prev       sql.NullString
		prevKeyCol int64
		keyCol     int64
	)
	err := s.r.QueryRowContext(ctx,
		`SELECT key, folders, prev_key, prev_folders FROM hierarchy WHERE user = ? AND device_id = ?`,
		user, deviceID).Scan(&keyCol, &cur, &prevKeyCol, &prev)
	if errors.Is(err, sql.ErrNoRows) {
		return Hierarchy{}, nil
	}
	if err != nil {
		return Hierarchy{}, fmt.Errorf("state: hierarchy of %s/%s: %w", user, deviceID, err)
	}
	h.Key, h.PrevKey = int(keyCol), int(prevKeyCol)
	if err := json.Unmarshal([]byte(cur), &h.Folders); err != nil {
		return Hierarchy{}, fmt.Errorf("state: hierarchy of %s/%s: key %d: %w", user, deviceID, h.Key, err)
	}
	if prev.Valid {
		if err := json.Unmarshal([]byte(prev.String), &h.PrevFolders); err != nil {
			return Hierarchy{}, fmt.Errorf("state: hierarchy of %s/%s: key %d: %w", user, deviceID, h.PrevKey, err)
		}
	}
	return h, nil
}

// PutHierarchy stores a new current hierarchy state; the stored current
// becomes the previous. ErrStaleKey when the stored current key is not
// prevKey, except that prevKey 0 is always accepted: it starts a new chain
// (FolderSync with SyncKey 0), so the new state has no previous (PrevKey 0),
// and with newKey 1, the documented reset, the device's collection states are
// dropped in the same transaction.
func (s *SQLite) PutHierarchy(ctx context.Context, user, deviceID string, prevKey, newKey int, folders []eas.Folder) error {
	if newKey <= 0 {
		return fmt.Errorf("state: put hierarchy of %s/%s: key %d: keys start at 1", user, deviceID, newKey)
	}
	js, err := json.Marshal(folders)
	if err != nil {
		return fmt.Errorf("state: put hierarchy of %s/%s: %w", user, deviceID, err)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		if prevKey == 0 {
			if newKey == 1 {
				if _, err := tx.ExecContext(ctx,
					`DELETE FROM collections WHERE user = ? AND device_id = ?`, user, deviceID); err != nil {
					return err
				}
			}
			_, err := tx.ExecContext(ctx,
				`INSERT OR REPLACE INTO hierarchy (user, device_id, key, folders, prev_key, prev_folders)
				VALUES (?, ?, ?, ?, 0, NULL)`, user, deviceID, newKey, string(js))
			return err
		}
		var cur int64
		err := tx.QueryRowContext(ctx,
			`SELECT key FROM hierarchy WHERE user = ? AND device_id = ?`, user, deviceID).Scan(&cur)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: caller has %d, none stored", ErrStaleKey, prevKey)
		}
		if err != nil {
			return err
		}
		if int(cur) != prevKey {
			return fmt.Errorf("%w: caller has %d, stored %d", ErrStaleKey, prevKey, cur)
		}
		// The right-hand sides see the row as it was: the current moves to
		// prev_*.
		_, err = tx.ExecContext(ctx,
			`UPDATE hierarchy SET prev_key = key, prev_folders = folders, key = ?, folders = ?
			WHERE user = ? AND device_id = ?`, newKey, string(js), user, deviceID)
		return err
	})
	if err != nil {
		return fmt.Errorf("state: put hierarchy of %s/%s key %d: %w", user, deviceID, newKey, err)
	}
	return nil
}

// Collection returns the state of one collection of a device; the zero
// value when none. Data is never nil when Key is set, nor PrevData when
// PrevKey is (an empty blob reads back as an empty slice).
func (s *SQLite) Collection(ctx context.Context, user, deviceID, collectionID string) (Collection, error) {
	var (
		c            Collection
		key, prevKey int64
	)
	err := s.r.QueryRowContext(ctx,
		`SELECT key, data, prev_key, prev_data FROM collections
		WHERE user = ? AND device_id = ? AND collection_id = ?`,
		user, deviceID, collectionID).Scan(&key, &c.Data, &prevKey, &c.PrevData)
	if errors.Is(err, sql.ErrNoRows) {
		return Collection{}, nil
	}
	if err != nil {
		return Collection{}, fmt.Errorf("state: collection %s of %s/%s: %w", collectionID, user, deviceID, err)
	}
	c.Key, c.PrevKey = int(key), int(prevKey)
	// The driver reads an empty blob as nil; keep nil for "no state".
	if c.Data == nil {
		c.Data = []byte{}
	}
	if c.PrevKey != 0 && c.PrevData == nil {
		c.PrevData = []byte{}
	}
	return c, nil
}

// PutCollection advances a collection to newKey with data, keeping the
// stored current as previous. ErrStaleKey when the stored current key (0 when
// none) is not prevKey. Unlike PutHierarchy, prevKey 0 over a stored state is
// stale, not a reset: the engine resets a collection with DeleteCollection
// and then PutCollection(prevKey 0).
func (s *SQLite) PutCollection(ctx context.Context, user, deviceID, collectionID string, prevKey, newKey int, data []byte) error {
	if newKey <= 0 {
		return fmt.Errorf("state: put collection %s of %s/%s: key %d: keys start at 1", collectionID, user, deviceID, newKey)
	}
	if data == nil {
		data = []byte{} // data is NOT NULL; nil and empty read back alike
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		var cur int64
		err := tx.QueryRowContext(ctx,
			`SELECT key FROM collections WHERE user = ? AND device_id = ? AND collection_id = ?`,
			user, deviceID, collectionID).Scan(&cur)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if prevKey != 0 {
				return fmt.Errorf("%w: caller has %d, none stored", ErrStaleKey, prevKey)
			}
			_, err := tx.ExecContext(ctx,
				`INSERT INTO collections (user, device_id, collection_id, key, data, prev_key, prev_data)
				VALUES (?, ?, ?, ?, ?, 0, NULL)`, user, deviceID, collectionID, newKey, data)
			return err
		case err != nil:
			return err
		case int(cur) != prevKey:
			return fmt.Errorf("%w: caller has %d, stored %d", ErrStaleKey, prevKey, cur)
		}
		_, err = tx.ExecContext(ctx,
			`UPDATE collections SET prev_key = key, prev_data = data, key = ?, data = ?
			WHERE user = ? AND device_id = ? AND collection_id = ?`,
			newKey, data, user, deviceID, collectionID)
		return err
	})
	if err != nil {
		return fmt.Errorf("state: put collection %s of %s/%s key %d: %w", collectionID, user, deviceID, newKey, err)
	}
	return nil
}

// ReplaceCollection sets the current state to (newKey, data) when the
// stored current key is curKey, leaving the previous state untouched.
func (s *SQLite) ReplaceCollection(ctx context.Context, user, deviceID, collectionID string, curKey, newKey int, data []byte) error {
	if newKey <= 0 {
		return fmt.Errorf("state: replace collection %s of %s/%s: key %d: keys start at 1", collectionID, user, deviceID, newKey)
	}
	if data == nil {
		data = []byte{}
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			`UPDATE collections SET key = ?, data = ?
			WHERE user = ? AND device_id = ? AND collection_id = ? AND key = ?`,
			newKey, data, user, deviceID, collectionID, curKey)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("%w: caller has %d", ErrStaleKey, curKey)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("state: replace collection %s of %s/%s key %d: %w", collectionID, user, deviceID, newKey, err)
	}
	return nil
}

// DeleteCollection drops a collection's state; no error when there is none.
func (s *SQLite) DeleteCollection(ctx context.Context, user, deviceID, collectionID string) error {
	_, err := s.w.ExecContext(ctx,
		`DELETE FROM collections WHERE user = ? AND device_id = ? AND collection_id = ?`,
		user, deviceID, collectionID)
	if err != nil {
		return fmt.Errorf("state: delete collection %s of %s/%s: %w", collectionID, user, deviceID, err)
	}
	return nil
}

// Setting returns a per-user value; ErrNotFound when unset.
func (s *SQLite) Setting(ctx context.Context, user, name string) ([]byte, error) {
	var v []byte
	err := s.r.QueryRowContext(ctx,
		`SELECT value FROM settings WHERE user = ? AND name = ?`, user, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("state: setting %s of %s: %w", name, user, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("state: setting %s of %s: %w", name, user, err)
	}
	if v == nil {
		v = []byte{} // set, but empty: distinct from unset
	}
	return v, nil
}

// PutSetting stores a per-user value (nil is stored as empty).
func (s *SQLite) PutSetting(ctx context.Context, user, name string, value []byte) error {
	if value == nil {
		value = []byte{}
	}
	_, err := s.w.ExecContext(ctx,
		`INSERT INTO settings (user, name, value) VALUES (?, ?, ?)
		ON CONFLICT (user, name) DO UPDATE SET value = excluded.value`, user, name, value)
	if err != nil {
		return fmt.Errorf("state: put setting %s of %s: %w", name, user, err)
	}
	return nil
}
