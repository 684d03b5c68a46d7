package cli

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"gitlab.com/metricgate/metricgate/catalog"
	"gitlab.com/metricgate/metricgate/guard"
	"gitlab.com/metricgate/metricgate/review"
	"gitlab.com/metricgate/metricgate/runner"
)

// DefaultConfigFile is read when --config is not given; it may be absent.
const DefaultConfigFile = "metricgate.yml"

// Config is the whole configuration: one YAML file with ${ENV} expansion,
// every key also settable by METRICGATE_<SECTION>_<KEY> (sources by
// METRICGATE_SOURCES_<NAME>_<KEY>), flags over both. Zero values mean the
// defaults documented per field.
type Config struct {
	// Sources are the source databases by name. Each has a role (main,
	// ci, …; default its name) and an optional cell; a query's source
	// header names a role (default "main") and runs on every source of
	// that role.
	Sources map[string]SourceConfig `yaml:"sources"`
	History struct {
		// URL of the PostgreSQL history database.
		URL Secret `yaml:"url"`
	} `yaml:"history"`
	Warehouse struct {
		// URL picks the writer: duckdb:///path/file.duckdb (default
		// duckdb://metricgate.duckdb), postgres://…, snowflake://….
		URL Secret `yaml:"url"`
	} `yaml:"warehouse"`
	Queries struct {
		// Dir holds the query files. Default "queries".
		Dir string `yaml:"dir"`
		// Approval is none, git or gitlab. Default git.
		Approval string `yaml:"approval"`
		// Workers run queries in parallel. Default 2.
		Workers int `yaml:"workers"`
		// Branch is the branch a git-approved checkout must be on.
		// Default "main".
		Branch string `yaml:"branch"`
	} `yaml:"queries"`
	Guard struct {
		// MinGroupSize is the default and floor of min_group_size. Default 10.
		MinGroupSize int `yaml:"min_group_size"`
		// RedColumns replaces the default red-column patterns when set.
		RedColumns []string `yaml:"red_columns"`
		// Schema is the reviewed schema catalog. Default "schema.yml".
		Schema string `yaml:"schema"`
		// MaxTimeout is the largest timeout a query header may ask for: a
		// header asking for more fails validate, at its value. Default 30m.
		MaxTimeout Duration `yaml:"max_timeout"`
	} `yaml:"guard"`
	// Schedule of the daily run, 5-field cron in UTC. Default "0 4 * * *".
	Schedule string `yaml:"schedule"`
	Dump     struct {
		// Config is the dump definition. Default "dump.yml".
		Config string `yaml:"config"`
		// StorageURL is where dumps go (file://, s3://, gs://).
		StorageURL string `yaml:"storage_url"`
		// Group whose public projects are dumped. Default "gitlab-org".
		Group string `yaml:"group"`
		// Keep is how many dumps retention keeps. Default 7.
		Keep int `yaml:"keep"`
		// PseudonymKey keys the HMAC of pseudonymized columns.
		PseudonymKey Secret `yaml:"pseudonym_key"`
		// Cell picks the cell whose sources the dump reads when sources
		// have cells (the group lives in one cell). Default: the sources
		// without a cell, or the only cell.
		Cell string `yaml:"cell"`
		// Overlap is how far before the previous dump's snapshot an
		// increment looks for changed rows (updated_at), so that late
		// commits are not missed. Default 1h.
		Overlap Duration `yaml:"overlap"`
		// FullEvery turns a dump into a full one when the last full dump
		// is older: the reconcile that corrects what increments missed.
		// Default 24h.
		FullEvery Duration `yaml:"full_every"`
		// Every is how often serve dumps (and loads, with Load). Default 4h.
		Every Duration `yaml:"every"`
		// FreshnessSLO is the age of the newest committed (and loaded)
		// dump past which the status calls the dump stale. Default 6h.
		FreshnessSLO Duration `yaml:"freshness_slo"`
		// Schedule turns on serve's dump scheduler. Default false.
		Schedule bool `yaml:"schedule"`
		// Load makes serve's dump scheduler load each dump into the
		// warehouse after it. Default false.
		Load bool `yaml:"load"`
	} `yaml:"dump"`
	Results struct {
		// StorageURL, when set, makes run write each query's result to
		// this object storage (file://, s3://, gs://) instead of the
		// warehouse, and load import them: production then holds no
		// warehouse credentials. Default: not set, run loads the
		// warehouse (warehouse.url) directly.
		StorageURL string `yaml:"storage_url"`
	} `yaml:"results"`
	API struct {
		// Listen address of the status API. Default ":8080".
		Listen string `yaml:"listen"`
		// Token guards POST /api/v1/runs. serve refuses to start without
		// it unless AllowUnauthenticatedRuns.
		Token Secret `yaml:"token"`
		// ReadToken, when set, guards every GET route but /healthz and
		// /readyz (as a bearer token, or as a basic-auth password for
		// browsers). Default: not set, the GET routes are open.
		ReadToken Secret `yaml:"read_token"`
		// AllowUnauthenticatedRuns lets serve start without a token: anyone
		// who reaches the API can then start runs. Default false.
		AllowUnauthenticatedRuns bool `yaml:"allow_unauthenticated_runs"`
		// FreshnessGrace is added to a query's schedule period (and to the
		// day of a dump) before the status calls its data stale. Default 3h.
		FreshnessGrace Duration `yaml:"freshness_grace"`
		// SLOWindow is the window of the SLO attainment the status, the
		// page and the metrics report (docs/slo.md). Default 30 days.
		SLOWindow Duration `yaml:"slo_window"`
	} `yaml:"api"`
	GitLab struct {
		// URL of the GitLab instance. Default "https://gitlab.com".
		URL string `yaml:"url"`
		// Token reads MRs and approvals.
		Token Secret `yaml:"token"`
		// Project holding queries/, as a path or ID.
		Project string `yaml:"project"`
		// QueriesPath is the path of queries.dir in the project's
		// repository. Default: queries.dir relative to the root of the git
		// checkout holding it, else "queries".
		QueriesPath string `yaml:"queries_path"`
	} `yaml:"gitlab"`
}

// SourceConfig is one source database.
type SourceConfig struct {
	// URL of the read-only source database.
	URL Secret `yaml:"url"`
	// AsOf is the SQL expression that tells how fresh the source is.
	// Default "now()".
	AsOf string `yaml:"as_of"`
	// MaxAge refuses runs on an older source. Default 26h.
	MaxAge Duration `yaml:"max_age"`
	// Role is what the database holds, as GitLab decomposes it: main,
	// ci, …. Queries (source header) and dump tables name roles.
	// Default: the source's name.
	Role string `yaml:"role"`
	// Cell is the cell the database belongs to, when the instance is
	// split into cells. Default: none.
	Cell string `yaml:"cell"`
	// MaxCost is the largest EXPLAIN total cost a query may have on the
	// source; a query's max_cost header may lower it, not raise it (a
	// header asking for more fails at run). Default 1e9.
	MaxCost float64 `yaml:"max_cost"`
	// WorkMem is each query's work_mem (SET LOCAL). Default "64MB".
	WorkMem string `yaml:"work_mem"`
	// TempFileLimit is each query's temp_file_limit (SET LOCAL), "-1" for
	// none. Only a superuser may set it per query; for another role set
	// it on the role (ALTER ROLE … SET temp_file_limit), and the run says
	// so once. Default "1GB".
	TempFileLimit string `yaml:"temp_file_limit"`
}

// memoryRE is a PostgreSQL memory setting: a number with an optional unit.
var memoryRE = regexp.MustCompile(`^-?[0-9]+\s*(B|kB|MB|GB|TB)?$`)

// runnerSource is source name as the runner takes it.
func (c *Config) runnerSource(name string) runner.Source {
	s := c.Sources[name]
	return runner.Source{Name: name, URL: s.URL.Reveal(), AsOf: s.AsOf, MaxAge: time.Duration(s.MaxAge),
		Role: s.Role, Cell: s.Cell, MaxCost: s.MaxCost, WorkMem: s.WorkMem, TempFileLimit: s.TempFileLimit}
}

// roles returns the roles of the configured sources, sorted, each once.
func (c *Config) roles() []string {
	var roles []string
	for _, s := range c.Sources {
		if !slices.Contains(roles, s.Role) {
			roles = append(roles, s.Role)
		}
	}
	slices.Sort(roles)
	return roles
}

// sourcesOfRole returns the names of the sources of role, sorted.
func (c *Config) sourcesOfRole(role string) []string {
	var names []string
	for name, s := range c.Sources {
		if s.Role == role {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// Secret is a string that never prints: fmt, logs and JSON show "******".
type Secret string

// String hides the value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "******"
}

// MarshalText hides the value in JSON and YAML output.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Reveal returns the value, for the code that connects with it.
func (s Secret) Reveal() string { return string(s) }

// Duration is a time.Duration written as "26h" in YAML.
type Duration time.Duration

// UnmarshalText parses a Go duration.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// withDefaults fills zero fields.
func (c *Config) withDefaults() {
	if c.Queries.Dir == "" {
		c.Queries.Dir = "queries"
	}
	if c.Queries.Approval == "" {
		c.Queries.Approval = "git"
	}
	if c.Queries.Workers == 0 {
		c.Queries.Workers = 2
	}
	if c.Queries.Branch == "" {
		c.Queries.Branch = review.DefaultBranch
	}
	if c.Guard.MinGroupSize == 0 {
		c.Guard.MinGroupSize = catalog.DefaultMinGroupSize
	}
	c.Guard.MaxTimeout = cmp.Or(c.Guard.MaxTimeout, Duration(catalog.DefaultMaxTimeout))
	if c.Schedule == "" {
		c.Schedule = "0 4 * * *"
	}
	if c.Dump.Config == "" {
		c.Dump.Config = "dump.yml"
	}
	if c.Dump.Group == "" {
		c.Dump.Group = "gitlab-org"
	}
	if c.Dump.Keep == 0 {
		c.Dump.Keep = 7
	}
	c.Dump.Overlap = cmp.Or(c.Dump.Overlap, Duration(time.Hour))
	c.Dump.FullEvery = cmp.Or(c.Dump.FullEvery, Duration(24*time.Hour))
	c.Dump.Every = cmp.Or(c.Dump.Every, Duration(4*time.Hour))
	c.Dump.FreshnessSLO = cmp.Or(c.Dump.FreshnessSLO, Duration(6*time.Hour))
	if c.API.Listen == "" {
		c.API.Listen = ":8080"
	}
	if c.API.FreshnessGrace == 0 {
		c.API.FreshnessGrace = Duration(3 * time.Hour)
	}
	if c.GitLab.URL == "" {
		c.GitLab.URL = "https://gitlab.com"
	}
	if c.Warehouse.URL == "" {
		c.Warehouse.URL = "duckdb://metricgate.duckdb"
	}
	if len(c.Sources) == 0 {
		c.Sources = map[string]SourceConfig{"main": {}}
	}
	for name, s := range c.Sources {
		if s.AsOf == "" {
			s.AsOf = "now()"
		}
		if s.MaxAge == 0 {
			s.MaxAge = Duration(26 * time.Hour)
		}
		if s.Role == "" {
			s.Role = name
		}
		s.MaxCost = cmp.Or(s.MaxCost, runner.DefaultMaxCost)
		s.WorkMem = cmp.Or(s.WorkMem, runner.DefaultWorkMem)
		s.TempFileLimit = cmp.Or(s.TempFileLimit, runner.DefaultTempFileLimit)
		c.Sources[name] = s
	}
}

// validate returns every setting that cannot work, as a configProblems
// error naming each key, or nil.
func (c *Config) validate() error {
	if ps := c.problems(); len(ps) > 0 {
		return ps
	}
	return nil
}

// problems checks every setting and returns those that cannot work, each
// with its key (queries.approval, sources.main.max_age, …) for readConfig
// to point at the file line or the variable that set it.
func (c *Config) problems() configProblems {
	var ps configProblems
	bad := func(key, format string, args ...any) { // "queries.workers 0: must be …"
		ps = append(ps, configProblem{Key: key, Msg: key + " " + fmt.Sprintf(format, args...)})
	}
	switch c.Queries.Approval {
	case "none", "git", "gitlab":
	default:
		bad("queries.approval", "%q: must be none, git or gitlab", c.Queries.Approval)
	}
	if c.Queries.Workers < 1 || c.Queries.Workers > 64 {
		bad("queries.workers", "%d: must be between 1 and 64", c.Queries.Workers)
	}
	if c.Guard.MinGroupSize < catalog.DefaultMinGroupSize {
		bad("guard.min_group_size", "%d: must be at least %d, the floor SECURITY.md states (a smaller group lets a few people be told apart)",
			c.Guard.MinGroupSize, catalog.DefaultMinGroupSize)
	}
	if c.Guard.MaxTimeout <= 0 {
		bad("guard.max_timeout", "%s: must be positive", time.Duration(c.Guard.MaxTimeout))
	}
	if c.Dump.Keep < 1 {
		bad("dump.keep", "%d: must be at least 1", c.Dump.Keep)
	}
	for key, d := range map[string]Duration{"dump.overlap": c.Dump.Overlap, "dump.full_every": c.Dump.FullEvery,
		"dump.freshness_slo": c.Dump.FreshnessSLO, "api.freshness_grace": c.API.FreshnessGrace, "api.slo_window": c.API.SLOWindow} {
		if d < 0 {
			bad(key, "%s: must not be negative", time.Duration(d))
		}
	}
	if c.Dump.Every < Duration(time.Minute) {
		bad("dump.every", "%s: must be at least 1m", time.Duration(c.Dump.Every))
	}
	if c.Dump.Cell != "" && !isIdent(c.Dump.Cell) {
		bad("dump.cell", "%q: cells must be lower-case letters, digits and _", c.Dump.Cell)
	}
	if _, err := guard.New(guard.Config{RedColumns: c.Guard.RedColumns}); err != nil {
		ps = append(ps, configProblem{Key: "guard.red_columns", Msg: err.Error()})
	}
	if _, err := catalog.ParseRunSchedule(c.Schedule); err != nil {
		bad("schedule", "%q: %v", c.Schedule, err)
	}
	if err := checkURLScheme(c.Warehouse.URL.Reveal(), warehouseSchemes); err != nil {
		ps = append(ps, configProblem{Key: "warehouse.url", Msg: "warehouse.url: " + err.Error()})
	}
	if err := checkURLScheme(c.Results.StorageURL, storageSchemes); err != nil {
		ps = append(ps, configProblem{Key: "results.storage_url", Msg: "results.storage_url: " + err.Error()})
	}
	if err := checkURLScheme(c.History.URL.Reveal(), postgresSchemes); err != nil {
		ps = append(ps, configProblem{Key: "history.url", Msg: "history.url: " + err.Error()})
	}
	if c.API.Listen != "" && !strings.Contains(c.API.Listen, ":") {
		bad("api.listen", "%q: must be host:port or :port, such as :8080", c.API.Listen)
	}
	for _, name := range slices.Sorted(mapKeys(c.Sources)) {
		s := c.Sources[name]
		key := "sources." + name
		if !isIdent(name) {
			ps = append(ps, configProblem{Key: key, Msg: key + ": source names must be lower-case letters, digits and _"})
		}
		if err := checkURLScheme(s.URL.Reveal(), postgresSchemes); err != nil {
			ps = append(ps, configProblem{Key: key + ".url", Msg: key + ".url: " + err.Error()})
		}
		if s.MaxAge < 0 {
			bad(key+".max_age", "%s: must be positive", time.Duration(s.MaxAge))
		}
		if s.MaxCost <= 0 || math.IsInf(s.MaxCost, 0) || math.IsNaN(s.MaxCost) {
			bad(key+".max_cost", "%v: must be a positive number of EXPLAIN cost units", s.MaxCost)
		}
		if !memoryRE.MatchString(s.WorkMem) || strings.HasPrefix(s.WorkMem, "-") {
			bad(key+".work_mem", "%q: must be a size such as 64MB", s.WorkMem)
		}
		if !memoryRE.MatchString(s.TempFileLimit) {
			bad(key+".temp_file_limit", "%q: must be a size such as 1GB, or -1 for none", s.TempFileLimit)
		}
		if !isIdent(s.Role) {
			bad(key+".role", "%q: roles must be lower-case letters, digits and _", s.Role)
		}
		if s.Cell != "" && !isIdent(s.Cell) {
			bad(key+".cell", "%q: cells must be lower-case letters, digits and _", s.Cell)
		}
	}
	return ps
}

// URL schemes of the settings that name a database.
var (
	warehouseSchemes = []string{"duckdb", "postgres", "postgresql", "snowflake"}
	postgresSchemes  = []string{"postgres", "postgresql"}
)

// checkURLScheme refuses a URL whose scheme is not one of schemes. An empty
// URL, or a PostgreSQL keyword/value string (host=… dbname=…), passes:
// whether it is needed is the command's to say. The error quotes the
// scheme only, never the URL, which may hold a password.
func checkURLScheme(url string, schemes []string) error {
	scheme, _, ok := strings.Cut(url, "://")
	if url == "" || !ok && slices.Equal(schemes, postgresSchemes) {
		return nil
	}
	if !ok {
		return fmt.Errorf("is not a URL: want %s://…", strings.Join(schemes, "://…, "))
	}
	if !slices.Contains(schemes, scheme) {
		msg := fmt.Sprintf("unknown scheme %q: want %s", scheme, strings.Join(schemes, ", "))
		if s := catalog.Suggest(scheme, schemes); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		return errors.New(msg)
	}
	return nil
}

// catalogConfig is what the catalog checks headers against.
// A query's source header names a role.
func (c *Config) catalogConfig() catalog.Config {
	sources := c.roles()
	def := ""
	if !slices.Contains(sources, catalog.DefaultSource) && len(sources) > 0 {
		def = sources[0]
	}
	return catalog.Config{MinGroupSize: c.Guard.MinGroupSize, Sources: sources, DefaultSource: def,
		MaxTimeout: time.Duration(c.Guard.MaxTimeout)}
}

// loadConfig reads path (DefaultConfigFile when empty, which may then be
// absent), expands ${ENV}, applies METRICGATE_* variables from environ and
// fills defaults. An unset ${ENV} is an error.
func loadConfig(path string, environ []string) (*Config, error) {
	return readConfig(path, environ, false)
}

// loadConfigOffline is loadConfig for commands that connect to nothing
// (validate, demo): an unset ${ENV} expands to "", so that a merge-request
// pipeline without the production secrets can still read the file.
func loadConfigOffline(path string, environ []string) (*Config, error) {
	return readConfig(path, environ, true)
}

func readConfig(path string, environ []string, unsetIsEmpty bool) (*Config, error) {
	cfg := &Config{}
	explicit := path != ""
	if !explicit {
		path = DefaultConfigFile
	}
	env := envMap(environ)
	var (
		ps      configProblems
		pos     = map[string]string{} // key → "file:line:col" of its value
		fromEnv = map[string]string{} // key → the variable that set it
		refs    []string              // variables the file expands
	)
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		expanded, missing, names, err := expandEnv(data, env, unsetIsEmpty)
		if err != nil {
			return nil, fmt.Errorf("config %s: %w", path, err)
		}
		refs = names
		if len(missing) > 0 {
			ps = append(ps, configProblem{Where: path, Msg: "environment variables not set: " + strings.Join(missing, ", ")})
		}
		ps = append(ps, decodeConfig(path, expanded, cfg, pos)...)
	case errors.Is(err, fs.ErrNotExist) && !explicit:
	default:
		return nil, fmt.Errorf("config: %w", err)
	}
	ps = append(ps, applyEnv(cfg, env, refs, fromEnv)...)
	cfg.withDefaults()
	for _, p := range cfg.problems() {
		if v, ok := fromEnv[p.Key]; ok {
			p.Where = v
		} else if at, ok := pos[p.Key]; ok {
			p.Where = at
		}
		ps = append(ps, p)
	}
	if len(ps) > 0 {
		sortProblems(ps, path)
		return nil, ps
	}
	return cfg, nil
}

// sortProblems puts the problems of the file first, by line and column,
// then the others (variables) in the order found.
func sortProblems(ps configProblems, path string) {
	pos := func(p configProblem) (line, col int, inFile bool) {
		rest, ok := strings.CutPrefix(p.Where, path+":")
		if !ok {
			return 0, 0, p.Where == path
		}
		l, c, _ := strings.Cut(rest, ":")
		line, _ = strconv.Atoi(l)
		col, _ = strconv.Atoi(c)
		return line, col, true
	}
	slices.SortStableFunc(ps, func(a, b configProblem) int {
		la, ca, fa := pos(a)
		lb, cb, fb := pos(b)
		switch {
		case fa != fb:
			if fa {
				return -1
			}
			return 1
		case !fa:
			return 0
		}
		return cmp.Or(cmp.Compare(la, lb), cmp.Compare(ca, cb))
	})
}

// configProblem is one setting that cannot work.
type configProblem struct {
	// Where is "file:line:col", the METRICGATE_* variable that set the
	// key, or "" when neither is known (a default).
	Where string
	// Key is the setting, such as queries.approval; "" for the file as a
	// whole.
	Key string
	// Msg says what is wrong and what would work; it names the key.
	Msg string
}

func (p configProblem) String() string {
	if p.Where == "" {
		return p.Msg
	}
	return p.Where + ": " + p.Msg
}

// configProblems are every problem of a configuration, reported at once.
type configProblems []configProblem

func (ps configProblems) Error() string {
	if len(ps) == 1 {
		return "config: " + ps[0].String()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "config: %d problems:", len(ps))
	for _, p := range ps {
		b.WriteString("\n  " + p.String())
	}
	return b.String()
}

// yamlErrorRE is a YAML syntax error: "yaml: line 3: did not find …".
var yamlErrorRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// decodeConfig decodes data into cfg, checking every key and value
// against Config's fields first, so that each problem names the key and
// its line (never the YAML library's text about Go types), and recording
// in pos where each key's value is.
func decodeConfig(path string, data []byte, cfg *Config, pos map[string]string) configProblems {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		where := path
		if m := yamlErrorRE.FindStringSubmatch(err.Error()); m != nil {
			where, msg = path+":"+m[1], m[2]
		}
		return configProblems{{Where: where, Msg: "not valid YAML: " + msg}}
	}
	if len(doc.Content) == 0 { // an empty file
		return nil
	}
	w := &yamlWalk{path: path, pos: pos}
	w.walk(doc.Content[0], reflect.TypeFor[Config](), "")
	if err := doc.Decode(cfg); err != nil { // the walk dropped what it reported: not expected
		w.problems = append(w.problems, configProblem{Where: path, Msg: err.Error()})
	}
	return w.problems
}

// yamlWalk checks a configuration's YAML tree against Config.
type yamlWalk struct {
	path     string
	pos      map[string]string
	problems configProblems
}

func (w *yamlWalk) at(n *yaml.Node) string { return fmt.Sprintf("%s:%d:%d", w.path, n.Line, n.Column) }

// bad reports a problem of n and, unless n is a key, clears n's value, so
// that the rest of the file still decodes and is checked.
func (w *yamlWalk) bad(n *yaml.Node, key, format string, args ...any) {
	w.problems = append(w.problems, configProblem{Where: w.at(n), Key: key, Msg: fmt.Sprintf(format, args...)})
}

// drop clears a value whose problem was reported.
func drop(n *yaml.Node) { *n = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"} }

// walk checks n, the value of key (the dotted path, "" for the document),
// against type t.
func (w *yamlWalk) walk(n *yaml.Node, t reflect.Type, key string) {
	if key != "" {
		w.pos[key] = w.at(n)
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // "key:" with no value: the default
	}
	what := "the configuration"
	if key != "" {
		what = key
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			w.bad(n, key, "%s: must be a mapping of keys (%s)", what, strings.Join(yamlKeys(t), ", "))
			drop(n)
			return
		}
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			sub := joinKey(key, k.Value)
			if line, dup := seen[k.Value]; dup {
				w.bad(k, sub, "%s is set twice (first on line %d): keep one", sub, line)
				drop(v)
				continue
			}
			seen[k.Value] = k.Line
			f, ok := yamlField(t, k.Value)
			if !ok {
				msg := fmt.Sprintf("unknown key %q", k.Value)
				if key != "" {
					msg += " in " + key
				}
				if s := catalog.Suggest(k.Value, yamlKeys(t)); s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", s)
				} else {
					msg += fmt.Sprintf(": the keys of %s are %s", what, strings.Join(yamlKeys(t), ", "))
				}
				w.bad(k, sub, "%s", msg)
				drop(v)
				continue
			}
			w.walk(v, f.Type, sub)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			w.bad(n, key, "%s: must be a mapping of names to settings", what)
			drop(n)
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			w.walk(n.Content[i+1], t.Elem(), joinKey(key, n.Content[i].Value))
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			w.bad(n, key, "%s: must be a list, such as [\"*email*\", \"*_ip\"]", what)
			drop(n)
			return
		}
		for _, item := range n.Content {
			if item.Kind != yaml.ScalarNode {
				w.bad(item, key, "%s: each item must be a single value", what)
				drop(n)
				return
			}
		}
	default:
		if n.Kind != yaml.ScalarNode {
			w.bad(n, key, "%s: must be a single value, not a %s", what, nodeKind(n))
			drop(n)
			return
		}
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			// A quoted number or boolean ("4", 'true') is taken as it
			// would be unquoted, as the environment's strings are.
			unquoted := *n
			unquoted.Style, unquoted.Tag = 0, ""
			if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 && t.Kind() != reflect.String &&
				unquoted.Decode(reflect.New(t).Interface()) == nil {
				*n = unquoted
				return
			}
			w.bad(n, key, "%s %q: %s", key, n.Value, acceptedForm(t))
			drop(n)
		}
	}
}

// acceptedForm says what a value of type t must look like.
func acceptedForm(t reflect.Type) string {
	switch {
	case t == reflect.TypeFor[Duration]():
		return "not a duration: write a number and a unit (s, m or h) without spaces, such as 90s, 30m, 26h or 1h30m"
	case t.Kind() == reflect.Int:
		return "not a whole number"
	case t.Kind() == reflect.Float64:
		return "not a number (such as 5e8 or 1000000)"
	case t.Kind() == reflect.Bool:
		return "not true or false"
	}
	return "not a " + t.Kind().String()
}

func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	}
	return "value"
}

func joinKey(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// yamlKeys returns the YAML keys of struct type t, in field order.
func yamlKeys(t reflect.Type) []string {
	var keys []string
	for f := range t.Fields() {
		if tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); tag != "" && tag != "-" {
			keys = append(keys, tag)
		}
	}
	return keys
}

// yamlField returns the field of struct type t whose YAML key is key.
func yamlField(t reflect.Type, key string) (reflect.StructField, bool) {
	for f := range t.Fields() {
		if tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); tag == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func envMap(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// expandEnv replaces ${NAME} with the variable's value and returns the
// names of the variables it expanded; an unset variable expands to "" and
// is returned in missing (an empty password is rarely what was meant)
// unless unsetIsEmpty. $$ is a literal $.
func expandEnv(data []byte, env map[string]string, unsetIsEmpty bool) (out []byte, missing, names []string, err error) {
	var b bytes.Buffer
	for i := 0; i < len(data); i++ {
		if data[i] != '$' || i+1 >= len(data) {
			b.WriteByte(data[i])
			continue
		}
		switch data[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '{':
			end := bytes.IndexByte(data[i+2:], '}')
			if end < 0 {
				line := 1 + bytes.Count(data[:i], []byte("\n"))
				return nil, nil, nil, fmt.Errorf("line %d: unterminated ${ (write $$ for a literal $)", line)
			}
			name := string(data[i+2 : i+2+end])
			v, ok := env[name]
			if !ok && !unsetIsEmpty && !slices.Contains(missing, name) {
				missing = append(missing, name)
			}
			names = append(names, name)
			b.WriteString(v)
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.Bytes(), missing, names, nil
}

// envPrefix starts the name of every variable that sets a key.
const envPrefix = "METRICGATE_"

// envIgnored are METRICGATE_* variables that are not settings and that
// applyEnv leaves alone: METRICGATE_IMAGE names the image in the merge
// request CI template (ci/queries.gitlab-ci.yml).
var envIgnored = []string{"METRICGATE_IMAGE"}

// ignoredEnv reports whether k is a METRICGATE_* variable that is not a
// setting: one of envIgnored, or one that Kubernetes sets in every pod for
// a Service named metricgate (METRICGATE_SERVICE_HOST,
// METRICGATE_SERVICE_PORT, METRICGATE_PORT, METRICGATE_PORT_8080_TCP_ADDR,
// …; no section is named service or port).
func ignoredEnv(k string) bool {
	rest := strings.TrimPrefix(k, envPrefix)
	return slices.Contains(envIgnored, k) || rest == "PORT" || strings.HasPrefix(rest, "PORT_") || strings.HasPrefix(rest, "SERVICE_")
}

// sourceEnvKeys are the keys of a source, as METRICGATE_SOURCES_<NAME>_<KEY>
// spells them.
var sourceEnvKeys = []string{"URL", "AS_OF", "MAX_AGE", "ROLE", "CELL", "MAX_COST", "WORK_MEM", "TEMP_FILE_LIMIT"}

// applyEnv sets every field that has a METRICGATE_<SECTION>_<KEY> variable,
// recording in fromEnv which variable set which key. A METRICGATE_*
// variable that sets nothing is a problem, as an unknown key of the file
// is (a misspelt one would otherwise be ignored without a word), unless the
// file expands it (${METRICGATE_PSEUDONYM_KEY}: refs) or ignoredEnv.
func applyEnv(cfg *Config, env map[string]string, refs []string, fromEnv map[string]string) configProblems {
	var ps configProblems
	known := map[string]bool{}
	applyEnvStruct(reflect.ValueOf(cfg).Elem(), "METRICGATE", "", env, known, fromEnv, &ps)
	// sources.<name>.<key>: METRICGATE_SOURCES_<NAME>_<KEY>
	for _, k := range slices.Sorted(mapKeys(env)) {
		v := env[k]
		rest, ok := strings.CutPrefix(k, "METRICGATE_SOURCES_")
		if !ok {
			continue
		}
		for _, key := range sourceEnvKeys {
			name, ok := strings.CutSuffix(rest, "_"+key)
			if !ok || name == "" {
				continue
			}
			known[k] = true
			name = strings.ToLower(name)
			if cfg.Sources == nil {
				cfg.Sources = map[string]SourceConfig{}
			}
			s := cfg.Sources[name]
			path := "sources." + name + "." + strings.ToLower(key)
			fromEnv[path] = k
			switch key {
			case "URL":
				s.URL = Secret(v)
			case "AS_OF":
				s.AsOf = v
			case "ROLE":
				s.Role = v
			case "CELL":
				s.Cell = v
			case "WORK_MEM":
				s.WorkMem = v
			case "TEMP_FILE_LIMIT":
				s.TempFileLimit = v
			case "MAX_COST":
				c, err := strconv.ParseFloat(v, 64)
				if err != nil {
					ps = append(ps, configProblem{Where: k, Key: path, Msg: fmt.Sprintf("%s %q: %s", path, v, acceptedForm(reflect.TypeFor[float64]()))})
				}
				s.MaxCost = c
			case "MAX_AGE":
				if err := s.MaxAge.UnmarshalText([]byte(v)); err != nil {
					ps = append(ps, configProblem{Where: k, Key: path, Msg: fmt.Sprintf("%s %q: %s", path, v, acceptedForm(reflect.TypeFor[Duration]()))})
				}
			}
			cfg.Sources[name] = s
			break
		}
	}
	var names []string // lower case, as catalog.Suggest compares
	for k := range known {
		names = append(names, strings.ToLower(k))
	}
	for _, k := range slices.Sorted(mapKeys(env)) {
		if !strings.HasPrefix(k, envPrefix) || known[k] || slices.Contains(refs, k) || ignoredEnv(k) {
			continue
		}
		msg := "unknown setting variable: it sets no key"
		if s := catalog.Suggest(k, names); s != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", strings.ToUpper(s))
		} else if strings.HasPrefix(k, "METRICGATE_SOURCES_") {
			msg += fmt.Sprintf(" (a source's keys are METRICGATE_SOURCES_<NAME>_<KEY>, KEY one of %s)", strings.Join(sourceEnvKeys, ", "))
		} else {
			msg += " (variables are METRICGATE_<SECTION>_<KEY> of the file's keys, such as METRICGATE_QUERIES_DIR)"
		}
		ps = append(ps, configProblem{Where: k, Msg: msg})
	}
	return ps
}

// applyEnvStruct sets the fields of v that have a variable (prefix_KEY),
// key being v's dotted path, and records every variable name it knows.
func applyEnvStruct(v reflect.Value, prefix, key string, env map[string]string, known map[string]bool, fromEnv map[string]string, ps *configProblems) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if tag == "" || tag == "-" || f.Type.Kind() == reflect.Map { // sources: applyEnv
			continue
		}
		name := prefix + "_" + strings.ToUpper(tag)
		path := joinKey(key, tag)
		fv := v.Field(i)
		if f.Type.Kind() == reflect.Struct {
			applyEnvStruct(fv, name, path, env, known, fromEnv, ps)
			continue
		}
		known[name] = true
		val, ok := env[name]
		if !ok {
			continue
		}
		fromEnv[path] = name
		if err := setFromString(fv, val); err != nil {
			*ps = append(*ps, configProblem{Where: name, Key: path, Msg: fmt.Sprintf("%s %q: %s", path, val, acceptedForm(f.Type))})
		}
	}
}

func setFromString(fv reflect.Value, val string) error {
	if fv.Type() == reflect.TypeFor[Duration]() {
		return fv.Addr().Interface().(*Duration).UnmarshalText([]byte(val))
	}
	switch fv.Kind() {
	case reflect.String:
		fv.SetString(val)
	case reflect.Bool:
		b, err := strconv.ParseBool(val)
		if err != nil {
			return err
		}
		fv.SetBool(b)
	case reflect.Int:
		n, err := strconv.Atoi(val)
		if err != nil {
			return err
		}
		fv.SetInt(int64(n))
	case reflect.Slice:
		var items []string
		for s := range strings.SplitSeq(val, ",") {
			if s = strings.TrimSpace(s); s != "" {
				items = append(items, s)
			}
		}
		fv.Set(reflect.ValueOf(items))
	default:
		return fmt.Errorf("unsupported setting type %s", fv.Type())
	}
	return nil
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if r == '_' || (r >= 'a' && r <= 'z') || (i > 0 && r >= '0' && r <= '9') {
			continue
		}
		return false
	}
	return true
}
