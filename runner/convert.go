package runner

import (
	"fmt"
	"math/big"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"gitlab.com/metricgate/metricgate/warehouse"
)

// A scanner reads one result column: target is what pgx scans into, value
// turns the scanned value into the warehouse's Go type (warehouse.Rows).
type scanner struct {
	target any
	value  func() (any, error)
}

// binaryOIDs are the result types read in binary; every other type is read
// as text, which pgx can hand to a pgtype.Text whatever the type.
var binaryOIDs = map[uint32]bool{
	pgtype.Int2OID: true, pgtype.Int4OID: true, pgtype.Int8OID: true, pgtype.OIDOID: true,
	pgtype.NumericOID: true, pgtype.Float4OID: true, pgtype.Float8OID: true, pgtype.BoolOID: true,
	pgtype.DateOID: true, pgtype.TimestampOID: true, pgtype.TimestamptzOID: true, pgtype.IntervalOID: true,
	pgtype.Int2ArrayOID: true, pgtype.Int4ArrayOID: true, pgtype.Int8ArrayOID: true,
	pgtype.NumericArrayOID: true, pgtype.Float4ArrayOID: true, pgtype.Float8ArrayOID: true,
	pgtype.BoolArrayOID: true, pgtype.DateArrayOID: true, pgtype.TimestampArrayOID: true,
	pgtype.TimestamptzArrayOID: true, pgtype.IntervalArrayOID: true,
}

// resultFormats returns the pgx option that reads the binary types in
// binary and everything else as text.
func resultFormats() pgx.QueryResultFormatsByOID {
	f := pgx.QueryResultFormatsByOID{}
	for oid := range binaryOIDs {
		f[oid] = pgx.BinaryFormatCode
	}
	return f
}

// newScanner returns the scanner of a column of type t.
func newScanner(t warehouse.Type) scanner {
	switch t.Kind {
	case warehouse.KindInt:
		return of(t, func(v pgtype.Int8) (any, bool, error) { return v.Int64, v.Valid, nil })
	case warehouse.KindNumeric:
		return of(t, func(v pgtype.Numeric) (any, bool, error) {
			if !v.Valid {
				return nil, false, nil
			}
			if v.NaN || v.InfinityModifier != pgtype.Finite {
				return nil, true, fmt.Errorf("numeric value %s cannot be loaded", numericSpecial(v))
			}
			d := warehouse.Decimal{Int: v.Int, Scale: -v.Exp}
			if d.Int == nil {
				d.Int = new(big.Int)
			}
			if t.Precision > 0 {
				d = d.Rescale(int32(t.Scale))
			}
			return d, true, nil
		})
	case warehouse.KindFloat:
		return of(t, func(v pgtype.Float8) (any, bool, error) { return v.Float64, v.Valid, nil })
	case warehouse.KindBool:
		return of(t, func(v pgtype.Bool) (any, bool, error) { return v.Bool, v.Valid, nil })
	case warehouse.KindDate:
		return of(t, func(v pgtype.Date) (any, bool, error) {
			if v.Valid && v.InfinityModifier != pgtype.Finite {
				return nil, true, fmt.Errorf("infinite date cannot be loaded")
			}
			return warehouse.Date(v.Time), v.Valid, nil
		})
	case warehouse.KindTimestamp:
		return of(t, func(v pgtype.Timestamp) (any, bool, error) {
			if v.Valid && v.InfinityModifier != pgtype.Finite {
				return nil, true, fmt.Errorf("infinite timestamp cannot be loaded")
			}
			return v.Time.UTC(), v.Valid, nil
		})
	case warehouse.KindTimestampTZ:
		return of(t, func(v pgtype.Timestamptz) (any, bool, error) {
			if v.Valid && v.InfinityModifier != pgtype.Finite {
				return nil, true, fmt.Errorf("infinite timestamp cannot be loaded")
			}
			return v.Time.UTC(), v.Valid, nil
		})
	case warehouse.KindInterval:
		return of(t, func(v pgtype.Interval) (any, bool, error) {
			return warehouse.Interval{Months: v.Months, Days: v.Days, Microseconds: v.Microseconds}, v.Valid, nil
		})
	default: // text, json and every other type, read as text
		return of(t, func(v pgtype.Text) (any, bool, error) { return v.String, v.Valid, nil })
	}
}

// of builds the scanner of a scalar (or, for t.Array, a one-dimensional
// array) column whose pgx type is T; conv returns the value, whether it is
// non-NULL, and an error for a value the warehouse cannot hold.
func of[T any](t warehouse.Type, conv func(T) (any, bool, error)) scanner {
	if !t.Array {
		var v T
		return scanner{target: &v, value: func() (any, error) {
			x, ok, err := conv(v)
			if err != nil || !ok {
				return nil, err
			}
			return x, nil
		}}
	}
	var arr pgtype.FlatArray[T]
	return scanner{target: &arr, value: func() (any, error) {
		if arr == nil {
			return nil, nil
		}
		out := make([]any, len(arr))
		for i, e := range arr {
			x, ok, err := conv(e)
			if err != nil {
				return nil, err
			}
			if ok {
				out[i] = x
			}
		}
		return out, nil
	}}
}

func numericSpecial(v pgtype.Numeric) string {
	switch {
	case v.NaN:
		return "NaN"
	case v.InfinityModifier == pgtype.Infinity:
		return "Infinity"
	}
	return "-Infinity"
}
