package server

import (
	"strconv"
	"time"

	"easbridge/server/eas"
	"easbridge/server/wbxml"
)

// easTime is the date-time format of Settings (MS-ASDTYPE 2.3).
const easTime = "2006-01-02T15:04:05.000Z"

// cmdSettings implements Settings, MS-ASCMD 2.2.1.18: Oof get/set,
// DeviceInformation set, UserInformation get, DevicePassword set and
// RightsManagementInformation get. Each part answers with its own Status.
func (s *Server) cmdSettings(rq *request) (*wbxml.Element, error) {
	ns := wbxml.NSSettings
	resp := wbxml.New(ns, "Settings", wbxml.Int(ns, "Status", int(eas.SettingsStatusSuccess)))
	rq.easStatus = eas.SettingsStatusSuccess
	for _, part := range rq.body.Children {
		if part.Space != ns {
			resp.Children[0].Text = strconv.Itoa(int(eas.SettingsStatusProtocolError))
			rq.easStatus = eas.SettingsStatusProtocolError
			continue
		}
		switch part.Name {
		case "Oof":
			resp.Add(s.settingsOof(rq, part))
		case "DeviceInformation":
			applyDeviceInformation(&rq.device, part.Child(ns, "Set"))
			resp.Add(wbxml.New(ns, "DeviceInformation", wbxml.Int(ns, "Status", int(eas.SettingsStatusSuccess))))
		case "DevicePassword":
			// Recovery passwords are not kept (we offer no recovery); the
			// answer is still Success so that clients go on.
			resp.Add(wbxml.New(ns, "DevicePassword", wbxml.Int(ns, "Status", int(eas.SettingsStatusSuccess))))
		case "UserInformation":
			resp.Add(s.settingsUserInformation(rq))
		case "RightsManagementInformation":
			resp.Add(wbxml.New(ns, "RightsManagementInformation",
				wbxml.Int(ns, "Status", int(eas.SettingsStatusSuccess)),
				wbxml.New(ns, "Get", wbxml.Empty(wbxml.NSRightsManagement, "RightsManagementTemplates"))))
		default:
			resp.Children[0].Text = strconv.Itoa(int(eas.SettingsStatusProtocolError))
			rq.easStatus = eas.SettingsStatusProtocolError
		}
	}
	return resp, nil
}

// applyDeviceInformation copies a DeviceInformation Set into the device,
// MS-ASCMD 2.2.3.47.
func applyDeviceInformation(d *eas.Device, set *wbxml.Element) {
	if set == nil {
		return
	}
	ns := wbxml.NSSettings
	pick := func(dst *string, name string) {
		if set.Has(ns, name) {
			*dst = set.ChildText(ns, name)
		}
	}
	pick(&d.Model, "Model")
	pick(&d.IMEI, "IMEI")
	pick(&d.FriendlyName, "FriendlyName")
	pick(&d.OS, "OS")
	pick(&d.OSLanguage, "OSLanguage")
	pick(&d.PhoneNumber, "PhoneNumber")
	pick(&d.MobileOperator, "MobileOperator")
	if set.Has(ns, "UserAgent") && d.UserAgent == "" {
		d.UserAgent = set.ChildText(ns, "UserAgent")
	}
}

// settingsUserInformation answers UserInformation Get, MS-ASCMD 2.2.3.188:
// 14.1 and later use Accounts/Account, older versions EmailAddresses.
func (s *Server) settingsUserInformation(rq *request) *wbxml.Element {
	ns := wbxml.NSSettings
	addr := rq.session.Email()
	var get *wbxml.Element
	if rq.version.AtLeast(eas.V141) {
		get = wbxml.New(ns, "Get", wbxml.New(ns, "Accounts", wbxml.New(ns, "Account",
			wbxml.Text(ns, "UserDisplayName", rq.session.DisplayName()),
			wbxml.New(ns, "EmailAddresses",
				wbxml.Text(ns, "SMTPAddress", addr),
				wbxml.Text(ns, "PrimarySmtpAddress", addr)))))
	} else {
		get = wbxml.New(ns, "Get", wbxml.New(ns, "EmailAddresses", wbxml.Text(ns, "SMTPAddress", addr)))
	}
	return wbxml.New(ns, "UserInformation", wbxml.Int(ns, "Status", int(eas.SettingsStatusSuccess)), get)
}

// settingsOof answers Oof Get and Set, MS-ASCMD 2.2.3.119.
func (s *Server) settingsOof(rq *request, part *wbxml.Element) *wbxml.Element {
	ns := wbxml.NSSettings
	out := wbxml.New(ns, "Oof")
	status := wbxml.Int(ns, "Status", int(eas.SettingsStatusSuccess))
	out.Add(status)
	fail := func(st eas.Status) *wbxml.Element {
		status.Text = strconv.Itoa(int(st))
		return out
	}
	switch {
	case part.Has(ns, "Get"):
		o, err := rq.session.Oof(rq.ctx)
		if err != nil {
			s.logOof("get", err)
			return fail(oofStatus(err))
		}
		bodyType := part.Child(ns, "Get").ChildText(ns, "BodyType")
		if bodyType == "" {
			bodyType = "Text"
		}
		get := wbxml.New(ns, "Get", wbxml.Int(ns, "OofState", int(o.State)))
		if o.State == eas.OofTimeBased {
			get.Add(wbxml.Text(ns, "StartTime", o.Start.UTC().Format(easTime)),
				wbxml.Text(ns, "EndTime", o.End.UTC().Format(easTime)))
		}
		for _, aud := range []eas.OofAudience{eas.OofInternal, eas.OofExternalKnown, eas.OofExternalUnknown} {
			m := oofMessageFor(o, aud)
			msg := wbxml.New(ns, "OofMessage", wbxml.Empty(ns, string(aud)), wbxml.Int(ns, "Enabled", boolInt(m.Enabled)))
			if m.ReplyMessage != "" {
				msg.Add(wbxml.Text(ns, "ReplyMessage", m.ReplyMessage))
			}
			msg.Add(wbxml.Text(ns, "BodyType", bodyType))
			get.Add(msg)
		}
		return out.Add(get)
	case part.Has(ns, "Set"):
		set := part.Child(ns, "Set")
		o, err := parseOofSet(set)
		if err != nil {
			return fail(eas.SettingsStatusInvalidArguments)
		}
		if err := rq.session.SetOof(rq.ctx, o); err != nil {
			s.logOof("set", err)
			return fail(oofStatus(err))
		}
		return out
	default:
		return fail(eas.SettingsStatusProtocolError)
	}
}

// logOof logs a failed Oof Get or Set: an account without out of office
// is expected (Info), anything else is an error.
func (s *Server) logOof(op string, err error) {
	if st, ok := eas.StatusOf(err); ok && st == eas.SettingsStatusOofUnavailable {
		s.log.Info("server: oof "+op+": not available", "err", err)
		return
	}
	s.log.Error("server: oof "+op, "err", err)
}

// oofStatus is the Settings status for a failed Oof Get or Set: the one
// the error carries (e.g. eas.SettingsStatusOofUnavailable), else Server
// unavailable.
func oofStatus(err error) eas.Status {
	if st, ok := eas.StatusOf(err); ok && st >= eas.SettingsStatusProtocolError && st <= eas.SettingsStatusDeniedByPolicy {
		return st
	}
	return eas.SettingsStatusServerUnavailable
}

func oofMessageFor(o eas.Oof, aud eas.OofAudience) eas.OofMessage {
	for _, m := range o.Messages {
		if m.Audience == aud {
			return m
		}
	}
	return eas.OofMessage{Audience: aud, BodyType: "Text"}
}

func parseOofSet(set *wbxml.Element) (eas.Oof, error) {
	ns := wbxml.NSSettings
	var o eas.Oof
	st, ok := set.ChildInt(ns, "OofState")
	if set.Has(ns, "OofState") && (!ok || st < 0 || st > 2) {
		return o, eas.Errorf(eas.SettingsStatusInvalidArguments, "OofState %q", set.ChildText(ns, "OofState"))
	}
	o.State = eas.OofState(st)
	if o.State == eas.OofTimeBased {
		start, err1 := time.Parse(easTime, set.ChildText(ns, "StartTime"))
		end, err2 := time.Parse(easTime, set.ChildText(ns, "EndTime"))
		if err1 != nil || err2 != nil || !end.After(start) {
			return o, eas.Errorf(eas.SettingsStatusInvalidArguments, "time-based Oof needs StartTime before EndTime")
		}
		o.Start, o.End = start, end
	}
	for _, m := range set.All(ns, "OofMessage") {
		var msg eas.OofMessage
		switch {
		case m.Has(ns, "AppliesToInternal"):
			msg.Audience = eas.OofInternal
		case m.Has(ns, "AppliesToExternalKnown"):
			msg.Audience = eas.OofExternalKnown
		case m.Has(ns, "AppliesToExternalUnknown"):
			msg.Audience = eas.OofExternalUnknown
		default:
			return o, eas.Errorf(eas.SettingsStatusInvalidArguments, "OofMessage without audience")
		}
		en, _ := m.ChildInt(ns, "Enabled")
		msg.Enabled = en == 1
		msg.ReplyMessage = m.ChildText(ns, "ReplyMessage")
		msg.BodyType = m.ChildText(ns, "BodyType")
		if msg.BodyType == "" {
			msg.BodyType = "Text"
		}
		if msg.BodyType != "Text" && msg.BodyType != "HTML" {
			return o, eas.Errorf(eas.SettingsStatusInvalidArguments, "BodyType %q", msg.BodyType)
		}
		o.Messages = append(o.Messages, msg)
	}
	return o, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
