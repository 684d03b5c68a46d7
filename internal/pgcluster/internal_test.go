package pgcluster

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindBinDirMissing(t *testing.T) {
	t.Parallel()
	empty := t.TempDir()
	_, err := findBinDir("", empty, filepath.Join(empty, "postgresql", "*", "bin"))
	if err == nil {
		t.Fatal("findBinDir found binaries in an empty PATH and glob")
	}
	if !strings.Contains(err.Error(), "apt-get install -y postgresql") {
		t.Errorf("error %q does not say what to install", err)
	}
}

func TestFindBinDirNewestVersion(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	for _, v := range []string{"9.6", "15", "13"} {
		dir := filepath.Join(root, v, "bin")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, b := range serverBinaries {
			if err := os.WriteFile(filepath.Join(dir, b), []byte("#!/bin/sh\n"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	got, err := findBinDir("", t.TempDir(), filepath.Join(root, "*", "bin"))
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(root, "15", "bin"); got != want {
		t.Errorf("findBinDir = %s, want %s", got, want)
	}
	// PATH wins over the glob.
	got, err = findBinDir("", filepath.Join(root, "9.6", "bin"), filepath.Join(root, "*", "bin"))
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(root, "9.6", "bin"); got != want {
		t.Errorf("findBinDir with PATH = %s, want %s", got, want)
	}
}
