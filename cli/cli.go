// Package cli is the metricgate command line: it parses flags, reads the
// configuration (file, METRICGATE_* environment variables, flags) and calls
// the packages that do the work. It is the only package that reads the
// environment.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
)

// Exit codes of every command.
const (
	ExitOK       = 0 // success
	ExitProblems = 1 // the command ran and found problems or failures
	ExitUsage    = 2 // bad flags, arguments or configuration
)

// env is what a command may touch of the outside world.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	environ        []string
}

type command struct {
	name, args, summary string
	run                 func(ctx context.Context, e *env, args []string) int
}

func commands() []command {
	return []command{
		{"validate", "[--config FILE] [--format text|json|codequality] [--output FILE] [--source URL] [DIR|FILE...]",
			"check query files: headers and the SQL guard, every problem at once", cmdValidate},
		{"demo", demoArgs, demoSummary, cmdDemo},
		{"sample", sampleArgs, sampleSummary, cmdSample},
		{"run", runArgs, runSummary, cmdRun},
		{"serve", serveArgs, serveSummary, cmdServe},
		{"plan", planArgs, planSummary, cmdPlan},
		{"show", showArgs, showSummary, cmdShow},
		{"approvals", approvalsArgs, approvalsSummary, cmdApprovals},
		{"migrate", migrateArgs, migrateSummary, cmdMigrate},
		{"dump", dumpArgs, dumpSummary, cmdDump},
		{"load", loadArgs, loadSummary, cmdLoad},
		{"schema", schemaArgs, schemaSummary, cmdSchema},
		{"version", "", "print the version", cmdVersion},
		{"help", "[COMMAND]", "show help", nil},
	}
}

// Run runs metricgate with args (without the program name) and returns the
// process exit code.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return run(ctx, args, &env{stdin: stdin, stdout: stdout, stderr: stderr, environ: os.Environ()})
}

func run(ctx context.Context, args []string, e *env) int {
	if len(args) == 0 {
		usage(e.stderr)
		return ExitUsage
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			for _, c := range commands() {
				if c.name == args[1] && c.run != nil {
					return c.run(ctx, e, []string{"-h"})
				}
			}
		}
		usage(e.stdout)
		return ExitOK
	}
	for _, c := range commands() {
		if c.name == name && c.run != nil {
			return c.run(ctx, e, args[1:])
		}
	}
	fmt.Fprintf(e.stderr, "metricgate: unknown command %q\n\n", name)
	usage(e.stderr)
	return ExitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "metricgate moves reviewed aggregates and public-project dumps out of a GitLab database.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: metricgate COMMAND [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'metricgate help COMMAND' for a command's flags.")
}

// fail prints "metricgate CMD: message" on stderr and returns code, for a
// command's early returns.
func (e *env) fail(code int, cmd, format string, args ...any) int {
	// No IP address in any output, but the configured addresses of the
	// databases that failed.
	fmt.Fprintf(e.stderr, "metricgate %s: %s\n", cmd, keepRedacted(fmt.Sprintf(format, args...), args))
	return code
}

// newFlags returns a flag set that prints its usage in our format.
func newFlags(e *env, name, args, summary string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: metricgate %s %s\n\n%s.\n\nFlags:\n", name, args, capitalize(summary))
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args; done is true when the command should return code.
func parseFlags(fs *flag.FlagSet, args []string) (code int, done bool) {
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return ExitOK, true
	case err != nil:
		return ExitUsage, true
	}
	return 0, false
}

// parseInterleaved parses args allowing flags after positional arguments
// ("show TABLE --limit 5"), and returns the positional ones.
func parseInterleaved(fs *flag.FlagSet, args []string) (positional []string, code int, done bool) {
	for {
		if code, done := parseFlags(fs, args); done {
			return nil, code, true
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, 0, false
		}
		if args[0] == "--" {
			return append(positional, args[1:]...), 0, false
		}
		positional, args = append(positional, args[0]), args[1:]
	}
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// Set at link time, for builds without the git checkout's metadata (the
// Docker image: .dockerignore leaves .git out):
//
//	go build -ldflags "-X gitlab.com/metricgate/metricgate/cli.linkVersion=v1.2.0 -X gitlab.com/metricgate/metricgate/cli.linkCommit=$(git rev-parse HEAD)"
//
// Otherwise the Go toolchain's build information says both: the module
// version (from the checkout's tag, or a pseudo-version) and the VCS
// revision, time and whether the tree was modified.
var linkVersion, linkCommit string

// build is what a binary knows of how it was built.
type build struct {
	Version  string // module version, "devel" when unknown
	Commit   string // VCS revision, "" when unknown
	Time     string // commit time (RFC 3339), "" when unknown
	Modified bool   // built from a tree with uncommitted changes
	Go       string // toolchain
}

// readBuild reads the build information of the running binary, the
// link-time values first.
func readBuild() build {
	b := build{Version: "devel"}
	if bi, ok := debug.ReadBuildInfo(); ok {
		b = buildOf(bi)
	}
	if linkVersion != "" {
		b.Version = linkVersion
	}
	if linkCommit != "" {
		b.Commit = linkCommit
	}
	return b
}

// buildOf reads bi: the main module's version and the vcs.* settings.
func buildOf(bi *debug.BuildInfo) build {
	b := build{Version: "devel", Go: bi.GoVersion}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		b.Version = v
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Commit = s.Value
		case "vcs.time":
			b.Time = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

// String is the version line: "metricgate v1.2.0 (commit 0123456789ab,
// 2026-12-07T10:00:00Z, modified; go1.26.8)".
func (b build) String() string {
	var details []string
	if b.Commit != "" {
		c := "commit " + b.Commit[:min(12, len(b.Commit))]
		if b.Time != "" {
			c += ", " + b.Time
		}
		if b.Modified {
			c += ", modified"
		}
		details = append(details, c)
	} else {
		details = append(details, "commit unknown: built without VCS information")
	}
	if b.Go != "" {
		details = append(details, b.Go)
	}
	return fmt.Sprintf("metricgate %s (%s)", b.Version, strings.Join(details, "; "))
}

// Version is the module version of the binary, or "devel".
func Version() string { return readBuild().Version }

func cmdVersion(_ context.Context, e *env, args []string) int {
	fs := newFlags(e, "version", "", "print the version")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	fmt.Fprintln(e.stdout, readBuild())
	return ExitOK
}
