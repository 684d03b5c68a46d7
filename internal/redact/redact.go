// Package redact removes network addresses from text that leaves the
// process: log lines, error texts recorded in the history and shown by the
// API. Connection errors of database drivers quote the address they dialled
// ("dial tcp 10.1.2.3:5432: connect: connection refused"), and an IP address
// is one of the values that must not appear in any output (see SECURITY.md).
// Passwords are handled where the connection strings are (history, cli):
// they never reach a message in the first place.
package redact

import (
	"log/slog"
	"net"
	"regexp"
	"strings"
)

// Placeholder replaces every address.
const Placeholder = "[address]"

// ipv4 is a dotted quad (with an optional port, which goes with it);
// ipv6 is a full eight-group address or one with "::", bracketed or not.
// Times such as 10:31:24 have three groups and no "::", so they stay.
var (
	ipv4 = regexp.MustCompile(`\b(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\b(?::\d{1,5}\b)?`)
	ipv6 = regexp.MustCompile(`(?i)\[?(?:(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}|(?:[0-9a-f]{1,4}:){1,7}:(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,6})?|::(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,6}))(?:%[0-9a-z]+)?\]?(?::\d{1,5}\b)?`)
)

// String returns s with every IPv4 and IPv6 address replaced by
// Placeholder.
func String(s string) string {
	var b strings.Builder
	last := 0
	for _, m := range ipv6.FindAllStringIndex(s, -1) {
		if isIPv6(s, m[0], m[1]) {
			b.WriteString(s[last:m[0]])
			b.WriteString(Placeholder)
			last = m[1]
		}
	}
	b.WriteString(s[last:])
	return ipv4.ReplaceAllString(b.String(), Placeholder)
}

// isIPv6 reports whether s[i:j], a match of ipv6, is an address and not
// part of a word ("duckdb::Exception", "add::"): bracketed, or standing
// alone with a digit in it, and parsed by net.ParseIP.
func isIPv6(s string, i, j int) bool {
	m := s[i:j]
	bracketed := strings.HasPrefix(m, "[")
	if !bracketed {
		if i > 0 && isWord(s[i-1]) || j < len(s) && isWord(s[j]) || !strings.ContainsAny(m, "0123456789") {
			return false
		}
	}
	addr := strings.TrimPrefix(m, "[")
	if k := strings.IndexByte(addr, ']'); k >= 0 {
		addr = addr[:k]
	} else if bracketed {
		return false
	}
	if k := strings.IndexByte(addr, '%'); k >= 0 {
		addr = addr[:k]
	}
	return net.ParseIP(addr) != nil
}

func isWord(c byte) bool {
	return c == '_' || c == ':' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// ReplaceAttr is a slog.HandlerOptions.ReplaceAttr that redacts the message
// and every string or error attribute.
func ReplaceAttr(_ []string, a slog.Attr) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindString:
		if s := a.Value.String(); s != String(s) {
			return slog.String(a.Key, String(s))
		}
	case slog.KindAny:
		if err, ok := a.Value.Any().(error); ok {
			return slog.String(a.Key, String(err.Error()))
		}
	}
	return a
}

// Keep returns an attribute that ReplaceAttr leaves as it is, for the
// addresses the process itself listens on, which operators and uptime
// checks need and which are nobody's data.
func Keep(key, value string) slog.Attr { return slog.Any(key, kept(value)) }

type kept string

// MarshalText makes the JSON and text handlers print the value as a plain
// string.
func (k kept) MarshalText() ([]byte, error) { return []byte(k), nil }
