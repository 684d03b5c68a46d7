package cli

import (
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gitlab.com/metricgate/metricgate/internal/gitlabfake"
	"gitlab.com/metricgate/metricgate/internal/pgtest"
	"gitlab.com/metricgate/metricgate/queries"
)

// chromium finds Debian's chromium binary, or fails naming the package.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("the status page test needs headless Chromium: apt-get install -y --no-install-recommends chromium " +
		"(make deps installs it)")
	return ""
}

// artifactDir is $CI_ARTIFACTS, or artifacts/ at the repository root.
func artifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("CI_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// alwaysFails is a query the guard accepts and the source refuses: the
// catalog lists issues.cached_markdown_version (GitLab has it), the fake
// source does not.
const alwaysFails = `-- description: Issues per month by a column the source lacks: fails until someone fixes it.
-- owner: @broken-pm
-- group_size: issues
SELECT date_trunc('month', created_at)::date AS month, count(*) AS issues
FROM issues
WHERE cached_markdown_version > 0
GROUP BY 1
`

// TestStatusPageInChromium runs the example queries on generated GitLab
// data several times, serves the history, and looks at the page in
// headless Chromium: every query has a row with its SVG chart, the broken
// query shows as failing, and a screenshot goes to the artifacts.
func TestStatusPageInChromium(t *testing.T) {
	t.Parallel()
	browser := chromium(t)

	src := pgtest.New(t)
	conn := pgtest.Connect(t, src)
	if _, err := gitlabfake.Load(t.Context(), conn, gitlabfake.Options{Scale: 1}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	qdir := filepath.Join(dir, "queries")
	err := fs.WalkDir(queries.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(queries.FS, p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(qdir, filepath.Dir(p)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(qdir, p), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(qdir, "plan"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(qdir, "plan", "issues_by_dropped_column.sql"), []byte(alwaysFails), 0o644); err != nil {
		t.Fatal(err)
	}
	config := writeConfig(t, "sources:\n  main:\n    url: "+withPassword(t, src)+"\n"+
		"history:\n  url: "+withPassword(t, pgtest.New(t))+"\n"+
		"warehouse:\n  url: duckdb://"+filepath.Join(dir, "w.duckdb")+"\n"+
		"queries:\n  dir: "+qdir+"\n  approval: none\n"+
		"api:\n  listen: 127.0.0.1:0\n  token: "+testRunToken+"\n")
	cfg, err := loadConfig(config, nil)
	if err != nil {
		t.Fatal(err)
	}
	cat, _, err := loadCatalog(cfg)
	if err != nil {
		t.Fatal(err)
	}

	// Real history: a few manual runs of every query, then serve (whose
	// start catches up the schedule's missed tick: one more run).
	const runs = 6
	for i := range runs {
		code := run(t.Context(), []string{"run", "--once", "--config", config}, &env{stdout: &strings.Builder{}, stderr: &strings.Builder{}})
		if code != ExitProblems { // the broken query fails every run
			t.Fatalf("run %d: exit %d", i+1, code)
		}
	}
	s := startServe(t, config)
	s.log.wait(t, `"msg":"run lock released"`, 1)

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(browser),
		chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1600, 1000))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	ctx, cancel := context.WithTimeout(bctx, 2*time.Minute)
	defer cancel()

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("chromium: %v", err)
		}
	}
	count := func(selector string) int {
		t.Helper()
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+strconvQuote(selector)+`).length`))
		must(err)
		return n
	}
	must(chromedp.Do(ctx, chromedp.Navigate(s.addr+"/"), chromedp.WaitVisible(chromedp.CSS("#queries"))))
	title, err := chromedp.Run(ctx, chromedp.Title())
	must(err)
	rows := count("#queries tr[data-query]")
	charts := count("#queries tr[data-query] svg.chart")
	bars := count("#queries svg.chart rect.ok, #queries svg.chart rect.fail")
	failingRows := count(`#queries tr[data-query="issues_by_dropped_column"][data-state="failing"]`)
	overall, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#overall")))
	must(err)
	failures, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#failures")))
	must(err)
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	must(err)
	// A laptop's 1,280 px: no sideways scroll, the charts on screen.
	must(chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(s.addr+"/"), chromedp.WaitVisible(chromedp.CSS("#queries"))))
	scrollWidth, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	must(err)
	chartRight, err := chromedp.Run(ctx, chromedp.Evaluate[float64](
		`Math.max(...[...document.querySelectorAll('#queries svg.chart')].map(e => e.getBoundingClientRect().right))`))
	must(err)
	laptop, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	must(err)
	must(chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Navigate(s.addr+"/"), chromedp.WaitVisible(chromedp.CSS("#queries"))))
	phone, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	must(err)
	out := artifactDir(t)
	for name, b := range map[string][]byte{"status-page.png": shot, "status-page-phone.png": phone, "status-page-1280.png": laptop} {
		if err := os.WriteFile(filepath.Join(out, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("screenshots in %s", out)

	want := len(cat.Queries) + len(cat.Invalid)
	if rows != want || charts != want {
		t.Errorf("%d query rows and %d charts, want %d of each", rows, charts, want)
	}
	if bars < want*runs {
		t.Errorf("%d bars in the charts, want at least %d (%d runs of %d queries)", bars, want*runs, runs, want)
	}
	if scrollWidth > 1280 || chartRight > 1280 {
		t.Errorf("at 1280 px the page is %d px wide and the charts end at %.0f px: it scrolls sideways", scrollWidth, chartRight)
	}
	if failingRows != 1 {
		t.Error("the broken query is not shown as failing")
	}
	if overall != "FAILING" || !strings.HasPrefix(title, "FAILING") {
		t.Errorf("overall state %q, title %q; want FAILING", overall, title)
	}
	if !strings.Contains(failures, "issues_by_dropped_column") || !strings.Contains(failures, `SQLSTATE 42703 undefined_column`) {
		t.Errorf("recent failures lack the broken query's error:\n%s", failures)
	}
	if strings.Contains(s.log.String(), testPassword) {
		t.Error("a log line shows the password")
	}
}

func strconvQuote(s string) string { return strconv.Quote(s) }
