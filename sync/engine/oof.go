package engine

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"easbridge/server/eas"
	"easbridge/sync/sieve"
	"easbridge/sync/state"
)

// Out of office (MS-ASCMD 2.2.1.18 Settings Oof) over ManageSieve.
//
// Implementation notes:
//   - The setting lives on the mail server, as a Sieve vacation script
//     (sync/sieve) uploaded with the account's remote login; nothing but a
//     status line for the window is kept here, so another client of the
//     same server sees the same setting.
//   - The user's own active script stays untouched and is included by
//     ours; turning the reply off makes it active again.
//   - Audiences: Internal = senders in the user's own domain. Sieve cannot
//     tell ExternalKnown (senders in the contacts) from ExternalUnknown, so
//     both become one External reply: ExternalUnknown's text when enabled,
//     else ExternalKnown's (then every external sender gets it). The
//     settings exactly as the phone sent them ride along in the script, so
//     Get returns what was set.
//   - No ManageSieve configured or reachable, or one without the vacation
//     extension: eas.SettingsStatusOofUnavailable, never a silent local
//     store.

// SieveConfig is where an account's ManageSieve server is.
type SieveConfig struct {
	// URL is sieve://host[:port]; "" means the account has none.
	URL string
	// TLS configures STARTTLS; nil means the system roots.
	TLS *tls.Config
}

// oofSettingName is the per-user setting with the last OOF status seen.
const oofSettingName = "oof.status"

// OofStatus is the last out-of-office state set or read for a user, for
// the window.
type OofStatus struct {
	User  string       `json:"user"`
	State eas.OofState `json:"state"`
	// Until is the end of a time-based reply.
	Until time.Time `json:"until,omitzero"`
	// Err says why the last Get or Set failed ("" when it worked).
	Err string `json:"err,omitempty"`
	// Unavailable is true when the account has no usable ManageSieve.
	Unavailable bool      `json:"unavailable,omitempty"`
	Updated     time.Time `json:"updated"`
}

// sieveTimeout bounds one whole Oof exchange with the ManageSieve server.
const sieveTimeout = 30 * time.Second

// errOofUnavailable carries the EAS status for "no out-of-office here".
func errOofUnavailable(format string, args ...any) error {
	return eas.Errorf(eas.SettingsStatusOofUnavailable, "engine: oof not available: "+format, args...)
}

// sieveClient opens an authenticated ManageSieve session for this login.
func (s *session) sieveClient(ctx context.Context) (*sieve.Client, error) {
	cfg := s.l.account.Sieve
	if cfg.URL == "" {
		return nil, errOofUnavailable("account %s has no ManageSieve server", s.l.account.Name)
	}
	ep, err := sieve.ParseURL(cfg.URL)
	if err != nil {
		return nil, errOofUnavailable("%v", err)
	}
	c, err := sieve.Dial(ctx, ep, sieve.Options{TLS: cfg.TLS, Timeout: sieveTimeout})
	if err != nil {
		var ne net.Error
		var oe *net.OpError
		if errors.As(err, &oe) || errors.As(err, &ne) {
			return nil, errOofUnavailable("%v", err)
		}
		return nil, fmt.Errorf("engine: oof: %w", err)
	}
	if !c.Capabilities().HasExtension("vacation") {
		c.Close()
		return nil, errOofUnavailable("%s has no Sieve vacation extension", ep.Addr)
	}
	if err := c.AuthenticatePlain(s.l.remote, s.l.password); err != nil {
		c.Close()
		return nil, fmt.Errorf("engine: oof: %w: %w", eas.ErrBackendUnavailable, err)
	}
	return c, nil
}

// Oof implements server.OofStore: it reads our vacation script back.
func (s *session) Oof(ctx context.Context) (eas.Oof, error) {
	ctx, cancel := context.WithTimeout(ctx, sieveTimeout)
	defer cancel()
	c, err := s.sieveClient(ctx)
	if err != nil {
		s.recordOof(ctx, eas.Oof{}, err)
		return eas.Oof{}, err
	}
	defer c.Logout()
	v, active, found, err := sieve.ReadVacation(c)
	if err != nil {
		err = fmt.Errorf("engine: oof get: %w", err)
		s.recordOof(ctx, eas.Oof{}, err)
		return eas.Oof{}, err
	}
	o := oofFromVacation(v, active, found)
	s.recordOof(ctx, o, nil)
	return o, nil
}

// SetOof implements server.OofStore: it writes and activates our vacation
// script, or turns it off and reactivates the user's own script.
func (s *session) SetOof(ctx context.Context, o eas.Oof) error {
	ctx, cancel := context.WithTimeout(ctx, sieveTimeout)
	defer cancel()
	c, err := s.sieveClient(ctx)
	if err != nil {
		s.recordOof(ctx, o, err)
		return err
	}
	defer c.Logout()
	if o.State == eas.OofDisabled {
		err = sieve.DisableVacation(c)
	} else {
		if len(o.Messages) == 0 {
			// A Set that only switches the state keeps the texts.
			if old, _, found, rerr := sieve.ReadVacation(c); rerr == nil && found {
				o.Messages = oofFromVacation(old, true, true).Messages
			}
		}
		var v sieve.Vacation
		if v, err = vacationFor(o, s.l.email); err == nil {
			err = sieve.EnableVacation(c, v)
		}
	}
	if errors.Is(err, sieve.ErrNoInclude) || errors.Is(err, sieve.ErrNoVacation) {
		err = errOofUnavailable("%v", err)
	}
	if err != nil {
		err = fmt.Errorf("engine: oof set: %w", err)
	}
	s.recordOof(ctx, o, err)
	return err
}

// vacationFor maps an EAS Oof to our Sieve vacation for the user address.
func vacationFor(o eas.Oof, email string) (sieve.Vacation, error) {
	extra, err := json.Marshal(o)
	if err != nil {
		return sieve.Vacation{}, err
	}
	v := sieve.Vacation{Addresses: []string{email}, Extra: extra}
	if _, dom, ok := strings.Cut(email, "@"); ok && dom != "localhost" {
		v.Domain = dom
	}
	if o.State == eas.OofTimeBased {
		v.Start, v.End = o.Start.UTC(), o.End.UTC()
	}
	reply := func(m eas.OofMessage) sieve.Reply {
		return sieve.Reply{Enabled: m.Enabled && m.ReplyMessage != "", Text: m.ReplyMessage, HTML: m.BodyType == "HTML"}
	}
	for _, m := range o.Messages {
		switch m.Audience {
		case eas.OofInternal:
			v.Internal = reply(m)
		case eas.OofExternalUnknown:
			if r := reply(m); r.Enabled {
				v.External = r // the wider audience wins
			}
		case eas.OofExternalKnown:
			if r := reply(m); r.Enabled && !v.External.Enabled {
				v.External = r
			}
		}
	}
	return v, nil
}

// oofFromVacation maps our script back to an EAS Oof: the settings as the
// phone set them when present, else what the script says.
func oofFromVacation(v sieve.Vacation, active, found bool) eas.Oof {
	var o eas.Oof
	if !found {
		return o
	}
	if len(v.Extra) == 0 || json.Unmarshal(v.Extra, &o) != nil {
		o = eas.Oof{State: eas.OofGlobal}
		if !v.Start.IsZero() {
			o.State, o.Start, o.End = eas.OofTimeBased, v.Start, v.End
		}
		msg := func(aud eas.OofAudience, r sieve.Reply) eas.OofMessage {
			bt := "Text"
			if r.HTML {
				bt = "HTML"
			}
			return eas.OofMessage{Audience: aud, Enabled: r.Enabled, ReplyMessage: r.Text, BodyType: bt}
		}
		o.Messages = []eas.OofMessage{
			msg(eas.OofInternal, v.Internal),
			msg(eas.OofExternalKnown, v.External),
			msg(eas.OofExternalUnknown, v.External),
		}
	}
	if !active {
		o.State = eas.OofDisabled
	}
	return o
}

// recordOof keeps the state last seen for the window; failures to store
// it are only logged.
func (s *session) recordOof(ctx context.Context, o eas.Oof, err error) {
	st := OofStatus{User: s.l.user, State: o.State, Updated: s.e.opts.Now()}
	if o.State == eas.OofTimeBased {
		st.Until = o.End
	}
	if err != nil {
		st.Err = err.Error()
		if code, ok := eas.StatusOf(err); ok && code == eas.SettingsStatusOofUnavailable {
			st.Unavailable = true
		}
		// Keep the last known state: a failure changes nothing remote.
		if prev, perr := readOofStatus(ctx, s.store(), s.l.user); perr == nil {
			st.State, st.Until = prev.State, prev.Until
		}
	}
	b, _ := json.Marshal(st)
	if perr := s.store().PutSetting(context.WithoutCancel(ctx), s.l.user, oofSettingName, b); perr != nil {
		s.e.log.Warn("engine: store oof status", "user", s.l.user, "err", perr)
	}
}

func readOofStatus(ctx context.Context, st state.Store, user string) (OofStatus, error) {
	var o OofStatus
	b, err := st.Setting(ctx, user, oofSettingName)
	if err != nil {
		return o, err
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return o, fmt.Errorf("engine: oof status of %s: %w", user, err)
	}
	return o, nil
}

// OofStatus returns the out-of-office state last set or read for user;
// ok is false when none was ever seen.
func (e *Engine) OofStatus(ctx context.Context, user string) (st OofStatus, ok bool, err error) {
	st, err = readOofStatus(ctx, e.opts.Store, user)
	if errors.Is(err, state.ErrNotFound) {
		return OofStatus{User: user}, false, nil
	}
	return st, err == nil, err
}
