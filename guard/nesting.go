package guard

import (
	"strings"
	"unicode/utf8"

	pg "github.com/pganalyze/pg_query_go/v6"
)

// MaxNesting bounds how deeply a query's expressions may nest, as counted
// by nesting: parentheses and brackets, plus the operators chained in one
// list item (1+1+…, x::int::int…, a AND b AND …, SELECT … UNION SELECT …,
// JOIN … JOIN …). A chain of N operators is a parse tree N levels deep;
// AND and OR separate operands like commas: PostgreSQL makes one flat list
// of a chain of them.
//
// PostgreSQL's parser turns a chain of 5,000 or so into a tree too deep
// for pg_query's protobuf encoding, and one of about 22,000 (44 KB of
// "1+1+…") overflows the C stack of the parsing thread and crashes the
// process (found by the hostile corpus: testdata/hostile). Nesting is
// therefore counted on the scanner's tokens, which never recurses, before
// anything is parsed. No analytics query comes near the limit.
const MaxNesting = 4000

// chainTokens are the tokens that build a left-deep (or right-deep) tree
// when repeated at one level. Lists (commas, CASE WHEN branches, IN lists,
// subscripts, AND and OR chains) do not: their elements are siblings.
var chainTokens = map[pg.Token]bool{
	pg.Token_ASCII_37: true, pg.Token_ASCII_42: true, pg.Token_ASCII_43: true, pg.Token_ASCII_45: true,
	pg.Token_ASCII_47: true, pg.Token_ASCII_60: true, pg.Token_ASCII_61: true, pg.Token_ASCII_62: true,
	pg.Token_ASCII_94: true, pg.Token_Op: true, pg.Token_TYPECAST: true, pg.Token_LESS_EQUALS: true,
	pg.Token_GREATER_EQUALS: true, pg.Token_NOT_EQUALS: true, pg.Token_NOT: true, pg.Token_IS: true, pg.Token_ISNULL: true, pg.Token_NOTNULL: true,
	pg.Token_AT: true, pg.Token_COLLATE: true, pg.Token_LIKE: true, pg.Token_ILIKE: true,
	pg.Token_SIMILAR: true, pg.Token_BETWEEN: true, pg.Token_IN_P: true, pg.Token_UNION: true,
	pg.Token_INTERSECT: true, pg.Token_EXCEPT: true, pg.Token_JOIN: true, pg.Token_OVERLAPS: true,
	pg.Token_OPERATOR: true,
}

// nesting returns an upper bound of the parse tree's depth, as the deepest
// point's open parentheses and brackets plus the chain tokens of the list
// item being read at each of them, and the offset of the first token at
// which the bound exceeds limit (or of its deepest token, when it does not).
func nesting(tokens []*pg.ScanToken, limit int) (depth int, at int32) {
	chains := []int{0}       // per open level: chain tokens in its current item
	between := []bool{false} // per open level: a BETWEEN waits for its AND
	sum := 0                 // of chains
	for _, t := range tokens {
		top := len(chains) - 1
		switch {
		case t.Token == pg.Token_ASCII_40 || t.Token == pg.Token_ASCII_91:
			chains, between = append(chains, 0), append(between, false)
		case t.Token == pg.Token_ASCII_41 || t.Token == pg.Token_ASCII_93:
			if top > 0 {
				sum -= chains[top]
				chains, between = chains[:top], between[:top]
			}
		case t.Token == pg.Token_AND && between[top]:
			between[top] = false // x BETWEEN a AND b: not a list
		case t.Token == pg.Token_ASCII_44 || t.Token == pg.Token_ASCII_59 ||
			t.Token == pg.Token_AND || t.Token == pg.Token_OR:
			// Operands of AND and OR bind tighter and are siblings, like
			// list items.
			sum -= chains[top]
			chains[top] = 0
		case chainTokens[t.Token]:
			chains[top]++
			sum++
			if t.Token == pg.Token_BETWEEN {
				between[top] = true
			}
		default:
			continue
		}
		if d := len(chains) - 1 + sum; d > depth {
			depth, at = d, t.Start
			if depth > limit {
				return depth, at
			}
		}
	}
	return depth, at
}

// MaxOperatorRun is the longest run of operator characters a text may have.
// PostgreSQL's scanner matches a run of them (/*/*/*…, +++…) once for every
// token it holds, so the time to scan it grows with the square of its
// length: 40 KB of "/*" took 14 s to scan and another 9 s to parse, and a
// 256 KiB query file would hold the validator or the runner for minutes
// (found by the hostile corpus). An operator is at most 63 characters;
// longer runs are only ever comment art or an attack.
const MaxOperatorRun = 256

// longestOperatorRun returns the byte offset and length of the longest run
// of the characters PostgreSQL's scanner reads as operator characters.
func longestOperatorRun(s string) (at, n int) {
	start := -1
	for i := 0; i <= len(s); i++ {
		if i < len(s) && strings.IndexByte("~!@#^&|`?+-*/%<>=", s[i]) >= 0 {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 && i-start > n {
			at, n = start, i-start
		}
		start = -1
	}
	return at, n
}

// checkIdentifiers rejects names with non-ASCII characters. GitLab's
// tables and columns are ASCII, and output names must be; a look-alike
// letter (Cyrillic е for e, fullwidth ｅ, a combining accent) names another
// object than the one reviewers read, and a fullwidth semicolon (；) is a
// letter of the name before it, not the end of a statement.
func (c *checker) checkIdentifiers() {
	for _, t := range c.scan() {
		if t.Token != pg.Token_IDENT && t.Token != pg.Token_UIDENT {
			continue
		}
		word := c.src[t.Start:t.End]
		i := strings.IndexFunc(word, func(r rune) bool { return r >= utf8.RuneSelf })
		if i < 0 {
			continue
		}
		r, _ := utf8.DecodeRuneInString(word[i:])
		c.add(t.Start, RuleIdentifier,
			"name %s has the non-ASCII character %U %q: GitLab's tables and columns are ASCII, and a look-alike letter names another object than the one reviewers read",
			shorten(word), r, r)
	}
}

// shorten cuts s to 40 characters for a message.
func shorten(s string) string {
	if utf8.RuneCountInString(s) <= 40 {
		return s
	}
	return string([]rune(s)[:40]) + "…"
}
