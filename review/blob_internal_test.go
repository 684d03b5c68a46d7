package review

import "testing"

// TestBlobHash pins blobHash to the object IDs git hash-object prints.
func TestBlobHash(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ text, want string }{
		{"", "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"},
		{"hello\n", "ce013625030ba8dba906f756967f9e9ca394464a"},
		{"a\r\nb\r\n", "c30dea8a3641ea99b125d04d599d843712292759"},
	} {
		if got := blobHash(tc.text).String(); got != tc.want {
			t.Errorf("blobHash(%q) = %s, want %s", tc.text, got, tc.want)
		}
	}
}
