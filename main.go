package main

import (
	_ "fyne.io/fyne/v2/app"
	_ "fyne.io/fyne/v2/widget"
	_ "fyne.io/fyne/v2/test"
	_ "fyne.io/fyne/v2/driver/desktop"
	_ "modernc.org/sqlite"
	_ "github.com/emersion/go-imap/v2/imapclient"
	_ "github.com/emersion/go-imap/v2/imapserver"
	_ "github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	_ "github.com/emersion/go-webdav/caldav"
	_ "github.com/emersion/go-webdav/carddav"
	_ "github.com/emersion/go-message/mail"
	_ "github.com/emersion/go-message/charset"
	_ "github.com/emersion/go-smtp"
	_ "github.com/emersion/go-sasl"
	_ "github.com/emersion/go-ical"
	_ "github.com/emersion/go-vcard"
	_ "github.com/grandcat/zeroconf"
	_ "github.com/BurntSushi/toml"
	_ "github.com/skip2/go-qrcode"
	_ "github.com/zalando/go-keyring"
)

func main() {}
