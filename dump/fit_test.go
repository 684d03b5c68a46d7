package dump

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"gitlab.com/metricgate/metricgate/schema"
)

// TestMisScopedTablesAreRefused: a scope that does not fit its table is a
// problem at the scope's position naming the scopes that fit; a table the
// dump does not know is refused at its scope.
func TestMisScopedTablesAreRefused(t *testing.T) {
	for _, c := range []struct {
		table, scope string
		want         string // message after "d.yml:3:12: "
	}{
		{"issues", "{project: project_id}", "table issues: scope {project: project_id} does not fit the table: want scope: {issue: id}"},
		{"issues", "{issue: project_id}", "table issues: scope {issue: project_id} does not fit the table: want scope: {issue: id}"},
		{"issues", "{project: project_id, features: [issues]}", "table issues: scope {project: project_id, features: [issues]} does not fit the table: want scope: {issue: id}"},
		{"notes", "{project: project_id}", "table notes: scope {project: project_id} does not fit the table: want scope: {note: id}"},
		{"notes", "{target: noteable_id, type: noteable_type}", "table notes: scope {target: noteable_id, type: noteable_type} does not fit the table: want scope: {note: id}"},
		{"notes", "{issue: noteable_id}", "table notes: scope {issue: noteable_id} does not fit the table: want scope: {note: id}"},
		{"issue_metrics", "{project: project_id}", "table issue_metrics: scope {project: project_id} does not fit the table: want scope: {issue: issue_id}"},
		{"merge_requests", "{project: target_project_id, features: [merge_requests, repository]}", "table merge_requests: scope {project: target_project_id, features: [merge_requests, repository]} does not fit the table: want scope: {merge_request: id}"},
		{"merge_request_metrics", "{project: target_project_id}", "table merge_request_metrics: scope {project: target_project_id} does not fit the table: want scope: {merge_request: merge_request_id}"},
		{"label_links", "{label: label_id}", "table label_links: scope {label: label_id} does not fit the table: want scope: {target: target_id, type: target_type}"},
		{"events", "{project: project_id}", "table events: scope {project: project_id} does not fit the table: want scope: {event: target_id}"},
		{"ci_pipelines", "{project: project_id, features: [builds]}", "table ci_pipelines: scope {project: project_id, features: [builds]} does not fit the table: want scope: {pipeline: id}"},
		{"ci_builds", "{project: project_id}", "table ci_builds: scope {project: project_id} does not fit the table: want scope: {pipeline: commit_id}"},
		{"projects", "{group: namespace_id}", "table projects: scope {group: namespace_id} does not fit the table: want scope: {project: id}"},
		{"namespaces", "{project: id}", "table namespaces: scope {project: id} does not fit the table: want scope: {group: id}"},
		{"milestones", "{project: project_id}", "table milestones: scope {project: project_id} does not fit the table: want scope: {milestone: id}"},
		{"releases", "{project: project_id}", "table releases: scope {project: project_id} does not fit the table: want scope: {project: project_id, features: [releases, repository]} (features at least those)"},
		{"releases", "{project: project_id, features: [releases]}", "table releases: scope {project: project_id, features: [releases]} does not fit"},
		{"merge_requests_closing_issues", "{merge_request: merge_request_id}", "table merge_requests_closing_issues: the dump does not know this table"},
		{"members", "{project: source_id}", "table members: the dump does not know this table"},
		{"vulnerabilities", "{project: project_id}", "table vulnerabilities: the dump does not know this table"},
	} {
		t.Run(c.table+" "+c.scope, func(t *testing.T) {
			yml := fmt.Sprintf("tables:\n  %s:\n    scope: %s\n    columns: [id]\n", c.table, c.scope)
			_, err := Parse("d.yml", []byte(yml), nil)
			var ps Problems
			if !errors.As(err, &ps) || len(ps) != 1 {
				t.Fatalf("problems %v, want one", err)
			}
			if want := "d.yml:3:12: " + c.want; !strings.HasPrefix(ps[0].String(), want) {
				t.Errorf("problem\n%s\nwant prefix\n%s", ps[0], want)
			}
		})
	}
	// Every fitting scope passes, with more features than required too.
	for _, table := range slices.Sorted(maps.Keys(tableScopes)) {
		for _, f := range tableScopes[table].fits {
			f.Features = append(f.Features, "wiki")
			yml := fmt.Sprintf("tables:\n  %s:\n    scope: %s\n    columns: [id]\n", table, f)
			if f.Kind != "project" {
				f.Features = nil
				yml = fmt.Sprintf("tables:\n  %s:\n    scope: %s\n    columns: [id]\n", table, f)
			}
			if _, err := Parse("d.yml", []byte(yml), nil); err != nil {
				t.Errorf("%s with its fitting scope %s: %v", table, f, err)
			}
		}
	}
}

// TestEveryOtherScopeIsRefused tries every scope kind on every known
// table, on the columns its fitting scopes name and on id: only the
// fitting ones pass.
func TestEveryOtherScopeIsRefused(t *testing.T) {
	tried, refused := 0, 0
	for _, table := range slices.Sorted(maps.Keys(tableScopes)) {
		fits := tableScopes[table].fits
		cols := []string{"id", "project_id", "target_id"}
		for _, f := range fits {
			cols = append(cols, f.Column)
		}
		for _, kind := range scopeKinds {
			for _, col := range slices.Compact(slices.Sorted(slices.Values(cols))) {
				s := Scope{Kind: kind, Column: col}
				if kind == "target" {
					s.Type = "target_type"
				}
				fit := slices.ContainsFunc(fits, s.fits)
				yml := fmt.Sprintf("tables:\n  %s:\n    scope: %s\n    columns: [id]\n", table, s)
				_, err := Parse("d.yml", []byte(yml), nil)
				tried++
				switch {
				case fit && err != nil:
					t.Errorf("%s %s fits, refused: %v", table, s, err)
				case !fit && err == nil:
					t.Errorf("%s %s does not fit, accepted", table, s)
				case !fit:
					refused++
					if !strings.HasPrefix(err.Error(), "d.yml:3:12: table "+table+": scope ") {
						t.Errorf("%s %s: %v, want it at the scope", table, s, err)
					}
				}
			}
		}
	}
	t.Logf("%d scopes tried on %d tables, %d refused", tried, len(tableScopes), refused)
}

// TestCredentialColumns: the columns of NeverPublic are refused in clear,
// with or without a catalog, and cannot be marked public.
func TestCredentialColumns(t *testing.T) {
	for _, c := range []struct{ table, scope, column string }{
		{"projects", "{project: id}", "import_url"},
		{"projects", "{project: id}", "service_desk_reply_to"},
		{"ci_pipelines", "{pipeline: id}", "yaml_variables"},
		{"environments", "{project: project_id, features: [environments]}", "external_url"},
		{"ci_builds", "{pipeline: commit_id}", "token_encrypted"},
		{"ci_builds", "{pipeline: commit_id}", "encrypted_token"},
		{"projects", "{project: id}", "runners_token_encrypted"},
		{"notes", "{note: id}", "author_email"},
	} {
		yml := fmt.Sprintf("tables:\n  %s:\n    scope: %s\n    columns: [id, %s]\n", c.table, c.scope, c.column)
		_, err := Parse("d.yml", []byte(yml), nil)
		if want := fmt.Sprintf("d.yml:4:19: table %s: column %s is a red column no anonymous visitor sees", c.table, c.column); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s.%s in clear: %v\nwant %s", c.table, c.column, err, want)
		}
		_, err = Parse("d.yml", []byte(yml+"    public: ["+c.column+"]\n"), nil)
		if want := fmt.Sprintf("table %s: column %s cannot be public", c.table, c.column); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s.%s public: %v\nwant %s", c.table, c.column, err, want)
		}
		if _, err := Parse("d.yml", []byte(yml+"    pseudonymize: ["+c.column+"]\n"), nil); err != nil {
			t.Errorf("%s.%s pseudonymized: %v", c.table, c.column, err)
		}
	}
}

const testCatalog = `version: t
tables:
  issues:
    entity: [author_id]
    columns:
      id: key
      title: text
      author_id: key
      confidential: category
      internal_secret_url: category
  namespaces:
    entity: []
    columns:
      id: key
      name: red
`

// TestCatalogClassification: with the schema catalog, a text or red
// column must be marked public, pseudonymized or left out; a column or
// table the catalog does not list is red; NeverPublic wins over the
// catalog's class.
func TestCatalogClassification(t *testing.T) {
	cat, err := schema.Parse("schema.yml", []byte(testCatalog))
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Classify: CatalogClassifier(cat)}
	for _, c := range []struct {
		name, yml string
		want      string // "" for none
	}{
		{"text in clear", "tables:\n  issues:\n    scope: {issue: id}\n    columns: [id, title]\n",
			"d.yml:4:19: table issues: column title is free text (schema.yml class text): mark it public (public: [title])"},
		{"text public", "tables:\n  issues:\n    scope: {issue: id}\n    columns: [id, title]\n    public: [title]\n", ""},
		{"text pseudonymized", "tables:\n  issues:\n    scope: {issue: id}\n    columns: [id, title]\n    pseudonymize: [title]\n", ""},
		{"red in clear", "tables:\n  namespaces:\n    scope: {group: id}\n    columns: [id, name]\n",
			"d.yml:4:19: table namespaces: column name is a red column (schema.yml class red"},
		{"red public", "tables:\n  namespaces:\n    scope: {group: id}\n    columns: [id, name]\n    public: [name]\n", ""},
		{"not catalogued", "tables:\n  issues:\n    scope: {issue: id}\n    columns: [id, weight]\n",
			"d.yml:4:19: table issues: column weight is a red column (schema.yml class red"},
		{"table not catalogued", "tables:\n  notes:\n    scope: {note: id}\n    columns: [id]\n",
			"d.yml:4:15: table notes: column id is a red column (schema.yml class red"},
		{"never public over the catalog", "tables:\n  issues:\n    scope: {issue: id}\n    columns: [id, internal_secret_url]\n    public: [internal_secret_url]\n",
			"d.yml:5:14: table issues: column internal_secret_url cannot be public"},
		{"public and pseudonymized", "tables:\n  issues:\n    scope: {issue: id}\n    columns: [id, title]\n    public: [title]\n    pseudonymize: [title]\n",
			"d.yml:5:14: table issues: column title is both public and pseudonymized"},
		{"public not exported", "tables:\n  issues:\n    scope: {issue: id}\n    columns: [id]\n    public: [title]\n",
			"d.yml:5:14: table issues: public column title is not among its columns"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseWith("d.yml", []byte(c.yml), opts)
			switch {
			case c.want == "" && err != nil:
				t.Errorf("unexpected problems:\n%v", err)
			case c.want != "" && (err == nil || !strings.HasPrefix(err.Error(), c.want)):
				t.Errorf("problems:\n%v\nwant prefix\n%s", err, c.want)
			}
		})
	}
}

// TestShippedDefinitionFits: the repository's dump.yml passes with the
// repository's schema catalog (ParseConfig finds it beside dump.yml),
// every table of it has a fitting scope, and every text or red column it
// exports in clear is marked public.
func TestShippedDefinitionFits(t *testing.T) {
	def, err := ParseConfig(os.DirFS(".."), "dump.yml", nil)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := schema.Load(os.DirFS(".."), schema.DefaultFile)
	if err != nil {
		t.Fatal(err)
	}
	classify := CatalogClassifier(cat)
	public := 0
	for _, tb := range def.Tables {
		if msg := scopeFit(tb.Name, tb.Scope); msg != "" {
			t.Error(msg)
		}
		for _, c := range tb.Columns {
			if classify(tb.Name, c) != Plain && !tb.Pseudonymized(c) {
				if !slices.Contains(tb.Public, c) {
					t.Errorf("%s.%s exported in clear, not public", tb.Name, c)
				}
				public++
			}
		}
	}
	t.Logf("%d tables, %d text or red columns marked public", len(def.Tables), public)
}
