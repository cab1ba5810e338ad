package server

import (
	"encoding/base64"
	"net/http"
	"strings"
)

// basicAuth reads HTTP Basic credentials (RFC 7617). The user name may come
// as "DOMAIN\user" (Outlook, Windows Phone), which is reduced to "user", or
// as "user@domain", which is kept whole.
func basicAuth(r *http.Request) (user, password string, ok bool) {
	h := r.Header.Get("Authorization")
	const prefix = "basic "
	if len(h) < len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(h[len(prefix):]))
	if err != nil {
		return "", "", false
	}
	user, password, ok = strings.Cut(string(raw), ":")
	if !ok {
		return "", "", false
	}
	return normalizeUser(user), password, user != ""
}

// normalizeUser strips a "DOMAIN\" prefix and surrounding spaces.
func normalizeUser(u string) string {
	u = strings.TrimSpace(u)
	if i := strings.LastIndexByte(u, '\\'); i >= 0 {
		u = u[i+1:]
	}
	return u
}
