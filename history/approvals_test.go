package history

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestApprovalRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, _ := newStore(t, true)
	key := ApprovalKey{Project: "analytics/queries", Path: "queries/ci/pipeline_success_rate.sql",
		Branch: "main", SHA256: strings.Repeat("ab", 32)}

	if _, err := s.Approval(ctx, key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Approval of an empty cache: %v, want ErrNotFound", err)
	}
	in := CachedApproval{
		Key:       key,
		Commit:    "0123456789abcdef0123456789abcdef01234567",
		MRIID:     12,
		Approvers: []string{"sec-alice", "data-bob"},
		MergedAt:  time.Date(2025, 3, 1, 10, 0, 0, 123456789, berlin),
		CheckedAt: time.Date(2025, 3, 2, 4, 0, 0, 0, berlin),
	}
	if err := s.SaveApproval(ctx, in); err != nil {
		t.Fatal(err)
	}
	want := in
	want.MergedAt = in.MergedAt.Truncate(time.Microsecond).UTC()
	want.CheckedAt = in.CheckedAt.UTC()
	got, err := s.Approval(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "cached approval", got, want)

	// Another content of the same file, another path, another branch: not
	// the cached one.
	for _, other := range []ApprovalKey{
		{key.Project, key.Path, key.Branch, strings.Repeat("cd", 32)},
		{key.Project, "queries/ci/other.sql", key.Branch, key.SHA256},
		{key.Project, key.Path, "develop", key.SHA256},
		{"other/project", key.Path, key.Branch, key.SHA256},
	} {
		if _, err := s.Approval(ctx, other); !errors.Is(err, ErrNotFound) {
			t.Errorf("Approval(%+v): %v, want ErrNotFound", other, err)
		}
	}

	// Saving again replaces; no approvers and no merge time read back as
	// nil and zero.
	again := CachedApproval{Key: key, Commit: strings.Repeat("f", 40), MRIID: 13, CheckedAt: want.CheckedAt.Add(time.Hour)}
	if err := s.SaveApproval(ctx, again); err != nil {
		t.Fatal(err)
	}
	if got, err = s.Approval(ctx, key); err != nil {
		t.Fatal(err)
	}
	equal(t, "replaced approval", got, again)

	other := CachedApproval{Key: ApprovalKey{key.Project, "queries/a.sql", "main", strings.Repeat("01", 32)},
		Commit: strings.Repeat("e", 40), MRIID: 2, Approvers: []string{"x"}, CheckedAt: want.CheckedAt}
	if err := s.SaveApproval(ctx, other); err != nil {
		t.Fatal(err)
	}
	list, err := s.Approvals(ctx, key.Project)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "approvals", list, []CachedApproval{other, again})

	bad := []CachedApproval{
		{Key: ApprovalKey{key.Project, key.Path, "main", "not-a-hash"}, Commit: "c", MRIID: 1},
		{Key: key, Commit: "c", MRIID: 0},
		{Key: key, Commit: "c", MRIID: 1, Approvers: []string{"a,b"}},
	}
	for _, b := range bad {
		if err := s.SaveApproval(ctx, b); err == nil {
			t.Errorf("SaveApproval(%+v) succeeded", b)
		}
	}
}
