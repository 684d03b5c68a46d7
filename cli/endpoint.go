package cli

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"gitlab.com/metricgate/metricgate/internal/redact"
)

// endpointError is a database metricgate could not use, named by the
// setting that configures it and the host and port configured there (never
// the password), so that the person debugging knows which one failed. The
// configured address is the operator's, not anyone's data: it is kept when
// the rest of the message has its addresses redacted (keepRedacted), so a
// host given as an IP address is still said.
type endpointError struct {
	what    string // "history database"
	setting string // "history.url"
	host    string
	port    string
	db      string
	err     error
}

func (e *endpointError) Error() string {
	where := e.address()
	if e.db != "" {
		where += ", database " + e.db
	}
	cause := e.err.Error()
	var op *net.OpError
	if errors.As(e.err, &op) && op.Err != nil && op.Op == "dial" {
		cause = "cannot connect: " + strings.TrimPrefix(op.Err.Error(), "connect: ") // "connection refused", "i/o timeout"
	}
	return fmt.Sprintf("%s (%s: %s): %s", e.what, e.setting, where, cause)
}

func (e *endpointError) Unwrap() error { return e.err }

// address is host:port as configured (the host alone when the URL gives no
// port and pgx's default applies).
func (e *endpointError) address() string {
	if e.port == "" {
		return e.host
	}
	return net.JoinHostPort(e.host, e.port)
}

// endpoint wraps err, the failure to open the database at rawURL, with the
// database's name, setting and configured address. An err of nil is nil.
func endpoint(what, setting, rawURL string, err error) error {
	if err == nil {
		return nil
	}
	e := &endpointError{what: what, setting: setting, err: err}
	if cfg, perr := pgx.ParseConfig(rawURL); perr == nil {
		e.host, e.port, e.db = cfg.Host, strconv.Itoa(int(cfg.Port)), cfg.Database
	} else if u, uerr := url.Parse(rawURL); uerr == nil {
		e.host, e.port, e.db = u.Hostname(), u.Port(), strings.TrimPrefix(u.Path, "/")
	}
	if e.host == "" {
		return err
	}
	return e
}

// dialed is endpoint for an error that may come from anything of a longer
// job: it names the database only when err is a failure to connect (a
// dial error, or pgx's "failed to connect"), and returns err as it is
// otherwise.
func dialed(what, setting, rawURL string, err error) error {
	var op *net.OpError
	var ce *pgconn.ConnectError
	if err == nil || !errors.As(err, &op) && !errors.As(err, &ce) {
		return err
	}
	return endpoint(what, setting, rawURL, err)
}

// keepRedacted is redact.String, except that the configured addresses of
// the endpointErrors among args stay: they are the operator's settings.
func keepRedacted(msg string, args []any) string {
	var keep []string
	for _, a := range args {
		err, ok := a.(error)
		var e *endpointError
		if ok && errors.As(err, &e) {
			keep = append(keep, e.address())
			if e.port != "" {
				keep = append(keep, e.host)
			}
		}
	}
	return redactExcept(msg, keep)
}

// redactExcept redacts s except for the occurrences of keep's strings,
// the longer first.
func redactExcept(s string, keep []string) string {
	for _, k := range keep {
		if k == "" {
			continue
		}
		if before, after, ok := strings.Cut(s, k); ok {
			return redactExcept(before, keep) + k + redactExcept(after, keep)
		}
	}
	return redact.String(s)
}
