package state

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"easbridge/server/eas"
)

func TestUpdateDevice(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)

	// Unknown and aborted: nothing stored.
	errNo := errors.New("no such device")
	_, err := s.UpdateDevice(ctx, "bob", "d1", func(d *eas.Device, found bool) error {
		if found || d.User != "bob" || d.ID != "d1" {
			t.Errorf("new device: %+v found=%v", d, found)
		}
		return errNo
	})
	if !errors.Is(err, errNo) {
		t.Fatalf("aborted update: %v", err)
	}
	if _, err := s.Device(ctx, "bob", "d1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("aborted update stored the device: %v", err)
	}

	// Created, with the fields of migration 2.
	want := testDevice("bob", "d1")
	want.AccessBy = "rule 2"
	want.WipeRequested = time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)
	want.WipeAcknowledged = time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	got, err := s.UpdateDevice(ctx, "bob", "d1", func(d *eas.Device, found bool) error {
		*d = want
		d.ID = "elsewhere" // the key does not move
		return nil
	})
	if err != nil || got != want {
		t.Fatalf("create: %+v, %v", got, err)
	}
	if d, err := s.Device(ctx, "bob", "d1"); err != nil || d != want {
		t.Fatalf("read back: %+v, %v\nwant %+v", d, err, want)
	}
	if _, err := s.Device(ctx, "bob", "elsewhere"); !errors.Is(err, ErrNotFound) {
		t.Error("fn moved the device")
	}

	// Changed: fn sees the stored device.
	got, err = s.UpdateDevice(ctx, "bob", "d1", func(d *eas.Device, found bool) error {
		if !found || *d != want {
			t.Errorf("update sees %+v found=%v", d, found)
		}
		d.Access, d.AccessBy = eas.AccessAllowed, eas.AccessByAdmin
		return nil
	})
	if err != nil || got.Access != eas.AccessAllowed || got.AccessBy != eas.AccessByAdmin || got.Model != want.Model {
		t.Fatalf("update: %+v, %v", got, err)
	}
	if _, err := s.UpdateDevice(ctx, "", "d1", func(*eas.Device, bool) error { return nil }); err == nil {
		t.Error("empty user accepted")
	}
}

// Concurrent read-modify-writes of one device lose nothing: each
// increments its own counter field; an administrator's block lands
// between them and survives.
func TestUpdateDeviceConcurrent(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	const workers, rounds = 4, 50
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for range rounds {
				_, err := s.UpdateDevice(ctx, "u", "phone", func(d *eas.Device, _ bool) error {
					if w%2 == 0 {
						d.PolicyKey++
					} else {
						d.PendingPolicyKey++
					}
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		time.Sleep(time.Millisecond)
		if _, err := s.UpdateDevice(ctx, "u", "phone", func(d *eas.Device, _ bool) error {
			d.Access, d.AccessBy = eas.AccessBlocked, eas.AccessByAdmin
			return nil
		}); err != nil {
			t.Error(err)
		}
	})
	wg.Wait()
	d, err := s.Device(ctx, "u", "phone")
	if err != nil {
		t.Fatal(err)
	}
	if d.PolicyKey != workers/2*rounds || d.PendingPolicyKey != workers/2*rounds {
		t.Errorf("counters %d and %d, want %d each: updates were lost", d.PolicyKey, d.PendingPolicyKey, workers/2*rounds)
	}
	if d.Access != eas.AccessBlocked || d.AccessBy != eas.AccessByAdmin {
		t.Errorf("block lost: %v by %q", d.Access, d.AccessBy)
	}
}

// Devices stored before migration 2 keep their access state: rules do not
// decide for them ("kept").
func TestMigration2KeepsDevices(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	db, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		t.Fatal(err)
	}
	if err := migrateSteps(ctx, db, migrations()[:1]); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO devices (user, device_id, type, user_agent, model, imei,
		friendly_name, os, os_language, phone_number, mobile_operator, protocol_version, policy_hash,
		policy_key, pending_policy_key, access, wipe, first_seen, last_seen, last_command)
		VALUES ('u', 'old', 'iPhone', '', '', '', '', '', '', '', '', '16.1', '', 1, 0, 0, 0, NULL, NULL, 'Sync')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	d, err := s.Device(ctx, "u", "old")
	if err != nil {
		t.Fatal(err)
	}
	if d.AccessBy != eas.AccessByKept || !d.AccessBy.Decided() || d.Access != eas.AccessAllowed || !d.WipeRequested.IsZero() {
		t.Errorf("migrated device: %+v", d)
	}
}

func TestDeleteSyncState(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	if err := s.PutDevice(ctx, testDevice("u", "d")); err != nil {
		t.Fatal(err)
	}
	for _, dev := range []string{"d", "other"} {
		if err := s.PutHierarchy(ctx, "u", dev, 0, 1, folders("Inbox")); err != nil {
			t.Fatal(err)
		}
		if err := s.PutCollection(ctx, "u", dev, "1", 0, 1, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteSyncState(ctx, "u", "d"); err != nil {
		t.Fatal(err)
	}
	if h, _ := s.Hierarchy(ctx, "u", "d"); h.Key != 0 {
		t.Errorf("hierarchy kept: %+v", h)
	}
	if c, _ := s.Collection(ctx, "u", "d", "1"); c.Key != 0 {
		t.Errorf("collection kept: %+v", c)
	}
	if _, err := s.Device(ctx, "u", "d"); err != nil {
		t.Errorf("device dropped: %v", err)
	}
	if h, _ := s.Hierarchy(ctx, "u", "other"); h.Key != 1 {
		t.Errorf("another device's state dropped: %+v", h)
	}
}

// BenchmarkSaveDevice is the device write at the end of every request:
// UpdateDevice (read, merge, write in one immediate transaction) against
// the blind PutDevice it replaced.
func BenchmarkSaveDevice(b *testing.B) {
	ctx := context.Background()
	s, _ := openTest(b)
	d := testDevice("u", "phone")
	if err := s.PutDevice(ctx, d); err != nil {
		b.Fatal(err)
	}
	b.Run("PutDevice", func(b *testing.B) {
		for b.Loop() {
			d.LastSeen = d.LastSeen.Add(time.Millisecond)
			if err := s.PutDevice(ctx, d); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("UpdateDevice", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.UpdateDevice(ctx, "u", "phone", func(d *eas.Device, _ bool) error {
				d.LastSeen = d.LastSeen.Add(time.Millisecond)
				return nil
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
