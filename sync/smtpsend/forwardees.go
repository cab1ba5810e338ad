package smtpsend

import "github.com/emersion/go-message/mail"

// addRecipients appends the addresses of extra to rcpts, leaving out those
// already there (compared as Envelope deduplicates) and empty ones.
func addRecipients(rcpts []string, extra []*mail.Address) []string {
	if len(extra) == 0 {
		return rcpts
	}
	seen := make(map[string]bool, len(rcpts)+len(extra))
	for _, r := range rcpts {
		seen[addrKey(r)] = true
	}
	for _, a := range extra {
		if a == nil || a.Address == "" || seen[addrKey(a.Address)] {
			continue
		}
		seen[addrKey(a.Address)] = true
		rcpts = append(rcpts, a.Address)
	}
	return rcpts
}
