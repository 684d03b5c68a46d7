package redact

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	for in, want := range map[string]string{
		"dial tcp 10.1.2.3:5432: connect: connection refused":            "dial tcp [address]: connect: connection refused",
		"127.0.0.1:5432 (localhost): dial error":                         "[address] (localhost): dial error",
		"dial tcp [::1]:5432: connect: connection refused":               "dial tcp [address]: connect: connection refused",
		"from fe80::1%eth0 and 2001:db8:85a3:0:0:8a2e:370:7334":          "from [address] and [address]",
		"at 2026-12-01T10:31:24Z after 1.5s, version 17.2, run 12:00:00": "at 2026-12-01T10:31:24Z after 1.5s, version 17.2, run 12:00:00",
		"duckdb::Exception in add:: and Catalog::1 stays":                "duckdb::Exception in add:: and Catalog::1 stays",
		"host ::1 port 5432":                     "host [address] port 5432",
		"999.1.1.1 is no address; 1.2.3 neither": "999.1.1.1 is no address; 1.2.3 neither",
		"failed to connect to `user=ro database=gitlab`: 192.168.0.7:6432 (db): i/o timeout": "failed to connect to `user=ro database=gitlab`: [address] (db): i/o timeout",
	} {
		if got := String(in); got != want {
			t.Errorf("String(%q)\n got %q\nwant %q", in, got, want)
		}
	}
}

func TestReplaceAttr(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{ReplaceAttr: ReplaceAttr}))
	log.Error("connect 10.0.0.5 failed", slog.String("source", "10.0.0.6:5432"),
		slog.Any("error", errors.New("dial tcp 10.0.0.7:5432: refused")), slog.Int("attempt", 2))
	out := buf.String()
	for _, ip := range []string{"10.0.0.5", "10.0.0.6", "10.0.0.7"} {
		if strings.Contains(out, ip) {
			t.Errorf("log line holds %s: %s", ip, out)
		}
	}
	if strings.Count(out, Placeholder) != 3 || !strings.Contains(out, `"attempt":2`) {
		t.Errorf("log line = %s, want three placeholders and the other attributes", out)
	}
}

func TestKeep(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{ReplaceAttr: ReplaceAttr}))
	log.Info("serving", Keep("addr", "127.0.0.1:8080"), slog.String("peer", "127.0.0.2:1"))
	if out := buf.String(); !strings.Contains(out, `"addr":"127.0.0.1:8080"`) || strings.Contains(out, "127.0.0.2") {
		t.Errorf("log line = %s, want the kept address as a string and the other redacted", out)
	}
}
