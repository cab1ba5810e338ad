package app

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"
	"time"

	"easbridge/app/config"
	"easbridge/server/eas"
	"easbridge/sync/engine"
	"easbridge/sync/sieve"
)

// sieveConfig is the ManageSieve server of an account (out of office):
// its sieve key, else the IMAP host on port 4190; none with "off".
func sieveConfig(a config.Account) engine.SieveConfig {
	var sc engine.SieveConfig
	switch a.Sieve {
	case config.SieveOff:
		return sc
	case "":
		u, err := url.Parse(a.IMAP)
		if err != nil || u.Hostname() == "" {
			return sc
		}
		sc.URL = "sieve://" + net.JoinHostPort(u.Hostname(), sieve.DefaultPort)
	default:
		sc.URL = a.Sieve
	}
	if a.InsecureSkipVerify {
		sc.TLS = &tls.Config{InsecureSkipVerify: true}
	}
	return sc
}

// OofState is the out-of-office state last set from a phone or read by
// one, per user, for the window.
type OofState struct {
	User string
	// State is "off", "on" or "scheduled"; "" when never seen.
	State string
	// Until is when a scheduled reply ends.
	Until time.Time
	// Err says why the last change or read failed, or that the account
	// has no out-of-office service.
	Err     string
	Updated time.Time
}

// OofStates reports the last out-of-office state of every user with a
// device, ordered by user.
func (r *Runtime) OofStates(ctx context.Context) ([]OofState, error) {
	devs, err := r.Store.Devices(ctx)
	if err != nil {
		return nil, fmt.Errorf("app: oof states: %w", err)
	}
	seen := map[string]bool{}
	var out []OofState
	for _, d := range devs {
		if seen[d.User] {
			continue
		}
		seen[d.User] = true
		st, ok, err := r.Engine.OofStatus(ctx, d.User)
		if err != nil {
			return nil, fmt.Errorf("app: oof states: %w", err)
		}
		o := OofState{User: d.User}
		if ok {
			o.State, o.Until, o.Err, o.Updated = oofStateName(st.State), st.Until, st.Err, st.Updated
			if st.Unavailable {
				o.Err = "not available: " + strings.TrimPrefix(st.Err, "eas: ")
			}
		}
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].User < out[j].User })
	return out, nil
}

func oofStateName(s eas.OofState) string {
	switch s {
	case eas.OofGlobal:
		return "on"
	case eas.OofTimeBased:
		return "scheduled"
	}
	return "off"
}
