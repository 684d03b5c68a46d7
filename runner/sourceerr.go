package runner

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"gitlab.com/metricgate/metricgate/catalog"
)

// SourceError is an error raised by a source database while metricgate
// connected to it, planned or ran a query on it, sealed where the runner
// received it: it holds what an operator or author needs and nothing the
// source wrote. PostgreSQL's message, detail, hint and context can quote
// the values that made a statement fail ("invalid input syntax for type
// integer: \"<an e-mail>\""), so they are dropped at once and never reach
// a log line, the history, the API, plan or a merge-request note. What is
// kept:
//
//   - the SQLSTATE and its condition name (22P02
//     invalid_text_representation);
//   - for an error in the query's own text, the position the server
//     reported, mapped to the query file's line and column;
//   - for a bound that fired (statement_timeout, lock_timeout,
//     temp_file_limit, …), which bound and its value;
//   - for a connection-level error, the stage (connect, TLS, auth), the
//     host and port of the source's configured URL (never of the error,
//     never the password) and a fixed description of what failed
//     (connection refused, host not found, …).
//
// The driver's own error is not kept either: it quotes the server's
// message. Only a context's cause, which is metricgate's own text ("query
// x: no answer within its timeout 15m"), is, for errors.Is.
type SourceError struct {
	// Source is the source's name; Host and Port are from its configured
	// URL.
	Source, Host string
	Port         uint16
	// Stage is what metricgate was doing: connect, begin, snapshot,
	// settings, as_of, explain, query or read (reading the result's rows).
	Stage string
	// SQLState is the server's SQLSTATE ("" when the error did not come
	// from the server); Condition its name ("invalid_text_representation").
	SQLState, Condition string
	// File, Line and Col locate the error in the query file, when the
	// server gave a position in the query's text; Line is 0 otherwise.
	// File is set whenever the statement was the query's.
	File      string
	Line, Col int
	// Bound names the bound that stopped the statement, with its value
	// ("timeout 10m", "temp_file_limit 1GB"); "" when none did.
	Bound string
	// Reason is a fixed description of a failure without SQLSTATE ("the
	// server closed the connection", "connection refused"), or "".
	Reason string
	// Transient says whether trying again on a new connection may work
	// (see transient).
	Transient bool

	cause error // the context's cause, when the context ended the statement
}

// Error renders the error without a word from the source: "query: SQLSTATE
// 22P02 invalid_text_representation at a/b.sql:7:9", "query ran over its
// timeout 10m (SQLSTATE 57014 query_canceled)", "connect to
// db.internal:5432: auth: SQLSTATE 28P01 invalid_password".
func (e *SourceError) Error() string {
	var b strings.Builder
	b.WriteString(e.Stage)
	if e.Stage == "connect" && e.Host != "" {
		fmt.Fprintf(&b, " to %s", e.Address())
	}
	sqlstate := ""
	if e.SQLState != "" {
		sqlstate = "SQLSTATE " + e.SQLState
		if e.Condition != "" {
			sqlstate += " " + e.Condition
		}
	}
	if e.Bound != "" {
		fmt.Fprintf(&b, " ran over its %s", e.Bound)
		if sqlstate != "" {
			fmt.Fprintf(&b, " (%s)", sqlstate)
		}
		return b.String()
	}
	var parts []string
	if e.Reason != "" {
		parts = append(parts, e.Reason)
	}
	if e.cause != nil && e.SQLState == "57014" { // cancelled for the context: say why
		parts = append(parts, e.cause.Error())
	}
	if sqlstate != "" {
		switch {
		case e.Line > 0:
			sqlstate += fmt.Sprintf(" at %s:%d:%d", e.File, e.Line, e.Col)
		case e.File != "":
			sqlstate += " in " + e.File
		}
		parts = append(parts, sqlstate)
	}
	if len(parts) == 0 && e.cause != nil {
		parts = append(parts, e.cause.Error())
	}
	b.WriteString(": ")
	b.WriteString(strings.Join(parts, ": "))
	return b.String()
}

// Address is the configured host and port, "host:port".
func (e *SourceError) Address() string {
	if e.Port == 0 {
		return e.Host
	}
	return net.JoinHostPort(e.Host, fmt.Sprint(e.Port))
}

// Unwrap returns the context's cause when the context ended the statement
// (for errors.Is(err, context.Canceled), ErrShuttingDown, …), else nil:
// the driver's error is not kept.
func (e *SourceError) Unwrap() error { return e.cause }

// Condition returns the PostgreSQL condition name of sqlstate
// ("invalid_text_representation" for 22P02): the name of its class
// ("data_exception" for 22xxx) when the code itself is not known, "" when
// neither is.
func Condition(sqlstate string) string {
	if c, ok := conditions[sqlstate]; ok {
		return c
	}
	if len(sqlstate) == 5 {
		return conditions[sqlstate[:2]+"000"]
	}
	return ""
}

// sealer seals the errors of one source, and of one query's statements on
// it: it knows the source's configured address and the query's bounds.
type sealer struct {
	src  Source
	host string
	port uint16
	q    *catalog.Query // nil outside a query's transaction
	cfg  Config
	// tempFileLimit is the temp_file_limit the query's transaction set,
	// "" when it set none (the role's applies).
	tempFileLimit string
}

func newSealer(src Source) sealer {
	s := sealer{src: src}
	if cfg, err := pgx.ParseConfig(src.URL); err == nil {
		s.host, s.port = cfg.Host, cfg.Port
	}
	return s
}

// statement is a statement of the query's text as sent, for mapping a
// position the server reports back to the query file.
type statement struct {
	// sent is the whole statement text sent; the query's text starts at
	// byte prefix of it ("EXPLAIN (FORMAT JSON) " comes before it).
	sent   string
	prefix int
	// toFile maps a byte offset in the query's text as sent to one in
	// catalog.Query.Text (the guard's rewrite adds hidden columns); nil
	// when the text is the file's own.
	toFile func(int) int
}

// seal turns err, received from the source at stage (for a statement of
// the query's text, st), into a *SourceError. An error already sealed, or
// one of metricgate's own (no driver or network error in it), is returned
// as it is.
func (s sealer) seal(ctx context.Context, stage string, err error, st *statement) error {
	if err == nil {
		return nil
	}
	var sealed *SourceError
	if errors.As(err, &sealed) {
		return err
	}
	e := &SourceError{Source: s.src.Name, Host: s.host, Port: s.port, Stage: stage, Transient: transient(err)}
	if s.q != nil && st != nil {
		e.File = s.q.Path
	}
	if ctx.Err() != nil {
		e.cause = context.Cause(ctx) // metricgate's own words
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		pgErr = nil
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) || stage == "connect" {
		e.Stage = "connect"
		e.Reason = connectReason(err, pgErr)
		if pgErr != nil {
			e.SQLState, e.Condition = pgErr.Code, Condition(pgErr.Code)
		}
		return e
	}
	if pgErr != nil {
		e.SQLState, e.Condition = pgErr.Code, Condition(pgErr.Code)
		e.Bound = s.bound(pgErr)
		if e.Bound == "" && st != nil && s.q != nil && pgErr.Position > 0 {
			if off, ok := st.fileOffset(int(pgErr.Position)); ok {
				e.Line, e.Col = lineCol(s.q.Text, off)
			}
		}
		if strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P") {
			e.Reason = "the server ended the session"
		}
		return e
	}
	if e.cause != nil {
		return e
	}
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
		strings.Contains(err.Error(), "conn closed"), strings.Contains(err.Error(), "unexpected EOF"):
		e.Reason = "the server closed the connection"
	case isNetError(err):
		e.Reason = "the connection failed"
	default:
		// A driver error (a row it could not decode, …): its text may
		// quote a value.
		e.Reason = "the driver failed (its message is withheld: it can quote data)"
	}
	return e
}

// bound names the server-side bound that stopped a statement, from the
// error's SQLSTATE and message (read here, never kept), "" when none did.
func (s sealer) bound(pgErr *pgconn.PgError) string {
	msg := pgErr.Message
	switch {
	case pgErr.Code == "57014" && strings.Contains(msg, "statement timeout"):
		if s.q != nil {
			return "timeout " + formatDuration(s.q.Timeout)
		}
		return "statement_timeout"
	case pgErr.Code == "55P03" && strings.Contains(msg, "lock timeout"):
		return "lock_timeout " + formatDuration(s.cfg.LockTimeout)
	case pgErr.Code == "25P03":
		return "idle_in_transaction_session_timeout " + formatDuration(s.cfg.IdleTimeout)
	case pgErr.Code == "25P04":
		return "transaction_timeout"
	case pgErr.Code == "53400" && strings.Contains(msg, "temp_file_limit"):
		if s.tempFileLimit != "" {
			return "temp_file_limit " + s.tempFileLimit
		}
		return "temp_file_limit (the role's)"
	}
	return ""
}

// connectReason describes a failed connection without the driver's words.
func connectReason(err error, pgErr *pgconn.PgError) string {
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var recErr tls.RecordHeaderError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var netErr net.Error
	switch {
	case pgErr != nil && strings.HasPrefix(pgErr.Code, "28"):
		return "auth"
	case pgErr != nil:
		return "the server refused the connection"
	case errors.As(err, &certErr), errors.As(err, &recErr), errors.As(err, &unknownAuth), errors.As(err, &hostErr),
		strings.Contains(strings.ToLower(err.Error()), "tls"):
		return "TLS: the handshake failed"
	case errors.As(err, &dnsErr):
		return "host not found"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.As(err, &netErr) && netErr.Timeout(), errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the server closed the connection"
	}
	return "could not connect"
}

func isNetError(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr)
}

// fileOffset maps a 1-based character position in the statement as sent
// to a byte offset in the query file's text; ok is false when the position
// is outside the query's text.
func (st *statement) fileOffset(pos int) (int, bool) {
	off := 0
	for n := 1; n < pos; n++ {
		if off >= len(st.sent) {
			return 0, false
		}
		_, size := utf8.DecodeRuneInString(st.sent[off:])
		off += size
	}
	if off < st.prefix || off > len(st.sent) {
		return 0, false
	}
	off -= st.prefix
	if st.toFile != nil {
		off = st.toFile(off)
	}
	return off, true
}

// lineCol returns the 1-based line and column (in characters, as
// catalog.Problem counts them) of byte offset off in text.
func lineCol(text string, off int) (line, col int) {
	off = min(max(off, 0), len(text))
	start := strings.LastIndexByte(text[:off], '\n') + 1
	return strings.Count(text[:off], "\n") + 1, utf8.RuneCountInString(text[start:off]) + 1
}

// formatDuration writes d as a header would: "10m", "1h30m", "45s".
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
