package cli

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
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

// validate names the first field that cannot work.
func (c *Config) validate() error {
	switch c.Queries.Approval {
	case "none", "git", "gitlab":
	default:
		return fmt.Errorf("queries.approval %q: must be none, git or gitlab", c.Queries.Approval)
	}
	if c.Queries.Workers < 1 || c.Queries.Workers > 64 {
		return fmt.Errorf("queries.workers %d: must be between 1 and 64", c.Queries.Workers)
	}
	if c.Guard.MinGroupSize < 2 {
		return fmt.Errorf("guard.min_group_size %d: must be at least 2", c.Guard.MinGroupSize)
	}
	if c.Guard.MaxTimeout <= 0 {
		return fmt.Errorf("guard.max_timeout %s: must be positive", time.Duration(c.Guard.MaxTimeout))
	}
	if c.Dump.Keep < 1 {
		return fmt.Errorf("dump.keep %d: must be at least 1", c.Dump.Keep)
	}
	if c.Dump.Overlap < 0 || c.Dump.FullEvery < 0 || c.Dump.Every < Duration(time.Minute) || c.Dump.FreshnessSLO < 0 {
		return fmt.Errorf("dump.overlap, dump.full_every and dump.freshness_slo must not be negative, dump.every at least 1m")
	}
	if c.Dump.Cell != "" && !isIdent(c.Dump.Cell) {
		return fmt.Errorf("dump.cell %q: cells must be lower-case letters, digits and _", c.Dump.Cell)
	}
	if _, err := guard.New(guard.Config{RedColumns: c.Guard.RedColumns}); err != nil {
		return err
	}
	if _, err := catalog.ParseRunSchedule(c.Schedule); err != nil {
		return fmt.Errorf("schedule %q: %w", c.Schedule, err)
	}
	for name, s := range c.Sources {
		if !isIdent(name) {
			return fmt.Errorf("sources.%s: source names must be lower-case letters, digits and _", name)
		}
		if s.MaxAge < 0 {
			return fmt.Errorf("sources.%s.max_age: must be positive", name)
		}
		if s.MaxCost <= 0 || math.IsInf(s.MaxCost, 0) || math.IsNaN(s.MaxCost) {
			return fmt.Errorf("sources.%s.max_cost %v: must be a positive number of EXPLAIN cost units", name, s.MaxCost)
		}
		if !memoryRE.MatchString(s.WorkMem) || strings.HasPrefix(s.WorkMem, "-") {
			return fmt.Errorf("sources.%s.work_mem %q: must be a size such as 64MB", name, s.WorkMem)
		}
		if !memoryRE.MatchString(s.TempFileLimit) {
			return fmt.Errorf("sources.%s.temp_file_limit %q: must be a size such as 1GB, or -1 for none", name, s.TempFileLimit)
		}
		if !isIdent(s.Role) {
			return fmt.Errorf("sources.%s.role %q: roles must be lower-case letters, digits and _", name, s.Role)
		}
		if s.Cell != "" && !isIdent(s.Cell) {
			return fmt.Errorf("sources.%s.cell %q: cells must be lower-case letters, digits and _", name, s.Cell)
		}
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
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		expanded, err := expandEnv(data, env, unsetIsEmpty)
		if err != nil {
			return nil, fmt.Errorf("config %s: %w", path, err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(expanded))
		dec.KnownFields(true)
		if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) { // io.EOF: an empty file
			return nil, fmt.Errorf("config %s: %w", path, err)
		}
	case errors.Is(err, fs.ErrNotExist) && !explicit:
	default:
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := applyEnv(cfg, env); err != nil {
		return nil, err
	}
	cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return cfg, nil
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

// expandEnv replaces ${NAME} with the variable's value; an unset variable is
// an error naming it (an empty password is rarely what was meant) unless
// unsetIsEmpty. $$ is a literal $.
func expandEnv(data []byte, env map[string]string, unsetIsEmpty bool) ([]byte, error) {
	var out bytes.Buffer
	var missing []string
	for i := 0; i < len(data); i++ {
		if data[i] != '$' || i+1 >= len(data) {
			out.WriteByte(data[i])
			continue
		}
		switch data[i+1] {
		case '$':
			out.WriteByte('$')
			i++
		case '{':
			end := bytes.IndexByte(data[i+2:], '}')
			if end < 0 {
				return nil, fmt.Errorf("unterminated ${ at byte %d", i)
			}
			name := string(data[i+2 : i+2+end])
			v, ok := env[name]
			if !ok && !unsetIsEmpty {
				missing = append(missing, name)
			}
			out.WriteString(v)
			i += 2 + end
		default:
			out.WriteByte('$')
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("environment variables not set: %s", strings.Join(missing, ", "))
	}
	return out.Bytes(), nil
}

// applyEnv sets every field that has a METRICGATE_<SECTION>_<KEY> variable.
func applyEnv(cfg *Config, env map[string]string) error {
	if err := applyEnvStruct(reflect.ValueOf(cfg).Elem(), "METRICGATE", env); err != nil {
		return err
	}
	// sources.<name>.<key>: METRICGATE_SOURCES_<NAME>_<KEY>
	keys := []string{"URL", "AS_OF", "MAX_AGE", "ROLE", "CELL", "MAX_COST", "WORK_MEM", "TEMP_FILE_LIMIT"}
	for k, v := range env {
		rest, ok := strings.CutPrefix(k, "METRICGATE_SOURCES_")
		if !ok {
			continue
		}
		for _, key := range keys {
			name, ok := strings.CutSuffix(rest, "_"+key)
			if !ok || name == "" {
				continue
			}
			name = strings.ToLower(name)
			if cfg.Sources == nil {
				cfg.Sources = map[string]SourceConfig{}
			}
			s := cfg.Sources[name]
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
					return fmt.Errorf("%s: %q is not a number", k, v)
				}
				s.MaxCost = c
			case "MAX_AGE":
				if err := s.MaxAge.UnmarshalText([]byte(v)); err != nil {
					return fmt.Errorf("%s: %w", k, err)
				}
			}
			cfg.Sources[name] = s
		}
	}
	return nil
}

func applyEnvStruct(v reflect.Value, prefix string, env map[string]string) error {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if tag == "" || tag == "-" {
			continue
		}
		name := prefix + "_" + strings.ToUpper(tag)
		fv := v.Field(i)
		if f.Type.Kind() == reflect.Struct {
			if err := applyEnvStruct(fv, name, env); err != nil {
				return err
			}
			continue
		}
		val, ok := env[name]
		if !ok {
			continue
		}
		if err := setFromString(fv, val); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
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
			return fmt.Errorf("%q is not true or false", val)
		}
		fv.SetBool(b)
	case reflect.Int:
		n, err := strconv.Atoi(val)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", val)
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
	case reflect.Map:
		// sources: handled by applyEnv
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
