package catalog

import "strings"

// Suggest returns the candidate that s most likely misspells, or "", for
// "did you mean" messages about other files than query files (dump.yml):
// see suggest.
func Suggest(s string, candidates []string) string { return suggest(s, candidates) }

// suggest returns the candidate that s most likely misspells, or "": the
// closest one within an edit distance of 2 (counting a swap of neighbours
// as one edit, and fewer edits than s has characters), else the only
// candidate that s, at least 3 characters long, is a prefix of. Case and
// "-" versus "_" do not count.
func suggest(s string, candidates []string) string {
	if len(s) > 64 {
		return ""
	}
	norm := []rune(strings.ReplaceAll(strings.ToLower(s), "-", "_"))
	best, bestDist := "", 3
	for _, c := range candidates {
		if d := distance(norm, []rune(c)); d < bestDist && d < len(norm) {
			best, bestDist = c, d
		}
	}
	if best != "" || len(norm) < 3 {
		return best
	}
	for _, c := range candidates {
		if strings.HasPrefix(c, string(norm)) {
			if best != "" {
				return "" // ambiguous
			}
			best = c
		}
	}
	return best
}

// distance is the optimal string alignment distance between a and b: the
// Levenshtein distance with a transposition of adjacent characters counted
// as one edit.
func distance(a, b []rune) int {
	// d[i][j] is the distance between a[:i] and b[:j]; three rows suffice.
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
