package cli

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"gitlab.com/metricgate/metricgate/catalog"
	"gitlab.com/metricgate/metricgate/dump"
	"gitlab.com/metricgate/metricgate/guard"
)

const validateSummary = "check query files: headers and the SQL guard, every problem at once"

func cmdValidate(ctx context.Context, e *env, args []string) int {
	fl := newFlags(e, "validate", "[--config FILE] [--format text|json|codequality] [--output FILE] [--source URL] [DIR|FILE...]",
		validateSummary+" (default DIR: queries.dir); exit 0 when all pass, 1 on problems, 2 on usage errors")
	configPath := fl.String("config", "", "configuration `file` (default metricgate.yml when present)")
	format := fl.String("format", "text", "report `format`: text (compiler-style, on stderr), json, or codequality (GitLab Code Quality report)")
	output := fl.String("output", "", "write the json or codequality report to `file` instead of standard output")
	source := fl.String("source", "", "also check dump.yml's tables and columns, and schema.yml's drift, against the information_schema of the database at `URL`")
	if code, done := parseFlags(fl, args); done {
		return code
	}
	switch *format {
	case "text", "json", "codequality":
	default:
		return e.fail(ExitUsage, "validate", "unknown --format %q: use text, json or codequality", *format)
	}
	if *output != "" && *format == "text" {
		return e.fail(ExitUsage, "validate", "--output goes with --format json or codequality")
	}
	cfg, err := loadConfigOffline(*configPath, e.environ)
	if err != nil {
		return e.fail(ExitUsage, "validate", "%v", err)
	}
	targets := fl.Args()
	if len(targets) == 0 {
		targets = []string{cfg.Queries.Dir}
	}
	files, err := collectQueryFiles(targets)
	if err != nil {
		return e.fail(ExitUsage, "validate", "%v", err)
	}
	g, err := newGuard(cfg)
	if err != nil {
		return e.fail(ExitUsage, "validate", "%v", err)
	}
	rep, err := validateFiles(files, cfg.catalogConfig(), g)
	if err != nil {
		return e.fail(ExitProblems, "validate", "%v", err)
	}
	if code, err := validateDump(ctx, cfg, *source, rep); err != nil {
		return e.fail(code, "validate", "%v", err)
	}
	if code, err := validateSchema(ctx, cfg, *source, rep); err != nil {
		return e.fail(code, "validate", "%v", err)
	}
	switch {
	case *format == "text":
		rep.writeText(e.stdout, e.stderr)
	case *output != "":
		err = writeFileAtomic(*output, func(w io.Writer) error { return rep.write(w, *format) })
	default:
		err = rep.write(e.stdout, *format)
	}
	if err != nil {
		return e.fail(ExitProblems, "validate", "write report: %v", err)
	}
	if *format != "text" && len(rep.Problems) > 0 {
		fmt.Fprintf(e.stderr, "metricgate validate: %s\n", rep.summary())
	}
	if len(rep.Problems) > 0 {
		return ExitProblems
	}
	return ExitOK
}

// queryFiles are the files to validate, in an fs.FS rooted at the working
// directory (or at "/" when a path leads outside it), with the names to
// show them by.
type queryFiles struct {
	fsys    fs.FS
	paths   []string          // fs paths, no leading slash
	display map[string]string // fs path → path as the user named it
}

// collectQueryFiles expands directories into their *.sql files (skipping
// hidden directories); files named explicitly are taken as they are.
func collectQueryFiles(targets []string) (*queryFiles, error) {
	// Paths below the working directory are read relative to it, so that
	// every message shows them as the user wrote them; others from "/".
	local := true
	for _, t := range targets {
		local = local && filepath.IsLocal(filepath.Clean(t))
	}
	qf := &queryFiles{fsys: os.DirFS("."), display: map[string]string{}}
	if !local {
		qf.fsys = os.DirFS("/")
	}
	add := func(shown string) error {
		p := filepath.ToSlash(filepath.Clean(shown))
		if !local {
			abs, err := filepath.Abs(shown)
			if err != nil {
				return err
			}
			p = strings.TrimPrefix(filepath.ToSlash(abs), "/")
		}
		if _, dup := qf.display[p]; !dup {
			qf.paths = append(qf.paths, p)
			qf.display[p] = filepath.ToSlash(filepath.Clean(shown))
		}
		return nil
	}
	for _, t := range targets {
		info, err := os.Stat(t)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("%s: no such file or directory", t)
			}
			return nil, err
		}
		if !info.IsDir() {
			if err := add(t); err != nil {
				return nil, err
			}
			continue
		}
		err = filepath.WalkDir(t, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if p != t && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
					return filepath.SkipDir
				}
				return nil
			}
			if strings.HasSuffix(p, ".sql") {
				return add(p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", t, err)
		}
	}
	return qf, nil
}

// validation is the outcome of validate.
type validation struct {
	Files    int
	Problems []catalog.Problem
	// DumpPath is the dump definition validated with the queries ("" when
	// there is none), DumpTables its table count.
	DumpPath   string
	DumpTables int
	// SchemaPath is the schema catalog checked against --source ("" when
	// not checked).
	SchemaPath string
	// Drift are the differences between the schema catalog and the
	// source's columns: warnings, not problems (an uncatalogued column is
	// denied anyway; a catalogued column the source lacks fails only the
	// queries that read it, and the catalog spans GitLab versions).
	Drift []catalog.Problem
}

// validateDump checks the dump definition (dump.config) when it exists —
// or when --source asks for it — and, with a source URL, its tables and
// columns against the source's information_schema; problems join rep's.
func validateDump(ctx context.Context, cfg *Config, source string, rep *validation) (int, error) {
	path := cfg.Dump.Config
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) && source == "" {
			return 0, nil
		}
		return ExitUsage, fmt.Errorf("dump definition: %w", err)
	}
	rep.DumpPath = path
	def, err := dump.ParseConfig(os.DirFS(filepath.Dir(path)), filepath.Base(path), cfg.Guard.RedColumns)
	var ps dump.Problems
	switch {
	case errors.As(err, &ps):
	case err != nil:
		return ExitProblems, err
	default:
		def.Path = path
		rep.DumpTables = len(def.Tables)
		if cfg.Dump.Group != def.Group {
			ps = append(ps, dump.Problem{Line: 1, Col: 1,
				Message: fmt.Sprintf("group %s differs from the configuration's dump.group %s", def.Group, cfg.Dump.Group)})
		}
		if source != "" {
			var drift *dump.DriftError
			err := dump.CheckURL(ctx, source, def)
			switch {
			case errors.As(err, &drift):
				ps = append(ps, def.DriftProblems(drift)...)
			case err != nil:
				return ExitProblems, fmt.Errorf("check %s against the source: %w", path, dialed("source", "--source", source, err))
			}
		}
	}
	slices.SortStableFunc(ps, func(a, b dump.Problem) int { return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col)) })
	for _, p := range ps {
		rep.Problems = append(rep.Problems, catalog.Problem{Path: path, Line: p.Line, Col: p.Col, Rule: "dump", Message: p.Message})
	}
	return 0, nil
}

// validateFiles checks headers (catalog) and SQL (guard) of every file, and
// the files against each other, and returns every problem.
func validateFiles(qf *queryFiles, cfg catalog.Config, g *guard.Guard) (*validation, error) {
	cat, err := catalog.LoadFiles(qf.fsys, cfg, qf.paths)
	var problems catalog.Problems
	if err != nil && !errors.As(err, &problems) {
		return nil, err
	}
	out := &validation{Files: len(qf.paths), Problems: slices.Clone(problems)}
	if cat != nil {
		// Files with header problems are checked too, so that one pass
		// shows everything.
		queries := slices.Concat(cat.Queries, cat.Invalid)
		found := make([][]guard.Violation, len(queries))
		var wg sync.WaitGroup
		next := atomic.Int64{}
		for range runtime.GOMAXPROCS(0) {
			wg.Go(func() {
				for i := int(next.Add(1) - 1); i < len(queries); i = int(next.Add(1) - 1) {
					_, found[i] = g.CheckQuery(queries[i])
				}
			})
		}
		wg.Wait()
		for i, q := range queries {
			for _, v := range found[i] {
				out.Problems = append(out.Problems, catalog.Problem{
					Path: q.Path, Line: v.Line, Col: v.Col, Rule: v.Rule, Message: v.Message,
				})
			}
		}
	}
	for i := range out.Problems {
		if shown, ok := qf.display[out.Problems[i].Path]; ok && shown != out.Problems[i].Path {
			out.Problems[i].Path = shown
			for p, d := range qf.display { // messages may name other files
				out.Problems[i].Message = strings.ReplaceAll(out.Problems[i].Message, p, d)
			}
		}
	}
	slices.SortStableFunc(out.Problems, func(a, b catalog.Problem) int {
		return cmp.Or(strings.Compare(a.Path, b.Path), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
	})
	out.Problems = slices.CompactFunc(out.Problems, func(a, b catalog.Problem) bool {
		return a.Path == b.Path && a.Line == b.Line && a.Col == b.Col && a.Rule == b.Rule && a.Message == b.Message
	})
	return out, nil
}

func (v *validation) summary() string {
	if len(v.Problems) == 0 {
		s := fmt.Sprintf("%d %s OK", v.Files, plural(v.Files, "query file", "query files"))
		if v.DumpPath != "" {
			s += fmt.Sprintf(", %s OK (%d %s)", v.DumpPath, v.DumpTables, plural(v.DumpTables, "table", "tables"))
		}
		return s
	}
	// Query files and the other files (dump.yml, schema.yml) are counted
	// apart, as the JSON report's "files" counts query files only.
	files := map[string]bool{}
	inQueries := 0
	others := map[string]int{}
	for _, p := range v.Problems {
		if p.Path == v.DumpPath || p.Path == v.SchemaPath {
			others[p.Path]++
			continue
		}
		files[p.Path] = true
		inQueries++
	}
	var parts []string
	if inQueries > 0 || len(others) == 0 {
		parts = append(parts, fmt.Sprintf("%d in %d of %d %s", inQueries, len(files), v.Files, plural(v.Files, "query file", "query files")))
	}
	for _, path := range []string{v.DumpPath, v.SchemaPath} {
		if n := others[path]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d in %s", n, path))
		}
	}
	s := fmt.Sprintf("%d %s", len(v.Problems), plural(len(v.Problems), "problem", "problems"))
	if len(parts) == 1 { // "4 problems in 1 of 2 query files", "13 problems in dump.yml"
		_, in, _ := strings.Cut(parts[0], " ")
		s += " " + in
	} else {
		s += ": " + strings.Join(parts, ", ")
	}
	if inQueries == 0 && v.Files > 0 {
		s += fmt.Sprintf("; %d %s OK", v.Files, plural(v.Files, "query file", "query files"))
	}
	if v.DumpPath != "" && others[v.DumpPath] == 0 {
		s += fmt.Sprintf("; %s OK (%d %s)", v.DumpPath, v.DumpTables, plural(v.DumpTables, "table", "tables"))
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// writeText prints problems compiler-style on stderr and the summary.
func (v *validation) writeText(stdout, stderr io.Writer) {
	for _, p := range v.Drift {
		fmt.Fprintf(stderr, "%s:%d:%d: warning: %s\n", p.Path, p.Line, p.Col, p.Message)
	}
	for _, p := range v.Problems {
		fmt.Fprintln(stderr, p.String())
	}
	if len(v.Problems) > 0 {
		fmt.Fprintf(stderr, "metricgate validate: %s\n", v.summary())
		return
	}
	fmt.Fprintf(stdout, "metricgate validate: %s\n", v.summary())
}

// write writes the json or codequality report.
func (v *validation) write(w io.Writer, format string) error {
	if format == "json" {
		return v.writeJSON(w)
	}
	return v.writeCodeQuality(w)
}

// writeFileAtomic writes a file through a temporary file in the same
// directory and renames it into place, so that a reader never sees half a
// report and a failed run leaves the previous one.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	err = write(f)
	err = errors.Join(err, f.Close())
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		_ = os.Remove(f.Name())
	}
	return err
}

type jsonProblem struct {
	Path    string `json:"path"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

func (v *validation) writeJSON(w io.Writer) error {
	out := struct {
		Files    int           `json:"files"` // query files, as the text summary counts them
		Dump     string        `json:"dump,omitempty"`
		Schema   string        `json:"schema,omitempty"`
		Problems []jsonProblem `json:"problems"`
		Drift    []jsonProblem `json:"drift,omitempty"`
	}{Files: v.Files, Dump: v.DumpPath, Schema: v.SchemaPath, Problems: []jsonProblem{}}
	for _, p := range v.Problems {
		out.Problems = append(out.Problems, jsonProblem{p.Path, p.Line, p.Col, p.Rule, p.Message})
	}
	for _, p := range v.Drift {
		out.Drift = append(out.Drift, jsonProblem{p.Path, p.Line, p.Col, p.Rule, p.Message})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// codeQualityIssue is one entry of a GitLab Code Quality report (a subset of
// the Code Climate spec that GitLab reads).
type codeQualityIssue struct {
	Description string `json:"description"`
	CheckName   string `json:"check_name"`
	Fingerprint string `json:"fingerprint"`
	Severity    string `json:"severity"`
	Location    struct {
		Path  string `json:"path"`
		Lines struct {
			Begin int `json:"begin"`
		} `json:"lines"`
	} `json:"location"`
}

func (v *validation) writeCodeQuality(w io.Writer) error {
	issues := make([]codeQualityIssue, 0, len(v.Problems))
	for _, p := range v.Problems {
		var is codeQualityIssue
		is.Description = fmt.Sprintf("%d:%d: %s", p.Line, p.Col, p.Message)
		is.CheckName = p.Rule
		// No line in the fingerprint: moving a problem is not a new one.
		sum := sha256.Sum256([]byte(p.Path + "\x00" + p.Rule + "\x00" + p.Message))
		is.Fingerprint = hex.EncodeToString(sum[:16])
		is.Severity = severity(p.Rule)
		is.Location.Path = p.Path
		is.Location.Lines.Begin = p.Line
		issues = append(issues, is)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(issues)
}

// severity maps a rule to a Code Quality severity: what could leak data is a
// blocker, other guard findings critical, header problems major.
func severity(rule string) string {
	switch {
	case rule == guard.RuleRedColumn || rule == guard.RuleNotAggregate || rule == guard.RuleCollecting ||
		rule == guard.RuleStatement || rule == guard.RuleFunction || rule == "dump":
		return "blocker"
	case strings.HasPrefix(rule, "guard/"):
		return "critical"
	}
	return "major"
}
