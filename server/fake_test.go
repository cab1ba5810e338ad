package server

import (
	"context"
	"fmt"
	"strconv"
	gosync "sync"

	"easbridge/server/eas"
)

// fakeBackend is an in-memory Backend for the protocol tests: one user
// "alice"/"secret" with a fixed folder list, devices in a map.
type fakeBackend struct {
	mu      gosync.Mutex
	devices map[string]eas.Device
	policy  eas.Policy
	folders []eas.Folder
	key     map[string]int // FolderSync key per device
	oof     eas.Oof
	logins  int
	// items is the item side (Sync, ItemOperations, …): fake_items_test.go.
	items *fakeItems
}

func newFakeBackend() *fakeBackend {
	return &fakeBackend{
		devices: map[string]eas.Device{},
		policy:  eas.DefaultPolicy(),
		key:     map[string]int{},
		items:   newFakeItems(),
		folders: []eas.Folder{
			{ServerID: "1", ParentID: "0", DisplayName: "Inbox", Type: eas.FolderInbox},
			{ServerID: "2", ParentID: "0", DisplayName: "Sent", Type: eas.FolderSentItems},
			{ServerID: "3", ParentID: "1", DisplayName: "Lists", Type: eas.FolderUserMail},
		},
	}
}

func (b *fakeBackend) Login(ctx context.Context, user, password string) (Session, error) {
	b.mu.Lock()
	b.logins++
	b.mu.Unlock()
	if (user != "alice" && user != "alice@example.test") || password != "secret" {
		return nil, fmt.Errorf("fake: %w", eas.ErrAuthFailed)
	}
	return &fakeSession{b: b}, nil
}

func (b *fakeBackend) Devices() DeviceStore { return b }

func (b *fakeBackend) Policy(ctx context.Context, user, deviceID string) (eas.Policy, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.policy, nil
}

func (b *fakeBackend) Device(ctx context.Context, user, id string) (eas.Device, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	d, ok := b.devices[user+"/"+id]
	if !ok {
		return d, eas.ErrNotFound
	}
	return d, nil
}

func (b *fakeBackend) PutDevice(ctx context.Context, d eas.Device) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.devices[d.User+"/"+d.ID] = d
	return nil
}

func (b *fakeBackend) UpdateDevice(ctx context.Context, user, id string, fn func(*eas.Device, bool) error) (eas.Device, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	d, found := b.devices[user+"/"+id]
	if !found {
		d = eas.Device{User: user, ID: id}
	}
	if err := fn(&d, found); err != nil {
		return eas.Device{}, err
	}
	d.User, d.ID = user, id
	b.devices[user+"/"+id] = d
	return d, nil
}

func (b *fakeBackend) device(id string) eas.Device {
	d, _ := b.Device(context.Background(), "alice@example.test", id)
	return d
}

func (b *fakeBackend) setDevice(id string, f func(*eas.Device)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	d := b.devices["alice@example.test/"+id]
	f(&d)
	b.devices["alice@example.test/"+id] = d
}

type fakeSession struct{ b *fakeBackend }

func (s *fakeSession) User() string        { return "alice@example.test" }
func (s *fakeSession) Email() string       { return "alice@example.test" }
func (s *fakeSession) DisplayName() string { return "Alice" }

func (s *fakeSession) FolderSync(ctx context.Context, dev, key string) (eas.FolderChanges, error) {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	switch {
	case key == "0":
		s.b.key[dev] = 1
		return eas.FolderChanges{SyncKey: "1", Adds: s.b.folders}, nil
	case key == strconv.Itoa(s.b.key[dev]) && key != "0":
		return eas.FolderChanges{SyncKey: key}, nil
	}
	return eas.FolderChanges{}, fmt.Errorf("fake: %w", eas.ErrInvalidSyncKey)
}

func (s *fakeSession) FolderCreate(ctx context.Context, dev, key, parent, name string, t eas.FolderType) (string, string, error) {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	if key != strconv.Itoa(s.b.key[dev]) {
		return "", "", eas.ErrInvalidSyncKey
	}
	for _, f := range s.b.folders {
		if f.DisplayName == name && f.ParentID == parent {
			return "", "", eas.ErrExists
		}
	}
	id := strconv.Itoa(len(s.b.folders) + 1)
	s.b.folders = append(s.b.folders, eas.Folder{ServerID: id, ParentID: parent, DisplayName: name, Type: t})
	s.b.key[dev]++
	return strconv.Itoa(s.b.key[dev]), id, nil
}

func (s *fakeSession) FolderUpdate(ctx context.Context, dev, key, id, parent, name string) (string, error) {
	if id == "1" {
		return "", eas.ErrSpecialFolder
	}
	return "", eas.ErrNotFound
}

func (s *fakeSession) FolderDelete(ctx context.Context, dev, key, id string) (string, error) {
	return "", eas.ErrSpecialFolder
}

func (s *fakeSession) Oof(ctx context.Context) (eas.Oof, error) {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	return s.b.oof, nil
}

func (s *fakeSession) SetOof(ctx context.Context, o eas.Oof) error {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	s.b.oof = o
	return nil
}
