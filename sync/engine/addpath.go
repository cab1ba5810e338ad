package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
)

// addPath is where a client's Add is stored. With a ClientId the name
// comes from (user, device, collection, ClientId) rather than from the
// random UID of the converted object, so that an Add repeated after
// easbridge stored it but died before committing its state (killed between
// the PUT and the commit; found by the soak, docs/RELIABILITY.md) lands on
// the same path: its If-None-Match: * fails and the stored object is
// adopted instead of a duplicate being created. ClientIds identify one Add
// of one device in one collection (MS-ASCMD 2.2.3.28.2), which the
// state's ClientIDs map relies on already.
func (d *davSync) addPath(uid, clientID string) string {
	if clientID == "" {
		return d.items.NewPath(d.coll, uid)
	}
	sum := sha256.Sum256([]byte(d.s.l.user + "\x00" + d.deviceID + "\x00" + d.coll + "\x00" + clientID))
	return d.items.NewPath(d.coll, "eas-"+hex.EncodeToString(sum[:16]))
}

// adoptAdd returns the ETag of the object an earlier try of the same Add
// stored at p.
func (d *davSync) adoptAdd(ctx context.Context, p string) (string, bool) {
	objs, err := d.items.Get(ctx, d.coll, []string{p})
	if err != nil || len(objs) != 1 {
		return "", false
	}
	return objs[0].ETag, true
}
