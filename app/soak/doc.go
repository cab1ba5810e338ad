// Package soak holds the fault-injection soak test (soak_test.go): several
// simulated phones (server/easclient) sync through the EAS endpoint of an
// easbridge child process in front of a real Dovecot and Radicale
// (sync/testenv), while other IMAP and DAV clients change the same data,
// responses are dropped and repeated, connections are cut mid-body, the
// easbridge process is killed with SIGKILL and restarted, and Dovecot and
// Radicale are restarted. After every round each phone's view is compared
// with what Dovecot and Radicale hold.
//
// SOAK_SEED reproduces a run, SOAK_ROUNDS sets its length (default 20; `make
// soak` runs 1,000). docs/RELIABILITY.md records the figures.
package soak
