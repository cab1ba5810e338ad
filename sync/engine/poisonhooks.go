package engine

import (
	"context"
	"strconv"
	"strings"
)

// The poison hooks of the DAV and mail Sync (poison.go has the records).

// poisonStart loads the records and queues the items a Retry asked for.
func (d *davSync) poisonStart(ctx context.Context) {
	d.pz = d.s.poisonFor(ctx, d.deviceID, d.req, d.coll, d.fromPrev)
	for _, p := range d.pz.retries() {
		if _, ok := d.st.Pending[p]; !ok {
			d.st.Pending[p] = davPending{}
		}
	}
}

// poisonPrune drops set-aside items from the queue (their deletions still
// go out).
func (d *davSync) poisonPrune() {
	for p, x := range d.st.Pending {
		if !x.Deleted && d.pz.aside(p, x.ETag) {
			delete(d.st.Pending, p)
		}
	}
}

// poisonWindow sets the window's items aside when the device repeated its
// key PoisonTries times, and returns the rest of order (the deletions).
func (d *davSync) poisonWindow(order []string) []string {
	if d.pz == nil || !d.pz.repeated {
		return order
	}
	var items, keep []string
	for _, p := range order {
		if d.st.Pending[p].Deleted {
			keep = append(keep, p)
			continue
		}
		items = append(items, p)
	}
	d.pz.setAsideWindow(items, func(p string) string { return d.st.Pending[p].ETag })
	for _, p := range items {
		delete(d.st.Pending, p)
	}
	return keep
}

// poisonConvertFailed counts a failed conversion; the item stays queued
// until it is set aside.
func (d *davSync) poisonConvertFailed(p, etag string, err error) {
	d.s.e.log.Warn("engine: item not sent: conversion failed", "collection", d.coll, "path", p, "err", err)
	if !d.pz.fail(p, etag, PoisonConvert, err.Error()) {
		d.st.Pending[p] = davPending{ETag: etag}
	}
}

// poisonCommit counts the client's failed commands and stores the records.
func (d *davSync) poisonCommit(ctx context.Context) {
	if d.pz == nil {
		return
	}
	d.pz.clientResults(d.req, &d.res)
	if err := d.pz.b.save(ctx); err != nil {
		d.s.e.log.Warn("engine: store poison records", "err", err)
	}
}

// mailItem is the poison item name of a message.
func mailItem(uid uint32) string { return "uid:" + strconv.FormatUint(uint64(uid), 10) }

func mailItemUID(item string) (uint32, bool) {
	s, ok := strings.CutPrefix(item, "uid:")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 32)
	return uint32(n), err == nil && n > 0
}

// poisonStart loads the records and queues the messages a Retry asked for.
func (m *mailSync) poisonStart(ctx context.Context) {
	m.pz = m.s.poisonFor(ctx, m.deviceID, m.req, "imap:"+m.mailbox, m.fromPrev)
	for _, item := range m.pz.retries() {
		if uid, ok := mailItemUID(item); ok && !m.st.View.Has(uid) {
			m.st.dropAdd(uid)
			m.st.Adds = append([]uint32{uid}, m.st.Adds...)
		}
	}
}

// poisonAdds leaves set-aside messages out of the new messages to send;
// when the device repeated its key PoisonTries times, the whole window's
// new messages are set aside.
func (m *mailSync) poisonAdds(toFetch []uint32) []uint32 {
	if m.pz != nil && m.pz.repeated {
		items := make([]string, len(toFetch))
		for i, uid := range toFetch {
			items[i] = mailItem(uid)
		}
		m.pz.setAsideWindow(items, func(string) string { return "" })
		return nil
	}
	keep := toFetch[:0]
	for _, uid := range toFetch {
		if !m.pz.aside(mailItem(uid), "") {
			keep = append(keep, uid)
		}
	}
	return keep
}

// poisonConvertFailed counts a failed conversion; the message stays queued
// (last) until it is set aside.
func (m *mailSync) poisonConvertFailed(uid uint32, err error) {
	m.s.e.log.Warn("engine: message not sent: conversion failed", "mailbox", m.mailbox, "uid", uid, "err", err)
	if !m.pz.fail(mailItem(uid), "", PoisonConvert, err.Error()) {
		m.st.Adds = append(m.st.Adds, uid)
	}
}

// poisonCommit counts the client's failed commands and stores the records.
func (m *mailSync) poisonCommit(ctx context.Context) {
	if m.pz == nil {
		return
	}
	m.pz.clientResults(m.req, &m.res)
	if err := m.pz.b.save(ctx); err != nil {
		m.s.e.log.Warn("engine: store poison records", "err", err)
	}
}
