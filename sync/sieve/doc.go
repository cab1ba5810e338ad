// Package sieve is a small ManageSieve client (RFC 5804) and the Sieve
// vacation script easbridge writes for the Exchange out-of-office setting.
//
// Implementation notes:
//   - One Client is one connection, used by one goroutine at a time; it is
//     opened for a Settings Oof request and closed after it.
//   - Security: STARTTLS (RFC 5804 2.2) is used whenever the server offers
//     it and required unless the server is on a loopback address. The
//     password travels only in AUTHENTICATE "PLAIN" (RFC 4616) and never
//     reaches an error or a log line.
//   - Responses are read by one parser (readResponse): data lines made of
//     atoms, quoted strings and literals, then OK, NO or BYE with an
//     optional response code and text. Literals are bounded by
//     MaxLiteral so that a hostile server cannot make us allocate without
//     limit; FuzzReadResponse exercises the parser.
//   - Client literals use the form {n+} (RFC 5804 4 literal-c2s: the
//     client does not wait for a continuation).
//   - Vacation (vacation.go): our script is generated, never edited by
//     hand; its settings are kept in a comment line so that reading them
//     back never needs a Sieve parser. The user's own active script is
//     kept unchanged and included (RFC 6609 include) after our block.
package sieve
