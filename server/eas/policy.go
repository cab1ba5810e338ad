package eas

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
)

// Policy is the device policy sent in the EASProvisionDoc of a Provision
// answer (MS-ASPROV 2.2.2.27). The zero value is not useful: start from
// DefaultPolicy, which restricts nothing.
type Policy struct {
	DevicePasswordEnabled              bool `toml:"device_password_enabled" json:"device_password_enabled"`
	AlphanumericDevicePasswordRequired bool `toml:"alphanumeric_password_required" json:"alphanumeric_password_required"`
	PasswordRecoveryEnabled            bool `toml:"password_recovery_enabled" json:"password_recovery_enabled"`
	RequireStorageCardEncryption       bool `toml:"require_storage_card_encryption" json:"require_storage_card_encryption"`
	AttachmentsEnabled                 bool `toml:"attachments_enabled" json:"attachments_enabled"`
	MinDevicePasswordLength            int  `toml:"min_password_length" json:"min_password_length"`       // 0 = not set
	MaxInactivityTimeDeviceLock        int  `toml:"max_inactivity_seconds" json:"max_inactivity_seconds"` // 0 = not set
	MaxDevicePasswordFailedAttempts    int  `toml:"max_failed_attempts" json:"max_failed_attempts"`       // 0 = not set
	MaxAttachmentSize                  int  `toml:"max_attachment_size" json:"max_attachment_size"`       // 0 = not set
	AllowSimpleDevicePassword          bool `toml:"allow_simple_password" json:"allow_simple_password"`
	DevicePasswordExpiration           int  `toml:"password_expiration_days" json:"password_expiration_days"` // 0 = not set
	DevicePasswordHistory              int  `toml:"password_history" json:"password_history"`
	AllowStorageCard                   bool `toml:"allow_storage_card" json:"allow_storage_card"`
	AllowCamera                        bool `toml:"allow_camera" json:"allow_camera"`
	RequireDeviceEncryption            bool `toml:"require_device_encryption" json:"require_device_encryption"`
	AllowUnsignedApplications          bool `toml:"allow_unsigned_applications" json:"allow_unsigned_applications"`
	AllowUnsignedInstallationPackages  bool `toml:"allow_unsigned_installation_packages" json:"allow_unsigned_installation_packages"`
	MinDevicePasswordComplexCharacters int  `toml:"min_complex_characters" json:"min_complex_characters"`
	AllowWiFi                          bool `toml:"allow_wifi" json:"allow_wifi"`
	AllowTextMessaging                 bool `toml:"allow_text_messaging" json:"allow_text_messaging"`
	AllowPOPIMAPEmail                  bool `toml:"allow_pop_imap_email" json:"allow_pop_imap_email"`
	AllowBluetooth                     int  `toml:"allow_bluetooth" json:"allow_bluetooth"` // 0 no, 1 hands-free only, 2 yes
	AllowIrDA                          bool `toml:"allow_irda" json:"allow_irda"`
	RequireManualSyncWhenRoaming       bool `toml:"require_manual_sync_when_roaming" json:"require_manual_sync_when_roaming"`
	AllowDesktopSync                   bool `toml:"allow_desktop_sync" json:"allow_desktop_sync"`
	MaxCalendarAgeFilter               int  `toml:"max_calendar_age_filter" json:"max_calendar_age_filter"` // 0 = all
	AllowHTMLEmail                     bool `toml:"allow_html_email" json:"allow_html_email"`
	MaxEmailAgeFilter                  int  `toml:"max_email_age_filter" json:"max_email_age_filter"`                     // 0 = all
	MaxEmailBodyTruncationSize         int  `toml:"max_email_body_truncation_size" json:"max_email_body_truncation_size"` // -1 = no limit
	MaxEmailHTMLBodyTruncationSize     int  `toml:"max_email_html_body_truncation_size" json:"max_email_html_body_truncation_size"`
	RequireSignedSMIMEMessages         bool `toml:"require_signed_smime" json:"require_signed_smime"`
	RequireEncryptedSMIMEMessages      bool `toml:"require_encrypted_smime" json:"require_encrypted_smime"`
	AllowSMIMESoftCerts                bool `toml:"allow_smime_soft_certs" json:"allow_smime_soft_certs"`
	AllowBrowser                       bool `toml:"allow_browser" json:"allow_browser"`
	AllowConsumerEmail                 bool `toml:"allow_consumer_email" json:"allow_consumer_email"`
	AllowRemoteDesktop                 bool `toml:"allow_remote_desktop" json:"allow_remote_desktop"`
	AllowInternetSharing               bool `toml:"allow_internet_sharing" json:"allow_internet_sharing"`
}

// DefaultPolicy is the "no restrictions" policy.
func DefaultPolicy() Policy {
	return Policy{
		AttachmentsEnabled:                 true,
		AllowSimpleDevicePassword:          true,
		AllowStorageCard:                   true,
		AllowCamera:                        true,
		AllowUnsignedApplications:          true,
		AllowUnsignedInstallationPackages:  true,
		MinDevicePasswordComplexCharacters: 1,
		AllowWiFi:                          true,
		AllowTextMessaging:                 true,
		AllowPOPIMAPEmail:                  true,
		AllowBluetooth:                     2,
		AllowIrDA:                          true,
		AllowDesktopSync:                   true,
		AllowHTMLEmail:                     true,
		MaxEmailBodyTruncationSize:         -1,
		MaxEmailHTMLBodyTruncationSize:     -1,
		AllowSMIMESoftCerts:                true,
		AllowBrowser:                       true,
		AllowConsumerEmail:                 true,
		AllowRemoteDesktop:                 true,
		AllowInternetSharing:               true,
	}
}

// Validate reports the first field out of its MS-ASPROV range.
func (p Policy) Validate() error {
	switch {
	case p.MinDevicePasswordLength < 0 || p.MinDevicePasswordLength > 16:
		return fmt.Errorf("eas: min_password_length %d: must be 0..16", p.MinDevicePasswordLength)
	case p.MaxInactivityTimeDeviceLock < 0 || p.MaxInactivityTimeDeviceLock > 9999:
		return fmt.Errorf("eas: max_inactivity_seconds %d: must be 0..9999", p.MaxInactivityTimeDeviceLock)
	case p.MaxDevicePasswordFailedAttempts != 0 && (p.MaxDevicePasswordFailedAttempts < 4 || p.MaxDevicePasswordFailedAttempts > 16):
		return fmt.Errorf("eas: max_failed_attempts %d: must be 0 or 4..16", p.MaxDevicePasswordFailedAttempts)
	case p.MinDevicePasswordComplexCharacters < 1 || p.MinDevicePasswordComplexCharacters > 4:
		return fmt.Errorf("eas: min_complex_characters %d: must be 1..4", p.MinDevicePasswordComplexCharacters)
	case p.AllowBluetooth < 0 || p.AllowBluetooth > 2:
		return fmt.Errorf("eas: allow_bluetooth %d: must be 0, 1 or 2", p.AllowBluetooth)
	case p.DevicePasswordExpiration < 0 || p.DevicePasswordHistory < 0 || p.MaxAttachmentSize < 0:
		return fmt.Errorf("eas: negative policy value")
	}
	return nil
}

// Hash identifies the policy's content; a device provisioned under another
// hash must provision again (MS-ASPROV 3.2.5.1.1, status 143/HTTP 449).
func (p Policy) Hash() string {
	b, _ := json.Marshal(p)
	sum := sha256.Sum256(b)
	return fmt.Sprintf("%x", sum[:8])
}
