package imapsource

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"easbridge/server/eas"
	"easbridge/sync/source"
)

// Folder keys.
const (
	// KeyPrefix starts the key of every mailbox: "imap:" + mailbox name.
	KeyPrefix = "imap:"
	// OutboxKey is the key of the virtual Outbox folder.
	OutboxKey = "imap-outbox:"
)

// Outbox is the virtual Outbox folder every Account lists.
func Outbox() source.Folder {
	return source.Folder{Key: OutboxKey, Name: "Outbox", Type: eas.FolderOutbox}
}

// Folders lists the mailboxes (LIST "" "*", RFC 3501 §6.3.8, with RETURN
// (SPECIAL-USE) when the server has SPECIAL-USE and LIST-EXTENDED, RFC 6154
// §2 and RFC 5258) plus the virtual Outbox.
func (a *Account) Folders(ctx context.Context) ([]source.Folder, error) {
	var t *tree
	err := a.WithConn(ctx, func(c *imapclient.Client) error {
		var err error
		t, err = listTree(c)
		return err
	})
	if err != nil {
		return nil, mapErr(ctx, "list", err)
	}
	return t.folders(), nil
}

// CreateFolder creates a mailbox (CREATE, RFC 3501 §6.3.3) under parentKey
// and subscribes to it (SUBSCRIBE, §6.3.6). Only mail folder types (1, 12)
// can be created; the new folder is reported as type 12.
func (a *Account) CreateFolder(ctx context.Context, parentKey, name string, typ eas.FolderType) (source.Folder, error) {
	const op = "create folder"
	if typ != eas.FolderUserGeneric && typ != eas.FolderUserMail {
		return source.Folder{}, fmt.Errorf("imapsource: %s: type %v: %w", op, typ, eas.ErrNotSupported)
	}
	parent, err := parentName(op, parentKey)
	if err != nil {
		return source.Folder{}, err
	}
	var f source.Folder
	err = a.WithConn(ctx, func(c *imapclient.Client) error {
		t, err := listTree(c)
		if err != nil {
			return err
		}
		delim, err := t.delimiter(c)
		if err != nil {
			return err
		}
		if parent != "" {
			p := t.lookup(parent)
			if p == nil {
				return fmt.Errorf("imapsource: %s: parent %q: %w", op, parent, eas.ErrNotFound)
			}
			if delim == 0 {
				return fmt.Errorf("imapsource: %s: server has a flat mailbox namespace: %w", op, eas.ErrNotSupported)
			}
			parent = p.name
		}
		if err := checkName(op, name, delim); err != nil {
			return err
		}
		full := join(parent, delim, name)
		if b := t.lookup(full); b != nil && !b.noselect {
			return fmt.Errorf("imapsource: %s: %q: %w", op, full, eas.ErrExists)
		}
		if err := c.Create(full, nil).Wait(); err != nil {
			return mapErr(ctx, fmt.Sprintf("%s %q", op, full), err)
		}
		if err := c.Subscribe(full).Wait(); err != nil {
			a.log.Warn("imapsource: subscribe after create failed", "mailbox", full, "err", err)
		}
		f = source.Folder{Key: KeyPrefix + full, Name: name, Type: eas.FolderUserMail}
		if parent != "" {
			f.ParentKey = KeyPrefix + parent
		}
		return nil
	})
	if err != nil {
		return source.Folder{}, mapErr(ctx, op, err)
	}
	a.log.Info("imapsource: created mailbox", "key", f.Key)
	return f, nil
}

// RenameFolder renames or moves a mailbox (RENAME, RFC 3501 §6.3.5). The
// key changes with the name, and so do the keys of its subfolders.
// Subscriptions follow the new names.
func (a *Account) RenameFolder(ctx context.Context, key, newParentKey, newName string) (source.Folder, error) {
	const op = "rename folder"
	old, err := mailboxName(op, key)
	if err != nil {
		return source.Folder{}, err
	}
	newParent, err := parentName(op, newParentKey)
	if err != nil {
		return source.Folder{}, err
	}
	var f source.Folder
	err = a.WithConn(ctx, func(c *imapclient.Client) error {
		t, err := listTree(c)
		if err != nil {
			return err
		}
		b := t.lookup(old)
		if b == nil {
			return fmt.Errorf("imapsource: %s: %q: %w", op, old, eas.ErrNotFound)
		}
		if b.special {
			return fmt.Errorf("imapsource: %s: %q: %w", op, old, eas.ErrSpecialFolder)
		}
		delim, err := t.delimiter(c)
		if err != nil {
			return err
		}
		if err := checkName(op, newName, delim); err != nil {
			return err
		}
		if newParent != "" {
			p := t.lookup(newParent)
			if p == nil {
				return fmt.Errorf("imapsource: %s: parent %q: %w", op, newParent, eas.ErrNotFound)
			}
			if delim == 0 {
				return fmt.Errorf("imapsource: %s: server has a flat mailbox namespace: %w", op, eas.ErrNotSupported)
			}
			if p.name == b.name || isBelow(p.name, b.name, delim) {
				return fmt.Errorf("imapsource: %s: cannot move %q into itself: %w", op, b.name, eas.ErrNotSupported)
			}
			newParent = p.name
		}
		full := join(newParent, delim, newName)
		f = source.Folder{Key: KeyPrefix + full, Name: newName, Type: b.typ}
		if newParent != "" {
			f.ParentKey = KeyPrefix + newParent
		}
		if full == b.name {
			return nil // nothing to do
		}
		if x := t.lookup(full); x != nil {
			return fmt.Errorf("imapsource: %s: %q: %w", op, full, eas.ErrExists)
		}
		if err := c.Rename(b.name, full, nil).Wait(); err != nil {
			return mapErr(ctx, fmt.Sprintf("%s %q to %q", op, b.name, full), err)
		}
		// RFC 3501 §6.3.5 leaves subscriptions alone; move them along.
		var subs, unsubs []string
		for _, m := range append([]*mailbox{b}, t.below(b.name)...) {
			subs = append(subs, full+strings.TrimPrefix(m.name, b.name))
			unsubs = append(unsubs, m.name)
		}
		a.subscribe(c, subs, true)
		a.subscribe(c, unsubs, false)
		return nil
	})
	if err != nil {
		return source.Folder{}, mapErr(ctx, op, err)
	}
	a.log.Info("imapsource: renamed mailbox", "old", key, "new", f.Key)
	return f, nil
}

// DeleteFolder deletes a mailbox and everything below it, deepest first
// (DELETE, RFC 3501 §6.3.4), and drops their subscriptions.
func (a *Account) DeleteFolder(ctx context.Context, key string) error {
	const op = "delete folder"
	name, err := mailboxName(op, key)
	if err != nil {
		return err
	}
	err = a.WithConn(ctx, func(c *imapclient.Client) error {
		t, err := listTree(c)
		if err != nil {
			return err
		}
		b := t.lookup(name)
		if b == nil {
			return fmt.Errorf("imapsource: %s: %q: %w", op, name, eas.ErrNotFound)
		}
		if b.special {
			return fmt.Errorf("imapsource: %s: %q: %w", op, b.name, eas.ErrSpecialFolder)
		}
		victims := t.below(b.name)
		for _, m := range victims {
			if m.special {
				return fmt.Errorf("imapsource: %s: %q holds special folder %q: %w", op, b.name, m.name, eas.ErrSpecialFolder)
			}
		}
		// Deepest first: a parent with children cannot always be deleted.
		sort.SliceStable(victims, func(i, j int) bool {
			return strings.Count(victims[i].name, string(victims[i].delim)) > strings.Count(victims[j].name, string(victims[j].delim))
		})
		victims = append(victims, b)
		var gone []string
		for _, m := range victims {
			err := c.Delete(m.name).Wait()
			var ie *imap.Error
			if err != nil && errors.As(err, &ie) && ie.Code == imap.ResponseCodeNonExistent && (m != b || m.noselect) {
				err = nil // already gone, or a placeholder that vanished with its last child
			}
			if err != nil {
				a.subscribe(c, gone, false)
				return mapErr(ctx, fmt.Sprintf("%s %q", op, m.name), err)
			}
			gone = append(gone, m.name)
		}
		a.subscribe(c, gone, false)
		return nil
	})
	if err != nil {
		return mapErr(ctx, op, err)
	}
	a.log.Info("imapsource: deleted mailbox", "key", key)
	return nil
}

// subscribe pipelines SUBSCRIBE or UNSUBSCRIBE for names; failures are
// logged, not returned: subscriptions only matter to other IMAP clients.
func (a *Account) subscribe(c *imapclient.Client, names []string, on bool) {
	cmds := make([]*imapclient.Command, len(names))
	for i, n := range names {
		if on {
			cmds[i] = c.Subscribe(n)
		} else {
			cmds[i] = c.Unsubscribe(n)
		}
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			a.log.Debug("imapsource: (un)subscribe failed", "mailbox", names[i], "subscribe", on, "err", err)
		}
	}
}

// mailboxName returns the mailbox name of a folder key.
func mailboxName(op, key string) (string, error) {
	switch {
	case key == OutboxKey:
		return "", fmt.Errorf("imapsource: %s: the Outbox is virtual: %w", op, eas.ErrSpecialFolder)
	case !source.Owns(KeyPrefix, key) || key == KeyPrefix:
		return "", fmt.Errorf("imapsource: %s: key %q: %w", op, key, eas.ErrNotFound)
	}
	return key[len(KeyPrefix):], nil
}

// parentName returns the mailbox name of a parent key, "" for top level.
func parentName(op, key string) (string, error) {
	switch {
	case key == "":
		return "", nil
	case key == OutboxKey:
		return "", fmt.Errorf("imapsource: %s: the Outbox cannot hold folders: %w", op, eas.ErrNotSupported)
	case !source.Owns(KeyPrefix, key) || key == KeyPrefix:
		return "", fmt.Errorf("imapsource: %s: parent key %q: %w", op, key, eas.ErrNotFound)
	}
	return key[len(KeyPrefix):], nil
}

// checkName rejects names the server should never see.
func checkName(op, name string, delim rune) error {
	switch {
	case strings.TrimSpace(name) == "":
		return invalidName(op, "empty name")
	case !utf8.ValidString(name):
		return invalidName(op, "name is not valid UTF-8")
	case delim != 0 && strings.ContainsRune(name, delim):
		return invalidName(op, "name %q contains the hierarchy delimiter %q", name, delim)
	case strings.ContainsAny(name, "*%"): // LIST wildcards, RFC 3501 §6.3.8
		return invalidName(op, "name %q contains a LIST wildcard (* or %%)", name)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return invalidName(op, "name %q contains a control character", name)
	}
	return nil
}

func join(parent string, delim rune, name string) string {
	if parent == "" {
		return name
	}
	return parent + string(delim) + name
}

// isBelow reports whether name is a descendant of ancestor.
func isBelow(name, ancestor string, delim rune) bool {
	return delim != 0 && strings.HasPrefix(name, ancestor+string(delim))
}

// canonical spells INBOX in upper case: the name is case-insensitive (RFC
// 3501 §5.1), the names below it are not.
func canonical(name string) string {
	if strings.EqualFold(name, "INBOX") {
		return "INBOX"
	}
	return name
}
