// Package testenv starts real mail and groupware servers as child processes
// for integration tests: Dovecot (IMAP, SMTP submission, ManageSieve) with an
// in-process SMTP sink that receives everything Dovecot relays, and Radicale
// (CalDAV/CardDAV).
//
// Every server gets its own configuration, data and runtime directories in a
// fresh temporary directory, binds only to 127.0.0.1 on free ports and is
// stopped (with all its child processes) by t.Cleanup, also when the test
// fails. The system configuration (/etc/dovecot, /etc/radicale) and any system
// instance of these servers are never touched.
//
// The server binaries are Debian packages (dovecot-imapd, dovecot-submissiond,
// dovecot-managesieved, dovecot-sieve, radicale) that `make test` installs. When
// one is missing the rig fails the test instead of skipping it, so that a
// broken test machine cannot silently pass.
//
// Dovecot refuses to store mail as root, so when the tests run as root the
// mail is owned by the dedicated system user "easbridge-test", which the rig
// creates with useradd when it does not exist yet. Otherwise all Dovecot
// processes run as the invoking user.
package testenv
