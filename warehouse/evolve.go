package warehouse

import "strings"

// DeleteSQL returns the statement that deletes from table (quoted) the
// rows load replaces, and its bind values: the rows of its _snapshot_date
// (Append) or of every date (Replace); when the load has a source
// (Provenance.Scoped), only those of its _source and of none (NULL: rows
// loaded before there were sources). It is the one statement of that
// rule; each writer renders its placeholders: bind returns the
// placeholder of the n-th bind value (from 1), compared with column c.
// The values are the snapshot date (a time.Time, midnight UTC, as Date
// returns it) and the source (a string).
func DeleteSQL(table string, load Load, bind func(n int, c Column) string) (string, []any) {
	var conds []string
	var args []any
	if load.Mode == Append {
		args = append(args, Date(load.Provenance.SnapshotDate))
		conds = append(conds, `"_snapshot_date" = `+bind(len(args), provenanceColumn("_snapshot_date")))
	}
	if load.Provenance.Scoped() {
		args = append(args, load.Provenance.Source)
		conds = append(conds, `("_source" = `+bind(len(args), provenanceColumn("_source"))+` OR "_source" IS NULL)`)
	}
	if len(conds) == 0 {
		return "DELETE FROM " + table, nil
	}
	return "DELETE FROM " + table + " WHERE " + strings.Join(conds, " AND "), args
}

func provenanceColumn(name string) Column {
	for _, c := range ProvenanceColumns {
		if c.Name == name {
			return c
		}
	}
	panic("warehouse: no provenance column " + name)
}

// CompareColumns compares the columns of a load with those of its table
// (by name; nil when there is no table): missing are the load's columns
// the table lacks, which schema evolution adds; conflicts describe each
// column whose type changed ("name: table has …, result has …"), which
// fail the load with an IncompatibleError. conflict returns "" when the
// table's column have can take the load's column c, else the rest of the
// description ("table has text, result has float").
func CompareColumns[T any](table map[string]T, load []Column, conflict func(have T, c Column) string) (missing []Column, conflicts []string) {
	for _, c := range load {
		have, ok := table[c.Name]
		if !ok {
			missing = append(missing, c)
			continue
		}
		if why := conflict(have, c); why != "" {
			conflicts = append(conflicts, c.Name+": "+why)
		}
	}
	return missing, conflicts
}

// IsIdent reports whether s is a lower-case identifier of at most 63
// bytes starting with a letter (a-z, 0-9 and _ after it): a name every
// warehouse takes as it is, quoted or not.
func IsIdent(s string) bool {
	if s == "" || len(s) > 63 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, r := range s {
		if r != '_' && (r < 'a' || r > 'z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}
