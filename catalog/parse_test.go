package catalog

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// head is the smallest valid header; tests append to it or replace in it.
const head = "-- description: Open issues per month.\n" +
	"-- owner: @some-pm\n" +
	"-- group_size: issue_count\n"

const body = "\nSELECT count(*) AS issue_count FROM issues\n"

// render renders problems as "rule path:line:col: message" lines.
func render(ps Problems) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Rule+" "+p.String())
	}
	return out
}

func TestParseValid(t *testing.T) {
	t.Parallel()
	src := "-- description: Median hours from MR creation to merge, per month.\r\n" +
		"-- owner: @some-pm, @gitlab-org/plan @other.pm\r\n" +
		"--\r\n" +
		"--   group_size  :   mr_count  \r\n" +
		"-- min_group_size: 25\r\n" +
		"-- source: replica\r\n" +
		"-- schedule: 30 2 * * 1-5\r\n" +
		"-- load: replace\r\n" +
		"-- target: mr_merge_hours\r\n" +
		"-- timeout: 1h30m\r\n" +
		"-- max_cost: 2.5e6\r\n" +
		"-- max_rows: 5000\r\n" +
		"-- tags: stage::create, code_review,, stage::create\r\n" +
		"\r\n" +
		"-- A free comment, then a block comment.\r\n" +
		"/* one /* nested */ comment */\r\n" +
		"  SELECT 1\r\n"
	cfg := Config{Sources: []string{"main", "replica"}, MaxTimeout: 2 * time.Hour}
	q, ps := Parse("code_review/mr_merge_time.sql", []byte(src), cfg)
	if len(ps) > 0 {
		t.Fatalf("Parse: unexpected problems:\n%v", ps)
	}
	sum := sha256.Sum256([]byte(src))
	checks := []struct {
		field     string
		got, want any
	}{
		{"Name", q.Name, "mr_merge_time"},
		{"Path", q.Path, "code_review/mr_merge_time.sql"},
		{"Area", q.Area, "code_review"},
		{"Text", q.Text, src},
		{"SHA256", q.SHA256, hex.EncodeToString(sum[:])},
		{"Description", q.Description, "Median hours from MR creation to merge, per month."},
		{"Owner", q.Owner, "@some-pm, @gitlab-org/plan @other.pm"},
		{"Owners", strings.Join(q.Owners, " "), "@some-pm @gitlab-org/plan @other.pm"},
		{"GroupSize", q.GroupSize, "mr_count"},
		{"MinGroupSize", q.MinGroupSize, 25},
		{"Source", q.Source, "replica"},
		{"Schedule.Spec", q.Schedule.Spec, "30 2 * * 1-5"},
		{"Schedule.Period", q.Schedule.Period(), 72 * time.Hour},
		{"Load", q.Load, LoadReplace},
		{"Target", q.Target, "mr_merge_hours"},
		{"Timeout", q.Timeout, 90 * time.Minute},
		{"MaxCost", q.MaxCost, 2.5e6},
		{"MaxRows", q.MaxRows, 5000},
		{"Tags", strings.Join(q.Tags, " "), "stage::create code_review"},
		{"BodyLine", q.BodyLine, 17},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %#v, want %#v", c.field, c.got, c.want)
		}
	}
}

func TestParseDefaults(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  Config
		want Query
	}{
		{"zero config", Config{}, Query{MinGroupSize: 10, Source: "main", Timeout: 15 * time.Minute, MaxRows: 100_000}},
		{"configured", Config{
			MinGroupSize: 50, DefaultTimeout: time.Hour, MaxTimeout: 2 * time.Hour, DefaultMaxRows: 7,
			Sources: []string{"prod", "replica"}, DefaultSource: "prod",
		}, Query{MinGroupSize: 50, Source: "prod", Timeout: time.Hour, MaxRows: 7}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			q, ps := Parse("open_issues.sql", []byte(head+body), tc.cfg)
			if len(ps) > 0 {
				t.Fatalf("Parse: unexpected problems:\n%v", ps)
			}
			if q.MinGroupSize != tc.want.MinGroupSize || q.Source != tc.want.Source ||
				q.Timeout != tc.want.Timeout || q.MaxRows != tc.want.MaxRows {
				t.Errorf("got min_group_size %d, source %q, timeout %s, max_rows %d; want %d, %q, %s, %d",
					q.MinGroupSize, q.Source, q.Timeout, q.MaxRows,
					tc.want.MinGroupSize, tc.want.Source, tc.want.Timeout, tc.want.MaxRows)
			}
			if q.Schedule.Spec != "daily" || q.Schedule.Cron() != "0 0 * * *" || q.Load != LoadAppend ||
				q.Target != "open_issues" || q.MaxCost != 0 || q.Tags != nil || q.Area != "" || q.BodyLine != 5 {
				t.Errorf("got schedule %q (%q), load %q, target %q, max_cost %v, tags %q, area %q, body line %d",
					q.Schedule.Spec, q.Schedule.Cron(), q.Load, q.Target, q.MaxCost, q.Tags, q.Area, q.BodyLine)
			}
		})
	}
}

// TestParseProblems has one case per rule (and per message of a rule),
// each asserting the exact rule, position and message.
func TestParseProblems(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		path string // default "a/q.sql"
		src  string
		want []string
	}{
		// file/…
		{name: "too large", src: strings.Repeat("x", MaxFileSize+1),
			want: []string{`file/size a/q.sql:1:1: file is 262145 bytes; the limit is 262144 (256 KiB)`}},
		{name: "invalid utf-8", src: head + "-- tags: caf\xe9\n" + body,
			want: []string{`file/utf8 a/q.sql:4:13: file is not valid UTF-8 (byte 0xe9); save it as UTF-8`}},
		{name: "nul", src: head + body + "\x00",
			want: []string{`file/nul a/q.sql:6:1: file contains a NUL byte; query files are text`}},
		{name: "bom", src: "\uFEFF" + head + body,
			want: []string{`file/bom a/q.sql:1:1: file starts with a byte-order mark; save it as UTF-8 without BOM`}},
		// "WHERE\u00a0x" is an alias, not a WHERE clause; "email\u200b" looks
		// like a red column and is another name. Accepted before file/invisible.
		{name: "no-break space", src: head + "\nSELECT count(*) FROM issues WHERE\u00a0confidential\n",
			want: []string{`file/invisible a/q.sql:5:34: file contains 1 invisible or look-alike space character(s), the first here (U+00A0); reviewers cannot see them, and PostgreSQL reads them as part of a name: use plain spaces`}},
		{name: "zero-width characters", src: head + "-- tags: zero\u200bwidth\n\nSELECT em\u200dail\u2060 FROM users\n",
			want: []string{
				`value/tags a/q.sql:4:10: tag "zero\u200bwidth" is not a lowercase identifier or a scoped tag such as "stage::plan"; separate tags with commas (did you mean "zero_width"?)`,
				`file/invisible a/q.sql:4:14: file contains 3 invisible or look-alike space character(s), the first here (U+200B); reviewers cannot see them, and PostgreSQL reads them as part of a name: use plain spaces`,
			}},
		{name: "byte-order mark inside", src: head + "\nSELECT 1 \ufeff\n",
			want: []string{`file/invisible a/q.sql:5:10: file contains 1 invisible or look-alike space character(s), the first here (U+FEFF); reviewers cannot see them, and PostgreSQL reads them as part of a name: use plain spaces`}},
		// PostgreSQL ends the comment at the CR: "AND false" runs, reviewers
		// read it as part of the comment. Accepted before file/cr.
		{name: "carriage return in the body", src: head + "\nSELECT count(*) FROM issues WHERE true -- all\r AND false\r\n",
			want: []string{`file/cr a/q.sql:5:46: carriage return without a line feed; PostgreSQL ends a -- comment there, reviewers do not see a line end: save the file with LF or CRLF line ends`}},
		{name: "bidi", src: head + "\nSELECT 1 /* \u202e } \u2066 */\n",
			want: []string{`file/bidi a/q.sql:5:13: file contains 2 invisible bidirectional control character(s), the first here; they make code read differently from what runs`}},
		{name: "no sql", src: head + "\n-- only a comment\n/* and another */\n",
			want: []string{`file/no-sql a/q.sql:4:1: no SQL after the header`}},
		{name: "no sql, no newline", src: strings.TrimSuffix(head, "\n"),
			want: []string{`file/no-sql a/q.sql:3:1: no SQL after the header`}},
		{name: "empty file", src: "",
			want: []string{
				`file/no-sql a/q.sql:1:1: no SQL after the header`,
				`header/missing-key a/q.sql:1:1: missing required header key "description", e.g. "-- description: Median hours from MR creation to merge, per month."`,
				`header/missing-key a/q.sql:1:1: missing required header key "group_size", e.g. "-- group_size: mr_count"`,
				`header/missing-key a/q.sql:1:1: missing required header key "owner", e.g. "-- owner: @your-gitlab-handle"`,
			}},

		// header/…
		{name: "free comment in header", src: head + "-- Counts only open issues.\n" + body,
			want: []string{`header/comment a/q.sql:4:4: header line is not "-- key: value"; put free comments after a blank line that ends the header`}},
		{name: "unknown key with suggestion", src: head + "-- schedul: daily\n" + body,
			want: []string{`header/unknown-key a/q.sql:4:4: unknown header key "schedul" (did you mean "schedule"?)`}},
		{name: "unknown key, transposition", src: head + "-- laod: replace\n" + body,
			want: []string{`header/unknown-key a/q.sql:4:4: unknown header key "laod" (did you mean "load"?)`}},
		{name: "unknown key, case and hyphen", src: head + "-- Min-Group-Size: 20\n" + body,
			want: []string{`header/unknown-key a/q.sql:4:4: unknown header key "Min-Group-Size" (did you mean "min_group_size"?)`}},
		{name: "unknown key, prefix", src: head + "-- desc: x\n" + body,
			want: []string{`header/unknown-key a/q.sql:4:4: unknown header key "desc" (did you mean "description"?)`}},
		{name: "unknown key, ambiguous prefix", src: head + "-- max: 3\n" + body,
			want: []string{`header/unknown-key a/q.sql:4:4: unknown header key "max" (known keys: description, owner, group_size, min_group_size, source, schedule, load, target, timeout, max_cost, max_rows, tags, entity)`}},
		{name: "unknown key without suggestion", src: head + "-- reviewer: @x\n" + body,
			want: []string{`header/unknown-key a/q.sql:4:4: unknown header key "reviewer" (known keys: description, owner, group_size, min_group_size, source, schedule, load, target, timeout, max_cost, max_rows, tags, entity)`}},
		{name: "duplicate key", src: head + "--\n-- owner: @other\n" + body,
			want: []string{`header/duplicate-key a/q.sql:5:4: duplicate header key "owner" (first on line 2)`}},
		{name: "missing description", src: "-- owner: @some-pm\n-- group_size: n\n" + body,
			want: []string{`header/missing-key a/q.sql:1:1: missing required header key "description", e.g. "-- description: Median hours from MR creation to merge, per month."`}},
		{name: "header must start on line 1", src: "\n" + head + body,
			want: []string{
				`header/missing-key a/q.sql:1:1: missing required header key "description", e.g. "-- description: Median hours from MR creation to merge, per month."`,
				`header/missing-key a/q.sql:1:1: missing required header key "group_size", e.g. "-- group_size: mr_count"`,
				`header/missing-key a/q.sql:1:1: missing required header key "owner", e.g. "-- owner: @your-gitlab-handle"`,
			}},
		{name: "empty value", src: head + "-- load:   \n" + body,
			want: []string{`header/empty-value a/q.sql:4:4: header key "load" has no value`}},
		{name: "control character", src: head + "-- target: ab\x1bc\n" + body,
			want: []string{`header/control-char a/q.sql:4:14: value of "target" contains the control character U+001B`}},
		{name: "carriage return alone", src: strings.ReplaceAll(head, "\n", "\r") + "\n" + body,
			want: []string{ // one long line to everything that reads LF or CRLF
				`header/missing-key a/q.sql:1:1: missing required header key "group_size", e.g. "-- group_size: mr_count"`,
				`header/missing-key a/q.sql:1:1: missing required header key "owner", e.g. "-- owner: @your-gitlab-handle"`,
				`header/control-char a/q.sql:1:39: carriage return without a line feed; save the file with LF or CRLF line ends`,
			}},
		{name: "no ASCII suggestion", path: "a/größe.sql", src: head + "-- target: Größe\n" + body,
			want: []string{
				`name/invalid a/größe.sql:1:1: file name "größe.sql" does not make a valid query name: use lowercase letters, digits and underscores, starting with a letter`,
				`value/target a/größe.sql:4:12: target "Größe" is not a warehouse table name: use lowercase letters, digits and underscores, starting with a letter`,
			}},

		// value/…
		{name: "description too long", src: strings.Replace(head, "Open issues per month.", strings.Repeat("é", 501), 1) + body,
			want: []string{`value/description a/q.sql:1:17: description is 501 characters long; the limit is 500`}},
		{name: "owner without @", src: strings.Replace(head, "@some-pm", "@some-pm,other-pm", 1) + body,
			want: []string{`value/owner a/q.sql:2:20: owner "other-pm" is not a GitLab handle (did you mean "@other-pm"?)`}},
		{name: "owner not a handle", src: strings.Replace(head, "@some-pm", "Some PM <pm@example.com>", 1) + body,
			want: []string{
				`value/owner a/q.sql:2:11: owner "Some" is not a GitLab handle (did you mean "@Some"?)`,
				`value/owner a/q.sql:2:16: owner "PM" is not a GitLab handle (did you mean "@PM"?)`,
				`value/owner a/q.sql:2:19: owner "<pm@example.com>" is not a GitLab handle: write @ and a username or group path, such as @some-pm or @gitlab-org/plan`,
			}},
		{name: "owner ends with .git", src: strings.Replace(head, "@some-pm", "@group/repo.git", 1) + body,
			want: []string{`value/owner a/q.sql:2:11: owner "@group/repo.git" is not a GitLab handle: write @ and a username or group path, such as @some-pm or @gitlab-org/plan`}},
		{name: "owner only commas", src: strings.Replace(head, "@some-pm", ", ,", 1) + body,
			want: []string{`value/owner a/q.sql:2:11: owner lists no @handle`}},
		{name: "group_size not an identifier", src: strings.Replace(head, "issue_count", "Issue Count", 1) + body,
			want: []string{`value/group_size a/q.sql:3:16: group_size "Issue Count" is not a lowercase SQL identifier naming an output column, such as "mr_count" (did you mean "issue_count"?)`}},
		{name: "group_size quoted", src: strings.Replace(head, "issue_count", `"n"`, 1) + body,
			want: []string{`value/group_size a/q.sql:3:16: group_size "\"n\"" is not a lowercase SQL identifier naming an output column, such as "mr_count" (did you mean "n"?)`}},
		{name: "min_group_size below floor", src: head + "-- min_group_size: 5\n" + body,
			want: []string{`value/min_group_size a/q.sql:4:20: min_group_size 5 is below the floor of 10 (the operator sets the floor with guard.min_group_size)`}},
		{name: "min_group_size not a number", src: head + "-- min_group_size: ten\n" + body,
			want: []string{`value/min_group_size a/q.sql:4:20: min_group_size "ten" is not a whole number`}},
		{name: "min_group_size huge", src: head + "-- min_group_size: 99999999999999999999\n" + body,
			want: []string{`value/min_group_size a/q.sql:4:20: min_group_size "99999999999999999999" is out of range`}},
		{name: "source unknown", src: head + "-- source: mian\n" + body,
			want: []string{`value/source a/q.sql:4:12: unknown source "mian" (did you mean "main"?)`}},
		{name: "source unknown, no suggestion", src: head + "-- source: warehouse\n" + body,
			want: []string{`value/source a/q.sql:4:12: unknown source "warehouse" (configured sources: main)`}},
		{name: "source not an identifier", src: head + "-- source: Main DB\n" + body,
			want: []string{`value/source a/q.sql:4:12: source "Main DB" is not a lowercase identifier such as "main"`}},
		{name: "schedule misspelt", src: head + "-- schedule: dialy\n" + body,
			want: []string{`value/schedule a/q.sql:4:14: unknown schedule "dialy" (did you mean "daily"?)`}},
		{name: "schedule unknown", src: head + "-- schedule: hourly\n" + body,
			want: []string{`value/schedule a/q.sql:4:14: unknown schedule "hourly": use daily, weekly, monthly or a 5-field cron expression`}},
		{name: "schedule descriptor", src: head + "-- schedule: @every 1h\n" + body,
			want: []string{`value/schedule a/q.sql:4:14: schedule "@every 1h": cron descriptors are not supported; use daily, weekly, monthly or a 5-field cron expression`}},
		{name: "schedule descriptor with equivalent", src: head + "-- schedule: @weekly\n" + body,
			want: []string{`value/schedule a/q.sql:4:14: schedule "@weekly": cron descriptors are not supported; use daily, weekly, monthly or a 5-field cron expression (did you mean "weekly"?)`}},
		{name: "schedule time zone", src: head + "-- schedule: CRON_TZ=Europe/Berlin 0 4 * * *\n" + body,
			want: []string{`value/schedule a/q.sql:4:14: schedule "CRON_TZ=Europe/Berlin 0 4 * * *": schedules are in UTC; remove the time zone`}},
		{name: "cron out of range", src: head + "-- schedule: 0 25 * * *\n" + body,
			want: []string{`value/schedule a/q.sql:4:14: schedule "0 25 * * *" is not a valid cron expression: end of range (25) above maximum (23): 25`}},
		{name: "cron with seconds", src: head + "-- schedule: 0 0 4 * * *\n" + body,
			want: []string{`value/schedule a/q.sql:4:14: schedule "0 0 4 * * *" is not a valid cron expression: expected exactly 5 fields, found 6: [0 0 4 * * *]`}},
		{name: "schedule in words", src: head + "-- schedule: every monday\n" + body,
			want: []string{`value/schedule a/q.sql:4:14: unknown schedule "every monday": use daily, weekly (Mondays), monthly (the 1st) or a 5-field cron expression in UTC (minute hour day-of-month month day-of-week, such as "0 0 * * 3" for Wednesdays) (did you mean "weekly"? it runs on Mondays)`}},
		{name: "schedule in words, friday", src: head + "-- schedule: fridays at 6\n" + body,
			want: []string{`value/schedule a/q.sql:4:14: unknown schedule "fridays at 6": use daily, weekly (Mondays), monthly (the 1st) or a 5-field cron expression in UTC (minute hour day-of-month month day-of-week, such as "0 0 * * 3" for Wednesdays) (did you mean "0 0 * * 5"? on Fridays)`}},
		{name: "cron never fires", src: head + "-- schedule: 0 0 30 2 *\n" + body,
			want: []string{`value/schedule a/q.sql:4:14: schedule "0 0 30 2 *" never fires`}},
		{name: "load misspelt", src: head + "-- load: replce\n" + body,
			want: []string{`value/load a/q.sql:4:10: unknown load mode "replce" (did you mean "replace"?)`}},
		{name: "load unknown", src: head + "-- load: merge\n" + body,
			want: []string{`value/load a/q.sql:4:10: unknown load mode "merge": use append or replace`}},
		{name: "target invalid", src: head + "-- target: Issue-Counts\n" + body,
			want: []string{`value/target a/q.sql:4:12: target "Issue-Counts" is not a warehouse table name: use lowercase letters, digits and underscores, starting with a letter (did you mean "issue_counts"?)`}},
		{name: "target with schema", src: head + "-- target: analytics.issue_counts\n" + body,
			want: []string{`value/target a/q.sql:4:12: target "analytics.issue_counts" is not a warehouse table name: use lowercase letters, digits and underscores, starting with a letter (did you mean "analytics_issue_counts"?)`}},
		{name: "target underscore", src: head + "-- target: _runs\n" + body,
			want: []string{`value/target a/q.sql:4:12: target "_runs" is not a warehouse table name: use lowercase letters, digits and underscores, starting with a letter (did you mean "runs"?)`}},
		{name: "target too long", src: head + "-- target: " + strings.Repeat("t", 64) + "\n" + body,
			want: []string{`value/target a/q.sql:4:12: target "tttttttttttttttttttttttttttttttttttttttt…" is 64 bytes long; the limit is 63 (did you mean "` + strings.Repeat("t", 63) + `"?)`}},
		{name: "timeout not a duration", src: head + "-- timeout: 600\n" + body,
			want: []string{`value/timeout a/q.sql:4:13: timeout "600" is not a duration such as "10m" or "1h30m"`}},
		{name: "timeout zero", src: head + "-- timeout: 0s\n" + body,
			want: []string{`value/timeout a/q.sql:4:13: timeout "0s" must be positive`}},
		{name: "timeout too long", src: head + "-- timeout: 7h\n" + body,
			want: []string{`value/timeout a/q.sql:4:13: timeout "7h" is above the limit of 30m (the operator's guard.max_timeout)`}},
		{name: "timeout just over the default max_timeout", src: head + "-- timeout: 30m1s\n" + body,
			want: []string{`value/timeout a/q.sql:4:13: timeout "30m1s" is above the limit of 30m (the operator's guard.max_timeout)`}},
		{name: "max_cost negative", src: head + "-- max_cost: -1\n" + body,
			want: []string{`value/max_cost a/q.sql:4:14: max_cost "-1" is not a positive number (the largest EXPLAIN total cost allowed, such as 100000)`}},
		{name: "max_cost infinite", src: head + "-- max_cost: Inf\n" + body,
			want: []string{`value/max_cost a/q.sql:4:14: max_cost "Inf" is not a positive number (the largest EXPLAIN total cost allowed, such as 100000)`}},
		{name: "max_rows not a number", src: head + "-- max_rows: 1e6\n" + body,
			want: []string{`value/max_rows a/q.sql:4:14: max_rows "1e6" is not a whole number`}},
		{name: "max_rows zero", src: head + "-- max_rows: 0\n" + body,
			want: []string{`value/max_rows a/q.sql:4:14: max_rows 0 must be positive`}},
		{name: "max_rows too many", src: head + "-- max_rows: 10000001\n" + body,
			want: []string{`value/max_rows a/q.sql:4:14: max_rows "10000001" is above the limit of 10000000`}},
		{name: "max_rows overflow", src: head + "-- max_rows: 99999999999999999999999\n" + body,
			want: []string{`value/max_rows a/q.sql:4:14: max_rows "99999999999999999999999" is above the limit of 10000000`}},
		{name: "tags", src: head + "-- tags: ok, Stage::Plan, two words, a::b::c\n" + body,
			want: []string{
				`value/tags a/q.sql:4:14: tag "Stage::Plan" is not a lowercase identifier or a scoped tag such as "stage::plan"; separate tags with commas (did you mean "stage::plan"?)`,
				`value/tags a/q.sql:4:27: tag "two words" is not a lowercase identifier or a scoped tag such as "stage::plan"; separate tags with commas (did you mean "two_words"?)`,
				`value/tags a/q.sql:4:38: tag "a::b::c" is not a lowercase identifier or a scoped tag such as "stage::plan"; separate tags with commas (did you mean "a::b_c"?)`,
			}},
		{name: "columns count characters", src: "-- description: Größe\n-- owner: @ö-pm, pm\n-- group_size: n\n-- tåg: x\n" + body,
			want: []string{
				`value/owner a/q.sql:2:11: owner "@ö-pm" is not a GitLab handle: write @ and a username or group path, such as @some-pm or @gitlab-org/plan`,
				`value/owner a/q.sql:2:18: owner "pm" is not a GitLab handle (did you mean "@pm"?)`,
				`header/unknown-key a/q.sql:4:4: unknown header key "tåg" (did you mean "tags"?)`,
			}},

		// name/…
		{name: "name with hyphen", path: "a/Issue-Count.sql", src: head + body,
			want: []string{`name/invalid a/Issue-Count.sql:1:1: file name "Issue-Count.sql" does not make a valid query name: use lowercase letters, digits and underscores, starting with a letter (rename the file to "issue_count.sql")`}},
		{name: "name with digit first", path: "2024_issues.sql", src: head + body,
			want: []string{`name/invalid 2024_issues.sql:1:1: file name "2024_issues.sql" does not make a valid query name: use lowercase letters, digits and underscores, starting with a letter (rename the file to "q_2024_issues.sql")`}},
		{name: "name too long", path: strings.Repeat("n", 64) + ".sql", src: head + body,
			want: []string{`name/invalid ` + strings.Repeat("n", 64) + `.sql:1:1: query name "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn…" is 64 bytes long; the limit is 63 (it becomes a table name)`}},

		// config/…
		{name: "bad config", src: head + body,
			want: []string{`config/invalid a/q.sql:1:1: catalog config: invalid MinGroupSize -1: must be at least 1`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := cmp.Or(tc.path, "a/q.sql")
			cfg := Config{}
			if tc.name == "bad config" {
				cfg.MinGroupSize = -1
			}
			q, ps := Parse(path, []byte(tc.src), cfg)
			if got := render(ps); !slices.Equal(got, tc.want) {
				t.Errorf("Parse problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if q != nil && q.Text != tc.src {
				t.Errorf("Text differs from the source")
			}
		})
	}
}

// TestParseKeepsValidValues checks that a query with problems still
// carries its valid values, and defaults for the bad ones.
func TestParseKeepsValidValues(t *testing.T) {
	t.Parallel()
	src := head + "-- load: replace\n-- timeout: forever\n-- schedule: weekly\n" + body
	q, ps := Parse("q.sql", []byte(src), Config{})
	if len(ps) != 1 || ps[0].Rule != "value/timeout" {
		t.Fatalf("problems = %v, want one value/timeout", ps)
	}
	if q.Load != LoadReplace || q.Schedule.Spec != "weekly" || q.Timeout != DefaultTimeout || q.GroupSize != "issue_count" {
		t.Errorf("got load %q, schedule %q, timeout %s, group_size %q", q.Load, q.Schedule.Spec, q.Timeout, q.GroupSize)
	}
}

func TestParseUnreadableGivesNoQuery(t *testing.T) {
	t.Parallel()
	for _, src := range []string{head + "\x00" + body, head + "\xff" + body, strings.Repeat("x", MaxFileSize+1)} {
		q, ps := Parse("q.sql", []byte(src), Config{})
		if q != nil || len(ps) == 0 {
			t.Errorf("Parse(%.20q…) = %v, %v; want nil query and problems", src, q, ps)
		}
	}
}

func TestProblemsError(t *testing.T) {
	t.Parallel()
	ps := Problems{
		{Path: "a/b.sql", Line: 3, Col: 8, Rule: "header/unknown-key", Message: `unknown header key "schedul" (did you mean "schedule"?)`},
		{Path: "a/c.sql", Line: 1, Col: 1, Rule: "file/no-sql", Message: "no SQL after the header"},
	}
	var err error = ps
	want := "a/b.sql:3:8: unknown header key \"schedul\" (did you mean \"schedule\"?)\na/c.sql:1:1: no SQL after the header"
	if err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
	var got Problems
	if !errors.As(err, &got) || len(got) != 2 {
		t.Errorf("errors.As(Problems) = %v", got)
	}
	if got := ps.WithDir("queries")[0].String(); got != `queries/a/b.sql:3:8: unknown header key "schedul" (did you mean "schedule"?)` {
		t.Errorf("WithDir: %s", got)
	}
	if ps[0].Path != "a/b.sql" {
		t.Errorf("WithDir changed its receiver")
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cfg  Config
		want string // "" for valid
	}{
		{Config{}, ""},
		{Config{MinGroupSize: -1}, "invalid MinGroupSize -1: must be at least 1"},
		{Config{DefaultTimeout: -time.Second}, "invalid DefaultTimeout -1s: must be positive"},
		{Config{MaxTimeout: -time.Second}, "invalid MaxTimeout -1s: must be positive"},
		{Config{DefaultTimeout: time.Hour, MaxTimeout: time.Minute}, "invalid DefaultTimeout 1h0m0s: above MaxTimeout 1m0s"},
		{Config{DefaultMaxRows: MaxRowsLimit + 1}, "invalid DefaultMaxRows 10000001: must be between 1 and 10000000"},
		{Config{Sources: []string{"main", "Replica"}}, `invalid Sources[1] "Replica": must be a lowercase identifier`},
		{Config{Sources: []string{"main", "main"}}, `invalid Sources[1] "main": listed twice`},
		{Config{Sources: []string{"prod"}}, `invalid DefaultSource "main": not one of Sources ["prod"]`},
		{Config{Sources: []string{"prod"}, DefaultSource: "prod"}, ""},
	} {
		err := tc.cfg.withDefaults().validate()
		if got := errString(err); got != tc.want {
			t.Errorf("validate(%+v) = %q, want %q", tc.cfg, got, tc.want)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestSuggest(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, want string
	}{
		{"schedul", "schedule"},
		{"shcedule", "schedule"}, // transposition: one edit
		{"owners", "owner"},
		{"OWNER", "owner"},
		{"group-size", "group_size"},
		{"groupsize", "group_size"},
		{"group", "group_size"},  // prefix
		{"max", ""},              // ambiguous prefix
		{"to", ""},               // too short to guess
		{"ta", ""},               // two edits from "tags", but only two characters
		{"timeout_s", "timeout"}, // two edits
		{"reviewer", ""},
		{strings.Repeat("x", 100), ""},
	} {
		if got := suggest(tc.in, headerKeys); got != tc.want {
			t.Errorf("suggest(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestMaxTimeout: the operator's guard.max_timeout caps a header's
// timeout (a problem at the value's line and column) and, when below 15m,
// is also the default timeout.
func TestMaxTimeout(t *testing.T) {
	t.Parallel()
	head := "-- description: d\n-- owner: @pm\n-- group_size: n\n"
	for _, tc := range []struct {
		name    string
		max     time.Duration
		header  string
		want    time.Duration
		problem string
	}{
		{name: "default cap", header: "-- timeout: 30m\n", want: 30 * time.Minute},
		{name: "over the default cap", header: "-- timeout: 45m\n",
			problem: `value/timeout a/q.sql:4:13: timeout "45m" is above the limit of 30m (the operator's guard.max_timeout)`},
		{name: "configured cap", max: 2 * time.Hour, header: "-- timeout: 2h\n", want: 2 * time.Hour},
		{name: "over a configured cap", max: 10 * time.Minute, header: "--   timeout:  11m\n",
			problem: `value/timeout a/q.sql:4:16: timeout "11m" is above the limit of 10m (the operator's guard.max_timeout)`},
		{name: "default timeout under a low cap", max: 10 * time.Minute, want: 10 * time.Minute},
		{name: "default timeout", want: DefaultTimeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			q, ps := Parse("a/q.sql", []byte(head+tc.header+"SELECT count(*) AS n FROM t\n"), Config{MaxTimeout: tc.max})
			var got []string
			for _, p := range ps {
				got = append(got, p.Rule+" "+p.String())
			}
			switch {
			case tc.problem != "" && (len(got) != 1 || got[0] != tc.problem):
				t.Errorf("problems %q, want %q", got, tc.problem)
			case tc.problem == "" && (len(got) > 0 || q.Timeout != tc.want):
				t.Errorf("timeout %s, problems %q; want %s", q.Timeout, got, tc.want)
			}
		})
	}
}
