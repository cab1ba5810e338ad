package mailconv

import "easbridge/server"

// MIMETruncation (MS-ASCMD 2.2.3.111) limits the MIME body a client gets
// when it asks for Type 4 without a TruncationSize of its own. Code 0
// ("truncate all body data") reaches Options.MIMETruncation as a negative
// number: the Body is Type 4 with EstimatedDataSize and Truncated 1 but no
// Data, and no raw message is fetched for it.

// mimeLimit is the truncation of a Type 4 preference: its TruncationSize
// when it has one, else MIMETruncation (0 none, < 0 no data).
func (o Options) mimeLimit(p server.BodyPreference) int {
	if p.TruncationSize > 0 {
		return p.TruncationSize
	}
	return o.MIMETruncation
}

// limit is the truncation of a candidate body: mimeLimit for MIME, the
// preference's TruncationSize otherwise (0 none).
func (c *converter) limit(cand candidate) int {
	if cand.typ == 4 {
		return c.opts.mimeLimit(cand.pref)
	}
	return max(cand.pref.TruncationSize, 0)
}
