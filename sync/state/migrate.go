package state

import (
	"context"
	"database/sql"
	"fmt"
)

// applicationID marks the file as an easbridge state database in its header
// (PRAGMA application_id, https://sqlite.org/fileformat.html#application_id):
// "EASB" in ASCII. A file carrying another non-zero id is refused.
const applicationID = 0x45415342

// migration is one schema step: its statements run in one write
// transaction that also sets PRAGMA user_version to version.
type migration struct {
	version int
	stmts   []string
}

// migrations are the schema steps in order; step i has version i+1. Never
// edit a released step: append a new one.
func migrations() []migration {
	return []migration{
		{version: 1, stmts: []string{
			`PRAGMA application_id = ` + fmt.Sprint(applicationID),
			// Times are Unix milliseconds, NULL for the zero time. There is
			// no foreign key from hierarchy and collections to devices: the
			// Store contract lets the engine store sync state before (or
			// without) PutDevice; DeleteDevice removes all three explicitly.
			`CREATE TABLE devices (
				user               TEXT    NOT NULL,
				device_id          TEXT    NOT NULL,
				type               TEXT    NOT NULL,
				user_agent         TEXT    NOT NULL,
				model              TEXT    NOT NULL,
				imei               TEXT    NOT NULL,
				friendly_name      TEXT    NOT NULL,
				os                 TEXT    NOT NULL,
				os_language        TEXT    NOT NULL,
				phone_number       TEXT    NOT NULL,
				mobile_operator    TEXT    NOT NULL,
				protocol_version   TEXT    NOT NULL,
				policy_hash        TEXT    NOT NULL,
				policy_key         INTEGER NOT NULL,
				pending_policy_key INTEGER NOT NULL,
				access             INTEGER NOT NULL,
				wipe               INTEGER NOT NULL,
				first_seen         INTEGER,
				last_seen          INTEGER,
				last_command       TEXT    NOT NULL,
				PRIMARY KEY (user, device_id)
			)`,
			// next_id is the next ServerId to hand out to the user; it only
			// grows, so ids are never reused.
			`CREATE TABLE folder_counters (
				user    TEXT    NOT NULL PRIMARY KEY,
				next_id INTEGER NOT NULL
			)`,
			`CREATE TABLE folder_ids (
				user      TEXT NOT NULL,
				key       TEXT NOT NULL,
				server_id TEXT NOT NULL,
				PRIMARY KEY (user, key),
				UNIQUE (user, server_id)
			)`,
			// folders and prev_folders are JSON arrays of eas.Folder;
			// prev_folders is NULL when prev_key is 0.
			`CREATE TABLE hierarchy (
				user         TEXT    NOT NULL,
				device_id    TEXT    NOT NULL,
				key          INTEGER NOT NULL,
				folders      TEXT    NOT NULL,
				prev_key     INTEGER NOT NULL,
				prev_folders TEXT,
				PRIMARY KEY (user, device_id)
			)`,
			// prev_data is NULL when prev_key is 0.
			`CREATE TABLE collections (
				user          TEXT    NOT NULL,
				device_id     TEXT    NOT NULL,
				collection_id TEXT    NOT NULL,
				key           INTEGER NOT NULL,
				data          BLOB    NOT NULL,
				prev_key      INTEGER NOT NULL,
				prev_data     BLOB,
				PRIMARY KEY (user, device_id, collection_id)
			)`,
			`CREATE TABLE settings (
				user  TEXT NOT NULL,
				name  TEXT NOT NULL,
				value BLOB NOT NULL,
				PRIMARY KEY (user, name)
			)`,
		}},
		// Access rules and wipe times (issue 8). Devices known before
		// this step keep their access state: a rule or default_access
		// added later does not decide for them ('kept').
		{version: 2, stmts: []string{
			`ALTER TABLE devices ADD COLUMN access_by TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE devices ADD COLUMN wipe_requested INTEGER`,
			`ALTER TABLE devices ADD COLUMN wipe_acknowledged INTEGER`,
			`UPDATE devices SET access_by = 'kept'`,
		}},
	}
}

// migrate brings the schema of db (the writer) up to the last known
// version, one transaction per step. Each step re-reads user_version under
// the write lock, so two processes opening the same file at once apply each
// step once. A database whose version is beyond the known steps was written
// by a newer build and is refused rather than used with a schema we do not
// know.
func migrate(ctx context.Context, db *sql.DB) error {
	return migrateSteps(ctx, db, migrations())
}

func migrateSteps(ctx context.Context, db *sql.DB, steps []migration) error {
	for i, m := range steps {
		if m.version != i+1 {
			return fmt.Errorf("migrate: step %d has version %d, want %d", i, m.version, i+1)
		}
	}
	latest := len(steps)
	for _, m := range steps {
		if err := applyStep(ctx, db, m, latest); err != nil {
			return fmt.Errorf("migrate to version %d: %w", m.version, err)
		}
	}
	// With every step already applied the loop above read the version; one
	// more check covers an empty step list.
	var v int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if v != latest {
		return fmt.Errorf("migrate: schema version is %d, this build knows versions up to %d", v, latest)
	}
	return nil
}

func applyStep(ctx context.Context, db *sql.DB, m migration, latest int) error {
	tx, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE on the writer
	if err != nil {
		return err
	}
	defer tx.Rollback() // after Commit, a no-op returning ErrTxDone

	var v, app int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return err
	}
	if err := tx.QueryRowContext(ctx, "PRAGMA application_id").Scan(&app); err != nil {
		return err
	}
	if app != 0 && app != applicationID {
		return fmt.Errorf("not an easbridge state database (application_id %#x, want %#x)", app, applicationID)
	}
	if v > latest {
		return fmt.Errorf("schema version %d is newer than this build knows (%d): written by a newer easbridge", v, latest)
	}
	if v >= m.version {
		return nil // applied before
	}
	if v != m.version-1 {
		return fmt.Errorf("schema version is %d, step needs %d", v, m.version-1)
	}
	for _, q := range m.stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	// PRAGMA does not take bound parameters; version is our own int.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", m.version)); err != nil {
		return err
	}
	return tx.Commit()
}
