package cli

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		bi   debug.BuildInfo
		want string
	}{
		{debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261207100000-0123456789ab+dirty"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.time", Value: "2026-12-07T10:00:00Z"},
				{Key: "vcs.modified", Value: "true"}}},
			"metricgate v0.0.0-20261207100000-0123456789ab+dirty (commit 0123456789ab, 2026-12-07T10:00:00Z, modified; go1.26.8)"},
		{debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}},
			"metricgate devel (commit unknown: built without VCS information; go1.26.8)"},
	} {
		if got := buildOf(&tc.bi).String(); got != tc.want {
			t.Errorf("got  %s\nwant %s", got, tc.want)
		}
	}
	var out strings.Builder
	if code := run(t.Context(), []string{"version"}, &env{stdout: &out, stderr: &out}); code != ExitOK || !strings.HasPrefix(out.String(), "metricgate ") {
		t.Errorf("version: exit %d: %s", code, out.String())
	}
}
