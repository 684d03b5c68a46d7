package api

import (
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
)

// alertsFile is the shipped Prometheus alerting rules.
const alertsFile = "../deploy/prometheus/alerts.yml"

// exportedMetrics returns the name of every series family /metrics can
// show: those the status collector describes, and those of the registry
// (HTTP, Go, process), histograms with their _bucket, _sum and _count.
func exportedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	ch := make(chan *prometheus.Desc, 100)
	go func() {
		(&collector{}).Describe(ch)
		close(ch)
	}()
	fq := regexp.MustCompile(`fqName: "([^"]+)"`)
	for d := range ch {
		m := fq.FindStringSubmatch(d.String())
		if m == nil {
			t.Fatalf("no name in %s", d)
		}
		names[m[1]] = true
	}
	reg := prometheus.NewRegistry()
	newHTTPMetrics(reg).observe("GET", "/healthz", 200, time.Millisecond) // the HTTP metrics get a series
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		names[f.GetName()] = true
		if f.GetType() == dto.MetricType_HISTOGRAM || f.GetType() == dto.MetricType_SUMMARY {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				names[f.GetName()+suffix] = true
			}
		}
	}
	return names
}

// TestAlertRules parses deploy/prometheus/alerts.yml with Prometheus' own
// rule file parser (which also parses every expression and template) and
// checks that every metric the rules name is one metricgate exports.
func TestAlertRules(t *testing.T) {
	t.Parallel()
	groups, errs := rulefmt.ParseFile(alertsFile, false, model.UTF8Validation, parser.NewParser(parser.Options{}), slog.New(slog.DiscardHandler))
	if len(errs) > 0 {
		t.Fatalf("%s: %v", alertsFile, errs)
	}
	exported := exportedMetrics(t)
	for _, want := range []string{"metricgate_data_age_seconds", "metricgate_slo_attainment_ratio", "metricgate_dump_tick_error", "metricgate_http_request_duration_seconds_bucket"} {
		if !exported[want] {
			t.Fatalf("the exported metrics as read lack %s: %v", want, exported)
		}
	}
	p := parser.NewParser(parser.Options{})
	alerts := 0
	var named []string
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if r.Alert != "" {
				alerts++
			}
			expr, err := p.ParseExpr(r.Expr)
			if err != nil {
				t.Fatalf("%s: %v", r.Alert, err)
			}
			parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
				vs, ok := n.(*parser.VectorSelector)
				if !ok {
					return nil
				}
				name := vs.Name
				for _, m := range vs.LabelMatchers {
					if m.Name == model.MetricNameLabel {
						name = m.Value
					}
				}
				if !strings.HasPrefix(name, "metricgate_") && !strings.HasPrefix(name, "go_") && !strings.HasPrefix(name, "process_") {
					t.Errorf("alert %s names %q, which is not metricgate's", r.Alert, name)
				}
				if !exported[name] {
					t.Errorf("alert %s names %s, which metricgate does not export", r.Alert, name)
				}
				if !slices.Contains(named, name) {
					named = append(named, name)
				}
				return nil
			})
		}
	}
	if alerts < 5 || len(named) < 5 {
		t.Errorf("%d alerts naming %v: the file is not what the test means", alerts, named)
	}
}
