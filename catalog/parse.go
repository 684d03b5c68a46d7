package catalog

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Header keys, in the order doc.go and suggestions list them.
var headerKeys = []string{
	"description", "owner", "group_size", "min_group_size", "source",
	"schedule", "load", "target", "timeout", "max_cost", "max_rows", "tags", "entity",
}

// Required keys and the example line a missing one's message shows.
var requiredKeys = []struct{ key, example string }{
	{"description", "-- description: Median hours from MR creation to merge, per month."},
	{"owner", "-- owner: @your-gitlab-handle"},
	{"group_size", "-- group_size: mr_count"},
}

// Parse parses and checks one query file; path is its slash-separated path
// within the catalog's fs.FS and names the query. It checks everything that
// concerns the single file (not the uniqueness of names and targets, which
// Load and LoadFiles check across files) and never panics.
//
// The query is returned with every valid header value and defaults for the
// rest, even when there are problems, so that a validator can still check
// its SQL; a query with problems must not be run. The query is nil only
// when the file cannot be read as text (too large, not UTF-8, NUL bytes).
func Parse(path string, src []byte, cfg Config) (*Query, Problems) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, Problems{{Path: path, Line: 1, Col: 1, Rule: "config/invalid", Message: "catalog config: " + err.Error()}}
	}
	p := &parser{path: path, cfg: cfg}
	q := p.parse(src)
	p.problems.sort()
	return q, p.problems
}

// A field is one "-- key: value" line of a header.
type field struct {
	key, value     string
	line           int
	keyCol, valCol int
}

type parser struct {
	path     string
	cfg      Config
	problems Problems
}

func (p *parser) report(line, col int, rule, format string, args ...any) {
	p.problems = append(p.problems, Problem{
		Path: p.path, Line: line, Col: col, Rule: rule,
		Message: fmt.Sprintf(format, args...),
	})
}

func (p *parser) parse(src []byte) *Query {
	if len(src) > MaxFileSize {
		p.report(1, 1, "file/size", "file is %d bytes; the limit is %d (256 KiB)", len(src), MaxFileSize)
		return nil
	}
	bad := false
	if !utf8.Valid(src) {
		off := invalidUTF8(src)
		line, col := position(src, off)
		p.report(line, col, "file/utf8", "file is not valid UTF-8 (byte 0x%02x); save it as UTF-8", src[off])
		bad = true
	}
	if off := bytes.IndexByte(src, 0); off >= 0 {
		line, col := position(src, off)
		p.report(line, col, "file/nul", "file contains a NUL byte; query files are text")
		bad = true
	}
	if bad {
		return nil
	}
	sum := sha256.Sum256(src)
	text := string(src)
	q := &Query{
		Name:         stem(p.path),
		Path:         p.path,
		Area:         area(p.path),
		Text:         text,
		SHA256:       hex.EncodeToString(sum[:]),
		MinGroupSize: p.cfg.MinGroupSize,
		Source:       p.cfg.DefaultSource,
		Schedule:     daily,
		Load:         LoadAppend,
		Timeout:      p.cfg.DefaultTimeout,
		MaxRows:      p.cfg.DefaultMaxRows,
	}
	q.Target = q.Name
	p.checkName(q.Name)

	start := 0
	if strings.HasPrefix(text, "\uFEFF") {
		p.report(1, 1, "file/bom", "file starts with a byte-order mark; save it as UTF-8 without BOM")
		start = len("\uFEFF")
	}
	p.checkBidi(text)
	p.checkInvisible(text, start)

	// The header: the leading lines that start with "--".
	fields := map[string]field{}
	var order []string
	pos, lineNo := start, 1
	for pos < len(text) {
		end := strings.IndexByte(text[pos:], '\n')
		next := pos + end + 1
		if end < 0 {
			end, next = len(text)-pos, len(text)
		}
		line := strings.TrimSuffix(text[pos:pos+end], "\r")
		if !strings.HasPrefix(line, "--") {
			break
		}
		if f, ok := p.headerLine(line, lineNo); ok {
			if first, dup := fields[f.key]; dup {
				p.report(f.line, f.keyCol, "header/duplicate-key", "duplicate header key %q (first on line %d)", f.key, first.line)
			} else {
				fields[f.key] = f
				order = append(order, f.key)
			}
		}
		pos = next
		if next == len(text) && !strings.HasSuffix(text, "\n") {
			break // the last line had no newline: no line after it
		}
		lineNo++
	}

	p.checkLoneCR(text, pos)

	// The body: the first token that is neither blank nor a comment.
	if off := firstToken(text, pos); off >= 0 {
		q.BodyLine = lineNo + strings.Count(text[pos:off], "\n")
	} else {
		p.report(min(lineNo, strings.Count(text, "\n")+1), 1, "file/no-sql", "no SQL after the header")
	}

	for _, r := range requiredKeys {
		if _, ok := fields[r.key]; !ok {
			p.report(1, 1, "header/missing-key", "missing required header key %q, e.g. %q", r.key, r.example)
		}
	}
	for _, k := range order {
		p.apply(q, fields[k])
	}
	return q
}

// headerLine parses one header line; ok is false for a bare "--" line and
// for a line with a problem.
func (p *parser) headerLine(line string, n int) (f field, ok bool) {
	i := 2
	for i < len(line) && isBlank(line[i]) {
		i++
	}
	if i == len(line) {
		return field{}, false // a bare "--"
	}
	keyStart := i
	for i < len(line) {
		r, size := utf8.DecodeRuneInString(line[i:])
		if !isKeyRune(r) {
			break
		}
		i += size
	}
	key := line[keyStart:i]
	for i < len(line) && isBlank(line[i]) {
		i++
	}
	if key == "" || i == len(line) || line[i] != ':' {
		p.report(n, column(line, keyStart), "header/comment",
			"header line is not \"-- key: value\"; put free comments after a blank line that ends the header")
		return field{}, false
	}
	i++
	for i < len(line) && isBlank(line[i]) {
		i++
	}
	f = field{
		key:    key,
		value:  strings.TrimRight(line[i:], " \t"),
		line:   n,
		keyCol: column(line, keyStart),
		valCol: column(line, i),
	}
	if !slices.Contains(headerKeys, key) {
		msg := fmt.Sprintf("unknown header key %q", key)
		if s := suggest(key, headerKeys); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		} else {
			msg += " (known keys: " + strings.Join(headerKeys, ", ") + ")"
		}
		p.report(n, f.keyCol, "header/unknown-key", "%s", msg)
		return field{}, false
	}
	return f, true
}

// apply checks f's value and sets it on q.
func (p *parser) apply(q *Query, f field) {
	v := f.value
	if v == "" {
		p.report(f.line, f.keyCol, "header/empty-value", "header key %q has no value", f.key)
		return
	}
	if off := strings.IndexFunc(v, isControl); off >= 0 {
		r, _ := utf8.DecodeRuneInString(v[off:])
		col := f.valCol + utf8.RuneCountInString(v[:off])
		if r == '\r' {
			p.report(f.line, col, "header/control-char",
				"carriage return without a line feed; save the file with LF or CRLF line ends")
			return
		}
		p.report(f.line, col, "header/control-char", "value of %q contains the control character %U", f.key, r)
		return
	}
	bad := func(format string, args ...any) {
		p.report(f.line, f.valCol, "value/"+f.key, format, args...)
	}
	switch f.key {
	case "description":
		if n := utf8.RuneCountInString(v); n > MaxDescriptionLength {
			bad("description is %d characters long; the limit is %d", n, MaxDescriptionLength)
			return
		}
		q.Description = v
	case "owner":
		if owners := p.owners(f); owners != nil {
			q.Owner, q.Owners = v, owners
		}
	case "group_size":
		if !isIdent(v) || len(v) > MaxNameLength {
			bad("group_size %s is not a lowercase SQL identifier naming an output column, such as \"mr_count\"%s",
				quote(v), didYouMean(identSuggestion(v, false)))
			return
		}
		q.GroupSize = v
	case "min_group_size":
		n, err := strconv.Atoi(v)
		switch {
		case errors.Is(err, strconv.ErrRange):
			bad("min_group_size %s is out of range", quote(v))
		case err != nil:
			bad("min_group_size %s is not a whole number", quote(v))
		case n < p.cfg.MinGroupSize:
			bad("min_group_size %d is below the floor of %d (the operator sets the floor with guard.min_group_size)", n, p.cfg.MinGroupSize)
		default:
			q.MinGroupSize = n
		}
	case "source":
		switch {
		case !isIdent(v):
			bad("source %s is not a lowercase identifier such as \"main\"", quote(v))
		case !slices.Contains(p.cfg.Sources, v):
			if s := suggest(v, p.cfg.Sources); s != "" {
				bad("unknown source %s (did you mean %q?)", quote(v), s)
			} else {
				bad("unknown source %s (configured sources: %s)", quote(v), strings.Join(p.cfg.Sources, ", "))
			}
		default:
			q.Source = v
		}
	case "schedule":
		s, err := ParseSchedule(v)
		if err == nil {
			q.Schedule = s
			return
		}
		p.badSchedule(f, err)
	case "load":
		switch LoadMode(v) {
		case LoadAppend, LoadReplace:
			q.Load = LoadMode(v)
		default:
			if s := suggest(v, []string{string(LoadAppend), string(LoadReplace)}); s != "" {
				bad("unknown load mode %s (did you mean %q?)", quote(v), s)
			} else {
				bad("unknown load mode %s: use append or replace", quote(v))
			}
		}
	case "target":
		if !isTableName(v) {
			msg := fmt.Sprintf("target %s is not a warehouse table name: use lowercase letters, digits and underscores, starting with a letter", quote(v))
			if len(v) > MaxNameLength && isIdent(v) {
				msg = fmt.Sprintf("target %s is %d bytes long; the limit is %d", quote(v), len(v), MaxNameLength)
			}
			bad("%s%s", msg, didYouMean(identSuggestion(v, true)))
			return
		}
		q.Target, q.targetLine, q.targetCol = v, f.line, f.valCol
	case "timeout":
		d, err := time.ParseDuration(v)
		switch {
		case err != nil:
			bad("timeout %s is not a duration such as \"10m\" or \"1h30m\"", quote(v))
		case d <= 0:
			bad("timeout %s must be positive", quote(v))
		case d > p.cfg.MaxTimeout:
			bad("timeout %s is above the limit of %s (the operator's guard.max_timeout)", quote(v), formatDuration(p.cfg.MaxTimeout))
		default:
			q.Timeout = d
		}
	case "max_cost":
		c, err := strconv.ParseFloat(v, 64)
		if err != nil || c <= 0 || math.IsInf(c, 0) || math.IsNaN(c) {
			bad("max_cost %s is not a positive number (the largest EXPLAIN total cost allowed, such as 100000)", quote(v))
			return
		}
		q.MaxCost = c
	case "max_rows":
		n, err := strconv.Atoi(v)
		switch {
		case err != nil && !errors.Is(err, strconv.ErrRange):
			bad("max_rows %s is not a whole number", quote(v))
		case err != nil || n > MaxRowsLimit:
			bad("max_rows %s is above the limit of %d", quote(v), MaxRowsLimit)
		case n <= 0:
			bad("max_rows %d must be positive", n)
		default:
			q.MaxRows = n
		}
	case "tags":
		q.Tags = p.tags(f)
	case "entity":
		switch v {
		case "person", "namespace":
			q.Entity = v
		default:
			bad("entity %s: person (the default: the people behind each row) or namespace (count namespaces for tables whose rows belong to no person)", quote(v))
		}
	}
}

// owners parses the owner value: @handles separated by commas or blanks.
// It returns nil after reporting a problem.
func (p *parser) owners(f field) []string {
	var owners []string
	ok := true
	for off, tok := range tokens(f.value, ", \t") {
		col := f.valCol + utf8.RuneCountInString(f.value[:off])
		switch {
		case isHandle(tok):
			if !slices.Contains(owners, tok) {
				owners = append(owners, tok)
			}
		case !strings.HasPrefix(tok, "@") && isHandle("@"+tok):
			p.report(f.line, col, "value/owner", "owner %s is not a GitLab handle (did you mean %q?)", quote(tok), "@"+tok)
			ok = false
		default:
			p.report(f.line, col, "value/owner",
				"owner %s is not a GitLab handle: write @ and a username or group path, such as @some-pm or @gitlab-org/plan", quote(tok))
			ok = false
		}
	}
	if ok && len(owners) == 0 {
		p.report(f.line, f.valCol, "value/owner", "owner lists no @handle")
		return nil
	}
	if !ok {
		return nil
	}
	return owners
}

// tags parses the tags value: comma-separated tags; empty items are skipped.
func (p *parser) tags(f field) []string {
	var tags []string
	for off, item := range tokens(f.value, ",") {
		tag := strings.Trim(item, " \t")
		if tag == "" {
			continue
		}
		off += strings.Index(item, tag)
		if !isTag(tag) {
			p.report(f.line, f.valCol+utf8.RuneCountInString(f.value[:off]), "value/tags",
				"tag %s is not a lowercase identifier or a scoped tag such as \"stage::plan\"; separate tags with commas%s",
				quote(tag), didYouMean(tagSuggestion(tag)))
			continue
		}
		if !slices.Contains(tags, tag) {
			tags = append(tags, tag)
		}
	}
	return tags
}

var scheduleNames = []string{"daily", "weekly", "monthly"}

// Cron descriptors and what to write instead.
var descriptors = map[string]string{
	"@daily": "daily", "@midnight": "daily", "@weekly": "weekly", "@monthly": "monthly",
	"@hourly": "0 * * * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *",
}

func (p *parser) badSchedule(f field, err error) {
	v := f.value
	bad := func(format string, args ...any) {
		p.report(f.line, f.valCol, "value/schedule", format, args...)
	}
	const use = "use daily, weekly, monthly or a 5-field cron expression"
	switch {
	case strings.HasPrefix(v, "@"):
		bad("schedule %s: cron descriptors are not supported; %s%s", quote(v), use, didYouMean(descriptors[v]))
	case strings.HasPrefix(v, "TZ=") || strings.HasPrefix(v, "CRON_TZ="):
		bad("schedule %s: schedules are in UTC; remove the time zone", quote(v))
	case errors.Is(err, errNeverFires):
		bad("schedule %s never fires", quote(v))
	case !strings.ContainsAny(v, " \t"):
		if s := suggest(v, scheduleNames); s != "" {
			bad("unknown schedule %s (did you mean %q?)", quote(v), s)
		} else {
			bad("unknown schedule %s: %s", quote(v), use)
		}
	case !looksLikeCron(v):
		bad("unknown schedule %s: use %s%s", quote(v), ScheduleForms, weekdayHint(v))
	default:
		bad("schedule %s is not a valid cron expression: %s", quote(v), err)
	}
}

func (p *parser) checkName(name string) {
	switch {
	case !isIdent(name) || name[0] == '_':
		p.report(1, 1, "name/invalid",
			"file name %s does not make a valid query name: use lowercase letters, digits and underscores, starting with a letter%s",
			quote(path.Base(p.path)), renameHint(identSuggestion(name, true)))
	case len(name) > MaxNameLength:
		p.report(1, 1, "name/invalid", "query name %s is %d bytes long; the limit is %d (it becomes a table name)",
			quote(name), len(name), MaxNameLength)
	}
}

func renameHint(name string) string {
	if name == "" {
		return ""
	}
	return fmt.Sprintf(" (rename the file to %q)", name+".sql")
}

// Bidirectional control characters make text look different from what it
// is (CVE-2021-42574, "Trojan Source"); reviewers approve what they see.
func isBidi(r rune) bool {
	switch r {
	case '\u061C', '\u200E', '\u200F', '\u202A', '\u202B', '\u202C', '\u202D', '\u202E',
		'\u2066', '\u2067', '\u2068', '\u2069':
		return true
	}
	return false
}

func (p *parser) checkBidi(text string) {
	off := strings.IndexFunc(text, isBidi)
	if off < 0 {
		return
	}
	n := 0
	for _, r := range text[off:] {
		if isBidi(r) {
			n++
		}
	}
	line, col := position([]byte(text), off)
	p.report(line, col, "file/bidi",
		"file contains %d invisible bidirectional control character(s), the first here; they make code read differently from what runs", n)
}

// isInvisible reports whether r is a character a reviewer cannot see, or
// sees as a plain space, that PostgreSQL reads as part of a word: a
// zero-width or other format character (U+200B, U+2060, a soft hyphen, a
// byte-order mark inside the text), a space other than U+0020 (no-break,
// en, ideographic) or a line or paragraph separator. "WHERE\u00a0x" is one
// identifier, an alias, not a WHERE clause; "email\u200b" looks like a red
// column and is another name. Bidirectional controls have their own rule.
func isInvisible(r rune) bool {
	if r == ' ' || r == '\t' || isBidi(r) {
		return false
	}
	return unicode.In(r, unicode.Cf, unicode.Zs, unicode.Zl, unicode.Zp)
}

func (p *parser) checkInvisible(text string, start int) {
	off := strings.IndexFunc(text[start:], isInvisible)
	if off < 0 {
		return
	}
	off += start
	r, _ := utf8.DecodeRuneInString(text[off:])
	n := 0
	for _, r := range text[off:] {
		if isInvisible(r) {
			n++
		}
	}
	line, col := position([]byte(text), off)
	p.report(line, col, "file/invisible",
		"file contains %d invisible or look-alike space character(s), the first here (%U); reviewers cannot see them, and PostgreSQL reads them as part of a name: use plain spaces",
		n, r)
}

// checkLoneCR reports a carriage return without a line feed after the
// header (header values report their own): PostgreSQL ends a -- comment at
// it, GitLab's diff and most editors do not, so the text after it runs
// while reviewers read it as part of the comment.
func (p *parser) checkLoneCR(text string, pos int) {
	for i := pos; i < len(text); i++ {
		if text[i] == '\r' && (i+1 == len(text) || text[i+1] != '\n') {
			line, col := position([]byte(text), i)
			p.report(line, col, "file/cr",
				"carriage return without a line feed; PostgreSQL ends a -- comment there, reviewers do not see a line end: save the file with LF or CRLF line ends")
			return
		}
	}
}

// firstToken returns the offset of the first byte at or after pos that is
// neither white space nor inside a comment, or -1 if there is none. An
// unterminated block comment counts as SQL, for the guard to reject.
func firstToken(text string, pos int) int {
	for i := pos; i < len(text); {
		switch {
		case strings.ContainsRune(" \t\r\n\f\v", rune(text[i])):
			i++
		case strings.HasPrefix(text[i:], "--"):
			end := strings.IndexByte(text[i:], '\n')
			if end < 0 {
				return -1
			}
			i += end + 1
		case strings.HasPrefix(text[i:], "/*"):
			end := blockCommentEnd(text, i)
			if end < 0 {
				return i
			}
			i = end
		default:
			return i
		}
	}
	return -1
}

// blockCommentEnd returns the offset after the (possibly nested, as in
// PostgreSQL) block comment starting at i, or -1 if it does not end.
func blockCommentEnd(text string, i int) int {
	depth := 0
	for i < len(text)-1 {
		switch text[i : i+2] {
		case "/*":
			depth++
			i += 2
		case "*/":
			depth--
			i += 2
			if depth == 0 {
				return i
			}
		default:
			i++
		}
	}
	return -1
}

// tokens yields the non-empty runs of s between any of the bytes in seps,
// with their byte offsets.
func tokens(s, seps string) func(yield func(int, string) bool) {
	return func(yield func(int, string) bool) {
		start := -1
		for i := 0; i <= len(s); i++ {
			if i < len(s) && !strings.ContainsRune(seps, rune(s[i])) {
				if start < 0 {
					start = i
				}
				continue
			}
			if start >= 0 {
				if !yield(start, s[start:i]) {
					return
				}
				start = -1
			}
		}
	}
}

// stem returns the file name of a slash path without its extension.
func stem(p string) string {
	base := path.Base(p)
	return strings.TrimSuffix(base, path.Ext(base))
}

// area returns the directory part of a slash path, "" at the root.
func area(p string) string {
	if d := path.Dir(p); d != "." {
		return d
	}
	return ""
}

// position returns the 1-based line and character column of byte off.
func position(src []byte, off int) (line, col int) {
	lineStart := bytes.LastIndexByte(src[:off], '\n') + 1
	return bytes.Count(src[:off], []byte("\n")) + 1, utf8.RuneCount(src[lineStart:off]) + 1
}

// column returns the 1-based character column of byte off in line.
func column(line string, off int) int {
	return utf8.RuneCountInString(line[:off]) + 1
}

// invalidUTF8 returns the offset of the first invalid UTF-8 sequence.
func invalidUTF8(src []byte) int {
	for off := 0; off < len(src); {
		r, size := utf8.DecodeRune(src[off:])
		if r == utf8.RuneError && size <= 1 {
			return off
		}
		off += size
	}
	return 0
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

// isKeyRune reports whether r may be part of what looks like a key: more
// than keys are made of, so that "Owner:" or "tåg:" is reported as an
// unknown key rather than as a free comment.
func isKeyRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-'
}

func isControl(r rune) bool { return r != '\t' && (unicode.IsControl(r) || r == utf8.RuneError) }

// isIdent reports whether s is a lowercase SQL identifier [a-z_][a-z0-9_]*.
func isIdent(s string) bool {
	if s == "" || '0' <= s[0] && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// isTableName reports whether s is [a-z][a-z0-9_]* of at most
// MaxNameLength bytes: names that start with "_" are left to metricgate's
// own columns and tables.
func isTableName(s string) bool {
	return isIdent(s) && s[0] != '_' && len(s) <= MaxNameLength
}

// isTag reports whether s is a lowercase identifier or two joined by "::".
func isTag(s string) bool {
	scope, name, scoped := strings.Cut(s, "::")
	if scoped {
		return isTableName(scope) && isTableName(name)
	}
	return isTableName(s)
}

// isHandle reports whether s is "@" followed by a GitLab username or a
// group path: segments separated by "/", each of letters, digits, "_",
// "-" and ".", not starting with "-", not ending with "." or ".git" or
// ".atom".
func isHandle(s string) bool {
	rest, ok := strings.CutPrefix(s, "@")
	if !ok || rest == "" || len(rest) > 255 {
		return false
	}
	for seg := range strings.SplitSeq(rest, "/") {
		if seg == "" || seg[0] == '-' || seg[len(seg)-1] == '.' ||
			strings.HasSuffix(seg, ".git") || strings.HasSuffix(seg, ".atom") {
			return false
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.') {
				return false
			}
		}
	}
	return true
}

// identSuggestion turns s into a lowercase identifier, or returns "" when
// that gives nothing useful or s itself.
func identSuggestion(s string, table bool) string {
	if len(s) > 4*MaxNameLength {
		return ""
	}
	var b strings.Builder
	under := false
	for _, r := range strings.ToLower(s) {
		switch {
		case 'a' <= r && r <= 'z' || '0' <= r && r <= '9':
			b.WriteRune(r)
			under = false
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			return "" // no ASCII spelling to offer
		case !under && b.Len() > 0:
			b.WriteByte('_')
			under = true
		}
	}
	out := strings.TrimRight(b.String(), "_")
	if out != "" && '0' <= out[0] && out[0] <= '9' {
		out = "q_" + out
	}
	if len(out) > MaxNameLength {
		out = strings.TrimRight(out[:MaxNameLength], "_")
	}
	if out == s || !isIdent(out) || table && !isTableName(out) {
		return ""
	}
	return out
}

func tagSuggestion(s string) string {
	scope, name, scoped := strings.Cut(s, "::")
	if !scoped {
		return identSuggestion(s, true)
	}
	scope, name = cmp.Or(identSuggestion(scope, true), scope), cmp.Or(identSuggestion(name, true), name)
	if out := scope + "::" + name; out != s && isTag(out) {
		return out
	}
	return ""
}

func didYouMean(s string) string {
	if s == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", s)
}

// quote quotes a value for a message, shortened to 40 characters.
func quote(s string) string {
	const limit = 40
	if utf8.RuneCountInString(s) > limit {
		runes := []rune(s)
		s = string(runes[:limit]) + "…"
	}
	return strconv.Quote(s)
}

// formatDuration prints d without zero minutes and seconds: 6h, 1h30m.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
