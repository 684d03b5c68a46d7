package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"gopkg.in/yaml.v3"

	"gitlab.com/metricgate/metricgate/api"
	"gitlab.com/metricgate/metricgate/history"
	"gitlab.com/metricgate/metricgate/runner"
)

// spec is api/openapi.yaml, read generically.
type spec struct {
	doc   map[string]any
	paths map[string]any
}

func loadSpec(t *testing.T) *spec {
	t.Helper()
	b, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	paths, _ := doc["paths"].(map[string]any)
	if len(paths) == 0 {
		t.Fatal("openapi.yaml: no paths")
	}
	return &spec{doc: doc, paths: paths}
}

// operations returns "METHOD /path" of every operation, with chi's
// {param} syntax (which OpenAPI shares).
func (s *spec) operations() []string {
	var out []string
	for p, item := range s.paths {
		for m := range item.(map[string]any) {
			switch m {
			case "get", "post", "put", "patch", "delete", "head", "options":
				out = append(out, strings.ToUpper(m)+" "+p)
			}
		}
	}
	slices.Sort(out)
	return out
}

// TestOpenAPIMatchesTheRouter checks both ways: every route of the router
// is documented, and every documented operation is routed.
func TestOpenAPIMatchesTheRouter(t *testing.T) {
	t.Parallel()
	a, err := api.New(api.Config{Token: "x"}, api.Deps{History: nilHistory(), Runs: nilRuns()})
	if err != nil {
		t.Fatal(err)
	}
	var routed []string
	if err := chi.Walk(a.Chi(), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		routed = append(routed, method+" "+route)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(routed)
	documented := loadSpec(t).operations()
	for _, r := range routed {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is not in api/openapi.yaml", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(routed, d) {
			t.Errorf("api/openapi.yaml documents %s, which the router does not serve", d)
		}
	}
	// DESIGN.md's routes, exactly.
	want := []string{"GET /", "GET /api/v1/dumps", "GET /api/v1/queries", "GET /api/v1/queries/{name}",
		"GET /api/v1/runs", "GET /api/v1/runs/{id}", "GET /api/v1/status", "GET /healthz", "GET /metrics",
		"GET /readyz", "POST /api/v1/runs"}
	if !slices.Equal(routed, want) {
		t.Errorf("routes\n  %v\nwant DESIGN.md's\n  %v", routed, want)
	}
}

// check validates a response against the spec: the status code is
// documented for the operation, and a JSON body matches its schema (every
// required member present, no undocumented member, types right).
func (s *spec) check(t *testing.T, method string, resp reply, body []byte) {
	t.Helper()
	path := resp.Path
	op := s.operation(method, path)
	if op == nil {
		if resp.StatusCode == http.StatusMethodNotAllowed {
			// Documented once, for every route: the Allow header with it.
			headers, _ := s.ref("#/components/responses/MethodNotAllowed")["headers"].(map[string]any)
			if _, ok := headers["Allow"]; !ok || resp.Header.Get("Allow") == "" {
				t.Errorf("%s %s 405: Allow %q; the spec's MethodNotAllowed headers %v", method, path, resp.Header.Get("Allow"), headers)
			}
		}
		if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed {
			s.checkSchema(t, path, s.ref("#/components/schemas/Error"), body)
			return
		}
		t.Errorf("%s %s: no operation in the spec", method, path)
		return
	}
	responses, _ := op["responses"].(map[string]any)
	r, ok := responses[strconv.Itoa(resp.StatusCode)]
	if !ok {
		t.Errorf("%s %s: status %d is not documented", method, path, resp.StatusCode)
		return
	}
	rm := s.resolve(r)
	content, _ := rm["content"].(map[string]any)
	ct := resp.Header.Get("Content-Type")
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	if !strings.HasPrefix(ct, "application/json") {
		if _, ok := content[ct]; !ok && !(ct == "text/plain" && content["text/plain"] != nil) {
			t.Errorf("%s %s: content type %q is not documented", method, path, ct)
		}
		return
	}
	media, ok := content["application/json"].(map[string]any)
	if !ok {
		t.Errorf("%s %s %d: JSON is not documented", method, path, resp.StatusCode)
		return
	}
	s.checkSchema(t, fmt.Sprintf("%s %s %d", method, path, resp.StatusCode), media["schema"], body)
}

func (s *spec) checkSchema(t *testing.T, what string, schema any, body []byte) {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Errorf("%s: not JSON: %v", what, err)
		return
	}
	if err := s.validate(schema, v, "$"); err != nil {
		t.Errorf("%s: %v\n%.400s", what, err, body)
	}
}

// operation finds the spec's operation for a concrete path.
func (s *spec) operation(method, path string) map[string]any {
	for p, item := range s.paths {
		re := "^" + regexp.MustCompile(`\\\{[^}]+\\\}`).ReplaceAllString(regexp.QuoteMeta(p), `[^/]+`) + "$"
		if regexp.MustCompile(re).MatchString(path) {
			op, _ := item.(map[string]any)[strings.ToLower(method)].(map[string]any)
			return op
		}
	}
	return nil
}

func (s *spec) ref(ref string) map[string]any {
	var cur any = s.doc
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		cur = cur.(map[string]any)[part]
	}
	m, _ := cur.(map[string]any)
	return m
}

func (s *spec) resolve(x any) map[string]any {
	m, _ := x.(map[string]any)
	if r, ok := m["$ref"].(string); ok {
		return s.resolve(s.ref(r))
	}
	return m
}

func (s *spec) validate(schema, v any, at string) error {
	sc := s.resolve(schema)
	if sc == nil {
		return fmt.Errorf("%s: no schema", at)
	}
	if v == nil {
		if sc["nullable"] == true {
			return nil
		}
		return fmt.Errorf("%s: null, but not nullable", at)
	}
	if all, ok := sc["allOf"].([]any); ok {
		for _, sub := range all {
			if err := s.validate(sub, v, at); err != nil {
				return err
			}
		}
		return nil
	}
	if one, ok := sc["oneOf"].([]any); ok {
		var errs []string
		for _, sub := range one {
			err := s.validate(sub, v, at)
			if err == nil {
				return nil
			}
			errs = append(errs, err.Error())
		}
		return fmt.Errorf("%s: matches none of oneOf: %s", at, strings.Join(errs, "; "))
	}
	switch sc["type"] {
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: not an object", at)
		}
		props, _ := sc["properties"].(map[string]any)
		for _, r := range asSlice(sc["required"]) {
			if _, ok := obj[r.(string)]; !ok {
				return fmt.Errorf("%s: required member %q missing", at, r)
			}
		}
		if props != nil {
			for k, val := range obj {
				p, ok := props[k]
				if !ok {
					return fmt.Errorf("%s: member %q is not documented", at, k)
				}
				if err := s.validate(p, val, at+"."+k); err != nil {
					return err
				}
			}
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s: not an array", at)
		}
		for i, x := range arr {
			if err := s.validate(sc["items"], x, fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return err
			}
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s: not a string", at)
		}
		if enum := asSlice(sc["enum"]); enum != nil && !slices.Contains(enum, any(str)) {
			return fmt.Errorf("%s: %q is not one of %v", at, str, enum)
		}
	case "integer":
		n, ok := v.(float64)
		if !ok || n != float64(int64(n)) {
			return fmt.Errorf("%s: not an integer", at)
		}
	case "number":
		if _, ok := v.(float64); !ok {
			return fmt.Errorf("%s: not a number", at)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("%s: not a boolean", at)
		}
	}
	return nil
}

func asSlice(x any) []any {
	s, _ := x.([]any)
	return s
}

func nilHistory() api.History { return (*history.Store)(nil) }

func nilRuns() api.Runs { return &runner.Scheduler{} }
