package guard

import (
	"fmt"
	"path"
	"strings"
)

// DefaultRedColumns are the column patterns treated as red when
// Options.RedColumns is nil. They cover GitLab's personal and secret data:
// e-mail addresses, encrypted attributes, tokens and their digests,
// passwords, OTP secrets, IP addresses, user agents, private and SSH/GPG
// keys and their fingerprints.
//
// A pattern is a case-insensitive glob (`*` matches any run of characters)
// matched against the column name, or, when it contains a dot, against
// `table.column` with the table a column reference resolves to.
var DefaultRedColumns = []string{
	"*email*",
	"encrypted_*",
	"*_encrypted",
	"*token*",
	"*password*",
	"*secret*",
	"*_digest",
	"*salt*",
	"*_ip",
	"ip_address",
	"*_ip_address",
	"*user_agent*",
	"*private_key*",
	"otp_*",
	"*fingerprint*",
	"keys.key",
	"gpg_keys.key",
	"gpg_key_subkeys.*",
}

// redSet matches column names against the configured patterns.
type redSet struct {
	bare      []string // patterns without a dot
	qualified []string // table.column patterns
}

func newRedSet(patterns []string) (*redSet, error) {
	r := &redSet{}
	for _, p := range patterns {
		p = strings.ToLower(strings.TrimSpace(p))
		if p == "" {
			continue
		}
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("red column pattern %q: %w", p, err)
		}
		if strings.Contains(p, ".") {
			r.qualified = append(r.qualified, p)
		} else {
			r.bare = append(r.bare, p)
		}
	}
	return r, nil
}

// match reports whether column col of one of the given base tables is red,
// and returns the name to show ("users.email" or "email").
func (r *redSet) match(col string, tables []string) (string, bool) {
	col = strings.ToLower(col)
	for _, p := range r.bare {
		if ok, _ := path.Match(p, col); ok {
			if len(tables) == 1 {
				return tables[0] + "." + col, true
			}
			return col, true
		}
	}
	for _, t := range tables {
		name := strings.ToLower(t) + "." + col
		for _, p := range r.qualified {
			if ok, _ := path.Match(p, name); ok {
				return name, true
			}
		}
	}
	return "", false
}
