package engine

import (
	"strings"
	gosync "sync"
)

// FolderSettingsChanged tells the engine that the folder settings of user
// changed (deviceID "" = the account-wide ones, which concern every device
// of the user): held Pings of those devices answer that a FolderSync is
// needed. Changes made by another process (`easbridge folders`) are seen
// at the devices' next request, by the settings' generation.
func (e *Engine) FolderSettingsChanged(user, deviceID string) {
	e.folders.bump(user, deviceID)
}

// folderState is the engine's in-memory part of folder settings: the
// channels held Pings wait on, and each device's computed view, valid
// while the user's settings generation, the folder list and the class
// switches are those it was computed with.
type folderState struct {
	mu    gosync.Mutex
	ch    map[string]chan struct{} // user + "\x00" + device -> closed on change
	views map[string]cachedView    // user + "\x00" + device
}

type cachedView struct {
	gen     int
	classes Classes
	v       *deviceView
}

func notifyKey(user, deviceID string) string { return strings.ToLower(user) + "\x00" + deviceID }

// changed returns a channel closed when the settings of the device change.
func (f *folderState) changed(user, deviceID string) <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ch == nil {
		f.ch = map[string]chan struct{}{}
	}
	k := notifyKey(user, deviceID)
	c, ok := f.ch[k]
	if !ok {
		c = make(chan struct{})
		f.ch[k] = c
	}
	return c
}

func (f *folderState) bump(user, deviceID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	prefix := notifyKey(user, "")
	for k, c := range f.ch {
		if k == notifyKey(user, deviceID) || (deviceID == "" && strings.HasPrefix(k, prefix)) {
			close(c)
			delete(f.ch, k)
		}
	}
}

func (f *folderState) cached(user, deviceID string, gen int, cl Classes) *deviceView {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.views[notifyKey(user, deviceID)]
	if !ok || c.gen != gen || c.classes != cl {
		return nil
	}
	return c.v
}

func (f *folderState) keep(user, deviceID string, gen int, cl Classes, v *deviceView) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.views == nil {
		f.views = map[string]cachedView{}
	}
	f.views[notifyKey(user, deviceID)] = cachedView{gen: gen, classes: cl, v: v}
}

// forget drops the cached views of a user's devices (deviceID "": all).
func (f *folderState) forget(user, deviceID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	prefix := notifyKey(user, "")
	for k := range f.views {
		if k == notifyKey(user, deviceID) || (deviceID == "" && strings.HasPrefix(k, prefix)) {
			delete(f.views, k)
		}
	}
}
