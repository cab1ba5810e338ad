package davsource

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// HTTPError is a non-2xx answer of the DAV server.
type HTTPError struct {
	Method   string
	Path     string
	Code     int
	Location string // of a redirect that was not followed
	Body     string // the start of a text body, for diagnostics
}

func (e *HTTPError) Error() string {
	s := fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.Code, http.StatusText(e.Code))
	if e.Body != "" {
		s += ": " + e.Body
	}
	return s
}

// transportError is a request that got no HTTP answer.
type transportError struct{ err error }

func (e *transportError) Error() string { return e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }

// maxRedirects bounds the redirects authClient follows itself.
const maxRedirects = 5

// authClient adds Basic auth (RFC 7617) to every request and returns
// non-2xx answers as *HTTPError. It implements webdav.HTTPClient.
type authClient struct {
	hc             *http.Client // CheckRedirect stops method-changing redirects
	user, password string
}

// newAuthClient wraps base (a shallow copy, so the caller's client is not
// changed). onRequest, when not nil, sees every request sent.
func newAuthClient(base *http.Client, user, password string, onRequest func(method, path string)) *authClient {
	hc := *base
	if onRequest != nil {
		rt := hc.Transport
		if rt == nil {
			rt = http.DefaultTransport
		}
		hc.Transport = &hookTransport{rt: rt, fn: onRequest}
	}
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return errors.New("too many redirects")
		}
		if req.Method != via[0].Method || req.URL.Host != via[0].URL.Host {
			return http.ErrUseLastResponse // Do follows it, keeping the method
		}
		return nil
	}
	return &authClient{hc: &hc, user: user, password: password}
}

// Do sends req with credentials. 301/302/307/308 answers that net/http did
// not follow are followed here with the same method and body, on the same
// host only.
func (c *authClient) Do(req *http.Request) (*http.Response, error) {
	for i := 0; ; i++ {
		req.SetBasicAuth(c.user, c.password)
		resp, err := c.hc.Do(req)
		if err != nil {
			return nil, &transportError{err}
		}
		if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
			return resp, nil
		}
		herr := &HTTPError{Method: req.Method, Path: req.URL.Path, Code: resp.StatusCode, Location: resp.Header.Get("Location")}
		if ct := resp.Header.Get("Content-Type"); strings.HasPrefix(ct, "text/") || strings.Contains(ct, "xml") {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			herr.Body = strings.Join(strings.Fields(string(b)), " ")
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		next, ok := c.redirect(req, resp.StatusCode, herr.Location)
		if !ok || i >= maxRedirects {
			return nil, herr
		}
		req = next
	}
}

// redirect builds the request that follows a redirect, if it may be
// followed.
func (c *authClient) redirect(req *http.Request, code int, location string) (*http.Request, bool) {
	switch code {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
	default:
		return nil, false
	}
	if location == "" {
		return nil, false
	}
	u, err := req.URL.Parse(location)
	if err != nil || u.Scheme != req.URL.Scheme || u.Host != req.URL.Host {
		return nil, false
	}
	next := req.Clone(req.Context())
	next.URL = u
	next.Host = ""
	if req.Body != nil && req.Body != http.NoBody {
		if req.GetBody == nil {
			return nil, false
		}
		body, err := req.GetBody()
		if err != nil {
			return nil, false
		}
		next.Body = body
	}
	return next, true
}

// hookTransport calls fn for each request before handing it to rt. It sits
// below http.Client, so redirects that net/http follows itself count too.
type hookTransport struct {
	rt http.RoundTripper
	fn func(method, path string)
}

func (t *hookTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.fn(req.Method, req.URL.Path)
	return t.rt.RoundTrip(req)
}

// CloseIdleConnections passes on to rt, so that http.Client's
// CloseIdleConnections still reaches the real transport.
func (t *hookTransport) CloseIdleConnections() {
	if c, ok := t.rt.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// hrefPath returns the path of an href, which may be a full URL.
func hrefPath(href string) string {
	href = strings.TrimSpace(href)
	u, err := url.Parse(href)
	if err != nil {
		return href
	}
	return u.Path
}
