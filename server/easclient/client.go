// Package easclient is a small Exchange ActiveSync client: enough to
// provision, sync the folder hierarchy and send any command, for tests, the
// `easbridge client` command and trying a server by hand.
package easclient

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"easbridge/server/wbxml"
)

// Client speaks EAS to one server as one device.
type Client struct {
	// BaseURL is scheme://host[:port]; the endpoint path is appended.
	BaseURL    string
	User       string
	Password   string
	DeviceID   string
	DeviceType string
	// Version is the MS-ASProtocolVersion, default "16.1".
	Version string
	// PolicyKey is sent in X-MS-PolicyKey when not empty; Provision sets it.
	PolicyKey string
	UserAgent string
	HTTP      *http.Client
}

// New returns a client with sensible defaults.
func New(baseURL, user, password, deviceID string) *Client {
	return &Client{
		BaseURL: strings.TrimRight(baseURL, "/"), User: user, Password: password,
		DeviceID: deviceID, DeviceType: "easbridgeTest", Version: "16.1",
		UserAgent: "easbridge-client/1.0", HTTP: http.DefaultClient,
	}
}

// Insecure makes the client accept any server certificate (for a local CA
// the machine does not trust yet).
func (c *Client) Insecure() *Client {
	c.HTTP = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	return c
}

// Response is a server answer.
type Response struct {
	HTTPStatus int
	Header     http.Header
	Body       []byte
	Root       *wbxml.Element // nil when the body is empty or not WBXML
}

// Status returns the top-level Status of the answer, or 0.
func (r *Response) Status() int {
	if r.Root == nil {
		return 0
	}
	for _, c := range r.Root.Children {
		if c.Name == "Status" {
			n, _ := strconv.Atoi(c.Text)
			return n
		}
	}
	return 0
}

// Do sends a command with an element body (nil for none).
func (c *Client) Do(ctx context.Context, cmd string, body *wbxml.Element) (*Response, error) {
	var raw []byte
	if body != nil {
		var err error
		if raw, err = wbxml.Encode(body); err != nil {
			return nil, fmt.Errorf("easclient: encode %s: %w", cmd, err)
		}
	}
	return c.DoRaw(ctx, cmd, raw, nil)
}

// DoRaw sends a command with raw body bytes and extra query parameters.
func (c *Client) DoRaw(ctx context.Context, cmd string, body []byte, params url.Values) (*Response, error) {
	q := url.Values{}
	q.Set("Cmd", cmd)
	q.Set("User", c.User)
	q.Set("DeviceId", c.DeviceID)
	q.Set("DeviceType", c.DeviceType)
	for k, v := range params {
		q[k] = v
	}
	return c.send(ctx, http.MethodPost, c.BaseURL+"/Microsoft-Server-ActiveSync?"+q.Encode(), body)
}

// Options sends OPTIONS.
func (c *Client) Options(ctx context.Context) (*Response, error) {
	return c.send(ctx, http.MethodOptions, c.BaseURL+"/Microsoft-Server-ActiveSync", nil)
}

func (c *Client) send(ctx context.Context, method, u string, body []byte) (*Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("easclient: %w", err)
	}
	req.SetBasicAuth(c.User, c.Password)
	req.Header.Set("MS-ASProtocolVersion", c.Version)
	req.Header.Set("User-Agent", c.UserAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/vnd.ms-sync.wbxml")
	}
	if c.PolicyKey != "" {
		req.Header.Set("X-MS-PolicyKey", c.PolicyKey)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	res, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("easclient: %s: %w", method, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, fmt.Errorf("easclient: read answer: %w", err)
	}
	r := &Response{HTTPStatus: res.StatusCode, Header: res.Header, Body: b}
	if res.StatusCode == http.StatusOK && len(b) > 0 && strings.Contains(res.Header.Get("Content-Type"), "wbxml") {
		if r.Root, err = wbxml.Decode(b); err != nil {
			return r, fmt.Errorf("easclient: decode answer: %w", err)
		}
	}
	return r, nil
}

// Provision runs both phases of MS-ASPROV Provision and keeps the final
// policy key. It returns the policy document of phase 1.
func (c *Client) Provision(ctx context.Context) (*wbxml.Element, error) {
	ns := wbxml.NSProvision
	req := wbxml.New(ns, "Provision")
	if c.Version >= "14.1" {
		req.Add(wbxml.New(wbxml.NSSettings, "DeviceInformation", wbxml.New(wbxml.NSSettings, "Set",
			wbxml.Text(wbxml.NSSettings, "Model", "easbridge test client"),
			wbxml.Text(wbxml.NSSettings, "OS", "Go"),
			wbxml.Text(wbxml.NSSettings, "UserAgent", c.UserAgent))))
	}
	req.Add(wbxml.New(ns, "Policies", wbxml.New(ns, "Policy", wbxml.Text(ns, "PolicyType", "MS-EAS-Provisioning-WBXML"))))
	c.PolicyKey = ""
	r, err := c.Do(ctx, "Provision", req)
	if err != nil {
		return nil, err
	}
	if r.HTTPStatus != http.StatusOK || r.Status() != 1 {
		return nil, fmt.Errorf("easclient: provision phase 1: HTTP %d, status %d", r.HTTPStatus, r.Status())
	}
	pol := r.Root.Child(ns, "Policies").Child(ns, "Policy")
	temp := pol.ChildText(ns, "PolicyKey")
	doc := pol.Child(ns, "Data").Child(ns, "EASProvisionDoc")
	if temp == "" || doc == nil {
		for _, wipe := range []string{"RemoteWipe", "AccountOnlyRemoteWipe"} {
			if r.Root.Child(ns, wipe) != nil {
				return nil, fmt.Errorf("easclient: provision phase 1: the server asks for a wipe (%s), which this client does not acknowledge", wipe)
			}
		}
		return nil, fmt.Errorf("easclient: provision phase 1: no policy key or document")
	}
	ack := wbxml.New(ns, "Provision", wbxml.New(ns, "Policies", wbxml.New(ns, "Policy",
		wbxml.Text(ns, "PolicyType", "MS-EAS-Provisioning-WBXML"),
		wbxml.Text(ns, "PolicyKey", temp),
		wbxml.Text(ns, "Status", "1"))))
	c.PolicyKey = temp
	r, err = c.Do(ctx, "Provision", ack)
	if err != nil {
		return nil, err
	}
	pol = r.Root.Child(ns, "Policies").Child(ns, "Policy")
	if r.Status() != 1 || pol.ChildText(ns, "Status") != "1" {
		return nil, fmt.Errorf("easclient: provision phase 2: status %d/%s", r.Status(), pol.ChildText(ns, "Status"))
	}
	c.PolicyKey = pol.ChildText(ns, "PolicyKey")
	return doc, nil
}

// Folder is one FolderSync change.
type Folder struct {
	Change      string // Add, Update, Delete
	ServerID    string
	ParentID    string
	DisplayName string
	Type        int
}

// FolderSync sends FolderSync with key and returns the new key and changes.
func (c *Client) FolderSync(ctx context.Context, key string) (string, []Folder, *Response, error) {
	ns := wbxml.NSFolderHierarchy
	r, err := c.Do(ctx, "FolderSync", wbxml.New(ns, "FolderSync", wbxml.Text(ns, "SyncKey", key)))
	if err != nil {
		return "", nil, r, err
	}
	if r.Root == nil {
		return "", nil, r, fmt.Errorf("easclient: FolderSync: HTTP %d", r.HTTPStatus)
	}
	var out []Folder
	var changes []*wbxml.Element
	if c := r.Root.Child(ns, "Changes"); c != nil {
		changes = c.Children
	}
	for _, ch := range changes {
		if ch.Name == "Count" {
			continue
		}
		t, _ := ch.ChildInt(ns, "Type")
		out = append(out, Folder{
			Change: ch.Name, ServerID: ch.ChildText(ns, "ServerId"), ParentID: ch.ChildText(ns, "ParentId"),
			DisplayName: ch.ChildText(ns, "DisplayName"), Type: t,
		})
	}
	return r.Root.ChildText(ns, "SyncKey"), out, r, nil
}
