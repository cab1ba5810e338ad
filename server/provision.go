package server

import (
	"crypto/rand"
	"encoding/binary"
	"strconv"

	"easbridge/server/eas"
	"easbridge/server/wbxml"
)

// policyType is the only policy type of EAS 12.1 and later, MS-ASPROV
// 2.2.2.43.
const policyType = "MS-EAS-Provisioning-WBXML"

// cmdProvision implements the two-phase Provision and the remote-wipe flow,
// MS-ASPROV 3.2.5.1.
//
// Phase 1 (no PolicyKey in the Policy): answer with a temporary key and the
// EASProvisionDoc. Phase 2 (the client acknowledges the temporary key with a
// Status): answer with the final key, which the client then sends in
// X-MS-PolicyKey on every command. A pending wipe answers RemoteWipe (or
// AccountOnlyRemoteWipe for 16.1) instead, and the client's acknowledgement
// is recorded.
func (s *Server) cmdProvision(rq *request) (*wbxml.Element, error) {
	req := rq.body
	resp := wbxml.New(wbxml.NSProvision, "Provision")
	status := wbxml.Int(wbxml.NSProvision, "Status", int(eas.ProvisionStatusSuccess))
	resp.Add(status)
	rq.easStatus = eas.ProvisionStatusSuccess

	if di := req.Child(wbxml.NSSettings, "DeviceInformation"); di != nil {
		applyDeviceInformation(&rq.device, di.Child(wbxml.NSSettings, "Set"))
		resp.Add(wbxml.New(wbxml.NSSettings, "DeviceInformation",
			wbxml.Int(wbxml.NSSettings, "Status", int(eas.SettingsStatusSuccess))))
	}

	// Wipe acknowledgements, MS-ASPROV 3.2.5.1.2.1 (wipeack.go).
	if ack := req.Child(wbxml.NSProvision, "RemoteWipe"); ack != nil {
		return s.wipeAcknowledged(rq, resp, status, ack, eas.WipePending, eas.WipeAcknowledged), nil
	}
	if ack := req.Child(wbxml.NSProvision, "AccountOnlyRemoteWipe"); ack != nil {
		return s.wipeAcknowledged(rq, resp, status, ack, eas.WipeAccountPending, eas.WipeAccountAcknowledged), nil
	}
	// A wiped device that comes back is told to wipe again: it may not
	// sync until it is forgotten (access.go).
	switch w := rq.device.Wipe; {
	case w == eas.WipePending, w == eas.WipeAcknowledged:
		return resp.Add(wbxml.Empty(wbxml.NSProvision, "RemoteWipe")), nil
	case (w == eas.WipeAccountPending || w == eas.WipeAccountAcknowledged) && rq.version.AtLeast(eas.V161):
		return resp.Add(wbxml.Empty(wbxml.NSProvision, "AccountOnlyRemoteWipe")), nil
	}

	pol := req.Child(wbxml.NSProvision, "Policies").Child(wbxml.NSProvision, "Policy")
	if pol == nil {
		if req.Has(wbxml.NSSettings, "DeviceInformation") {
			return resp, nil // DeviceInformation alone is fine
		}
		status.Text = strconv.Itoa(int(eas.ProvisionStatusProtocolError))
		rq.easStatus = eas.ProvisionStatusProtocolError
		return resp, nil
	}
	ptype := pol.ChildText(wbxml.NSProvision, "PolicyType")
	policy := wbxml.New(wbxml.NSProvision, "Policy", wbxml.Text(wbxml.NSProvision, "PolicyType", ptype))
	resp.Add(wbxml.New(wbxml.NSProvision, "Policies", policy))
	if ptype != policyType {
		policy.Add(wbxml.Int(wbxml.NSProvision, "Status", int(eas.PolicyStatusUnknownType)))
		return resp, nil
	}
	effective, err := s.opts.Backend.Policy(rq.ctx, rq.device.User, rq.device.ID)
	if err != nil {
		status.Text = strconv.Itoa(int(eas.ProvisionStatusServerError))
		rq.easStatus = eas.ProvisionStatusServerError
		s.log.Error("server: policy", "err", err)
		return resp, nil
	}

	keyText := pol.ChildText(wbxml.NSProvision, "PolicyKey")
	if keyText == "" || !pol.Has(wbxml.NSProvision, "Status") {
		// Phase 1: download.
		temp := newPolicyKey()
		rq.device.PendingPolicyKey = temp
		policy.Add(
			wbxml.Int(wbxml.NSProvision, "Status", int(eas.PolicyStatusSuccess)),
			wbxml.Text(wbxml.NSProvision, "PolicyKey", strconv.FormatUint(uint64(temp), 10)),
			wbxml.New(wbxml.NSProvision, "Data", provisionDoc(effective)),
		)
		return resp, nil
	}

	// Phase 2: acknowledgement.
	key, err := strconv.ParseUint(keyText, 10, 32)
	if err != nil || uint32(key) != rq.device.PendingPolicyKey || key == 0 {
		policy.Add(
			wbxml.Int(wbxml.NSProvision, "Status", int(eas.PolicyStatusWrongPolicyKey)),
			wbxml.Text(wbxml.NSProvision, "PolicyKey", keyText))
		return resp, nil
	}
	switch ack := pol.ChildText(wbxml.NSProvision, "Status"); ack {
	case "1", "2":
	default:
		// 3: not applied, 4: third-party managed. We accept the device
		// (there is nothing we can enforce) but say so in the log.
		s.log.Warn("server: device did not apply the policy", "device", rq.device.ID, "status", ack)
	}
	final := newPolicyKey()
	rq.device.PolicyKey = final
	rq.device.PendingPolicyKey = 0
	rq.device.PolicyHash = effective.Hash()
	policy.Add(
		wbxml.Int(wbxml.NSProvision, "Status", int(eas.PolicyStatusSuccess)),
		wbxml.Text(wbxml.NSProvision, "PolicyKey", strconv.FormatUint(uint64(final), 10)))
	return resp, nil
}

// newPolicyKey returns a random non-zero key (0 means "not provisioned").
func newPolicyKey() uint32 {
	var b [4]byte
	for {
		_, _ = rand.Read(b[:])
		if k := binary.LittleEndian.Uint32(b[:]) & 0x7fffffff; k != 0 {
			return k
		}
	}
}

// provisionDoc renders the EASProvisionDoc in the element order of
// MS-ASPROV 2.2.2.27. Empty elements mean "no limit".
func provisionDoc(p eas.Policy) *wbxml.Element {
	ns := wbxml.NSProvision
	b := func(name string, v bool) *wbxml.Element {
		if v {
			return wbxml.Text(ns, name, "1")
		}
		return wbxml.Text(ns, name, "0")
	}
	n := func(name string, v int) *wbxml.Element {
		if v <= 0 {
			return wbxml.Empty(ns, name)
		}
		return wbxml.Int(ns, name, v)
	}
	trunc := func(name string, v int) *wbxml.Element {
		if v < 0 {
			return wbxml.Empty(ns, name)
		}
		return wbxml.Int(ns, name, v)
	}
	return wbxml.New(ns, "EASProvisionDoc",
		b("DevicePasswordEnabled", p.DevicePasswordEnabled),
		b("AlphanumericDevicePasswordRequired", p.AlphanumericDevicePasswordRequired),
		b("PasswordRecoveryEnabled", p.PasswordRecoveryEnabled),
		b("RequireStorageCardEncryption", p.RequireStorageCardEncryption),
		b("AttachmentsEnabled", p.AttachmentsEnabled),
		n("MinDevicePasswordLength", p.MinDevicePasswordLength),
		n("MaxInactivityTimeDeviceLock", p.MaxInactivityTimeDeviceLock),
		n("MaxDevicePasswordFailedAttempts", p.MaxDevicePasswordFailedAttempts),
		n("MaxAttachmentSize", p.MaxAttachmentSize),
		b("AllowSimpleDevicePassword", p.AllowSimpleDevicePassword),
		n("DevicePasswordExpiration", p.DevicePasswordExpiration),
		wbxml.Int(ns, "DevicePasswordHistory", p.DevicePasswordHistory),
		b("AllowStorageCard", p.AllowStorageCard),
		b("AllowCamera", p.AllowCamera),
		b("RequireDeviceEncryption", p.RequireDeviceEncryption),
		b("AllowUnsignedApplications", p.AllowUnsignedApplications),
		b("AllowUnsignedInstallationPackages", p.AllowUnsignedInstallationPackages),
		wbxml.Int(ns, "MinDevicePasswordComplexCharacters", max(p.MinDevicePasswordComplexCharacters, 1)),
		b("AllowWiFi", p.AllowWiFi),
		b("AllowTextMessaging", p.AllowTextMessaging),
		b("AllowPOPIMAPEmail", p.AllowPOPIMAPEmail),
		wbxml.Int(ns, "AllowBluetooth", p.AllowBluetooth),
		b("AllowIrDA", p.AllowIrDA),
		b("RequireManualSyncWhenRoaming", p.RequireManualSyncWhenRoaming),
		b("AllowDesktopSync", p.AllowDesktopSync),
		wbxml.Int(ns, "MaxCalendarAgeFilter", p.MaxCalendarAgeFilter),
		b("AllowHTMLEmail", p.AllowHTMLEmail),
		wbxml.Int(ns, "MaxEmailAgeFilter", p.MaxEmailAgeFilter),
		trunc("MaxEmailBodyTruncationSize", p.MaxEmailBodyTruncationSize),
		trunc("MaxEmailHTMLBodyTruncationSize", p.MaxEmailHTMLBodyTruncationSize),
		b("RequireSignedSMIMEMessages", p.RequireSignedSMIMEMessages),
		b("RequireEncryptedSMIMEMessages", p.RequireEncryptedSMIMEMessages),
		wbxml.Int(ns, "RequireSignedSMIMEAlgorithm", 0),
		wbxml.Int(ns, "RequireEncryptionSMIMEAlgorithm", 0),
		wbxml.Int(ns, "AllowSMIMEEncryptionAlgorithmNegotiation", 2),
		b("AllowSMIMESoftCerts", p.AllowSMIMESoftCerts),
		b("AllowBrowser", p.AllowBrowser),
		b("AllowConsumerEmail", p.AllowConsumerEmail),
		b("AllowRemoteDesktop", p.AllowRemoteDesktop),
		b("AllowInternetSharing", p.AllowInternetSharing),
		wbxml.Empty(ns, "UnapprovedInROMApplicationList"),
		wbxml.Empty(ns, "ApprovedApplicationList"),
	)
}
