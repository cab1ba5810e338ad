package demo

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// mailboxDelim is the hierarchy delimiter of imapmemserver (unexported there).
const mailboxDelim = '/'

// mailStore is the demo user's mail: an imapmemserver.User plus the mailbox
// directory that imapmemserver does not expose.
//
// imapmemserver (v2.0.0-beta.8) keeps a special-use field per mailbox and
// prints it in LIST, but nothing sets it: User.Create ignores
// CreateOptions.SpecialUse. The demo therefore keeps its own directory of
// mailbox names, special-use attributes and subscriptions, updated by the
// session's CREATE/DELETE/RENAME/(UN)SUBSCRIBE, and answers LIST from it.
type mailStore struct {
	user    *imapmemserver.User
	address string

	// mu serialises directory changes with the matching imapmemserver call,
	// so that LIST never sees one without the other. Lock order: mu, then
	// imapmemserver's own locks.
	mu    sync.Mutex
	boxes map[string]*mailboxInfo
}

type mailboxInfo struct {
	specialUse []imap.MailboxAttr
	subscribed bool
}

// newMailStore creates the demo user with its mailboxes and seed messages.
func newMailStore(username, password, address string, now time.Time) (*mailStore, error) {
	s := &mailStore{
		user:    imapmemserver.NewUser(username, password),
		address: address,
		boxes:   make(map[string]*mailboxInfo),
	}
	mailboxes := []struct {
		name string
		attr imap.MailboxAttr
	}{
		{"INBOX", ""},
		{"Drafts", imap.MailboxAttrDrafts},
		{"Sent", imap.MailboxAttrSent},
		{"Trash", imap.MailboxAttrTrash},
		{"Junk", imap.MailboxAttrJunk},
		{"Archive", imap.MailboxAttrArchive},
		{"Projects", ""},
		{"Projects" + string(mailboxDelim) + "Garden", ""},
	}
	for _, mb := range mailboxes {
		var opts imap.CreateOptions
		if mb.attr != "" {
			opts.SpecialUse = []imap.MailboxAttr{mb.attr}
		}
		if err := s.create(mb.name, &opts); err != nil {
			return nil, fmt.Errorf("create mailbox %q: %w", mb.name, err)
		}
		if err := s.subscribe(mb.name, true); err != nil {
			return nil, fmt.Errorf("subscribe %q: %w", mb.name, err)
		}
	}
	msgs, err := seedMessages(address, now)
	if err != nil {
		return nil, err
	}
	for _, m := range msgs {
		if _, err := s.append(m.mailbox, m.raw, m.flags, m.date); err != nil {
			return nil, fmt.Errorf("append %q to %s: %w", m.subject, m.mailbox, err)
		}
	}
	return s, nil
}

// append stores a message in a mailbox.
func (s *mailStore) append(mailbox string, raw []byte, flags []imap.Flag, date time.Time) (*imap.AppendData, error) {
	return s.user.Append(mailbox, bytes.NewReader(raw), &imap.AppendOptions{Flags: flags, Time: date})
}

func (s *mailStore) create(name string, opts *imap.CreateOptions) error {
	name = strings.TrimRight(name, string(mailboxDelim))
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.user.Create(name, opts); err != nil {
		return err
	}
	info := &mailboxInfo{}
	if opts != nil {
		info.specialUse = slices.Clone(opts.SpecialUse)
	}
	s.boxes[name] = info
	return nil
}

func (s *mailStore) delete(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.user.Delete(name); err != nil {
		return err
	}
	delete(s.boxes, name)
	return nil
}

func (s *mailStore) rename(oldName, newName string, opts *imap.RenameOptions) error {
	newName = strings.TrimRight(newName, string(mailboxDelim))
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.user.Rename(oldName, newName, opts); err != nil {
		return err
	}
	if info := s.boxes[oldName]; info != nil {
		delete(s.boxes, oldName)
		s.boxes[newName] = info
	}
	return nil
}

func (s *mailStore) subscribe(name string, on bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	if on {
		err = s.user.Subscribe(name)
	} else {
		err = s.user.Unsubscribe(name)
	}
	if err != nil {
		return err
	}
	if info := s.boxes[name]; info != nil {
		info.subscribed = on
	}
	return nil
}

// list answers LIST and LSUB like imapmemserver does, plus the special-use
// attributes (always, as RFC 6154 allows) and \HasChildren/\HasNoChildren.
func (s *mailStore) list(w *imapserver.ListWriter, ref string, patterns []string, options *imap.ListOptions) error {
	if len(patterns) == 0 {
		return w.WriteList(&imap.ListData{
			Attrs: []imap.MailboxAttr{imap.MailboxAttrNoSelect},
			Delim: mailboxDelim,
		})
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	names := make([]string, 0, len(s.boxes))
	for name := range s.boxes {
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int {
		switch {
		case a == b:
			return 0
		case a == "INBOX":
			return -1
		case b == "INBOX":
			return 1
		}
		return strings.Compare(a, b)
	})

	for _, name := range names {
		info := s.boxes[name]
		if !slices.ContainsFunc(patterns, func(p string) bool {
			return imapserver.MatchList(name, mailboxDelim, ref, p)
		}) {
			continue
		}
		if options.SelectSubscribed && !info.subscribed {
			continue
		}
		if options.SelectSpecialUse && len(info.specialUse) == 0 {
			continue
		}

		data := imap.ListData{Mailbox: name, Delim: mailboxDelim}
		if info.subscribed && (options.SelectSubscribed || options.ReturnSubscribed) {
			data.Attrs = append(data.Attrs, imap.MailboxAttrSubscribed)
		}
		if s.hasChildrenLocked(name) {
			data.Attrs = append(data.Attrs, imap.MailboxAttrHasChildren)
		} else {
			data.Attrs = append(data.Attrs, imap.MailboxAttrHasNoChildren)
		}
		data.Attrs = append(data.Attrs, info.specialUse...)
		if options.ReturnStatus != nil {
			st, err := s.user.Status(name, options.ReturnStatus)
			if err != nil {
				continue // deleted behind our back: leave it out
			}
			data.Status = st
		}
		if err := w.WriteList(&data); err != nil {
			return err
		}
	}
	return nil
}

func (s *mailStore) hasChildrenLocked(name string) bool {
	prefix := name + string(mailboxDelim)
	for other := range s.boxes {
		if strings.HasPrefix(other, prefix) {
			return true
		}
	}
	return false
}

// newIMAPServer returns the IMAP server for the demo user. Plaintext
// authentication is allowed: the listener is on loopback only.
func (d *Demo) newIMAPServer() *imapserver.Server {
	return imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return &imapSession{store: d.mail}, nil, nil
		},
		// IMAP4rev2 implies NAMESPACE, UIDPLUS, MOVE, LIST-STATUS, CHILDREN
		// etc., which imapserver then also advertises to IMAP4rev1 clients.
		Caps: imap.CapSet{
			imap.CapIMAP4rev1:        {},
			imap.CapIMAP4rev2:        {},
			imap.CapSpecialUse:       {},
			imap.CapCreateSpecialUse: {},
		},
		Logger:       printfLogger{d.log.With("server", "imap")},
		InsecureAuth: true,
	})
}

// imapSession is an imapmemserver session whose mailbox-directory commands
// go through the mailStore.
type imapSession struct {
	*imapmemserver.UserSession // nil until login

	store *mailStore
}

var _ imapserver.SessionIMAP4rev2 = (*imapSession)(nil)

// Login implements imapserver.Session.
func (s *imapSession) Login(username, password string) error {
	if err := s.store.user.Login(username, password); err != nil {
		return err
	}
	s.UserSession = imapmemserver.NewUserSession(s.store.user)
	return nil
}

// Create implements imapserver.Session.
func (s *imapSession) Create(name string, options *imap.CreateOptions) error {
	return s.store.create(name, options)
}

// Delete implements imapserver.Session.
func (s *imapSession) Delete(name string) error { return s.store.delete(name) }

// Rename implements imapserver.Session.
func (s *imapSession) Rename(oldName, newName string, options *imap.RenameOptions) error {
	return s.store.rename(oldName, newName, options)
}

// Subscribe implements imapserver.Session.
func (s *imapSession) Subscribe(name string) error { return s.store.subscribe(name, true) }

// Unsubscribe implements imapserver.Session.
func (s *imapSession) Unsubscribe(name string) error { return s.store.subscribe(name, false) }

// List implements imapserver.Session.
func (s *imapSession) List(w *imapserver.ListWriter, ref string, patterns []string, options *imap.ListOptions) error {
	return s.store.list(w, ref, patterns, options)
}
