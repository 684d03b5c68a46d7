package catalog

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// Limits that no configuration changes.
const (
	// MaxFileSize is the largest query file accepted, in bytes (256 KiB).
	MaxFileSize = 256 << 10
	// MaxDescriptionLength is the longest description accepted, in characters.
	MaxDescriptionLength = 500
	// MaxNameLength is the longest query name or target accepted, in bytes:
	// PostgreSQL's identifier limit, since both become table names.
	MaxNameLength = 63
	// MaxRowsLimit is the largest max_rows a query may declare.
	MaxRowsLimit = 10_000_000
)

// Config sets the defaults and limits that query headers are checked against.
// The zero value means "use the defaults" field by field.
type Config struct {
	// MinGroupSize is both the default and the floor of min_group_size: a
	// query may ask for larger groups, never smaller ones. It is the
	// operator's guard.min_group_size. Default 10.
	MinGroupSize int
	// DefaultTimeout is the timeout of a query without a timeout key.
	// Default 15m, or MaxTimeout when that is less.
	DefaultTimeout time.Duration
	// MaxTimeout is the largest timeout a query may declare: a header
	// asking for more is a problem located at its value. It is the
	// operator's guard.max_timeout. Default 30m.
	MaxTimeout time.Duration
	// DefaultMaxRows is the max_rows of a query without a max_rows key.
	// Default 100000; at most MaxRowsLimit.
	DefaultMaxRows int
	// Sources are the names of the configured source databases (the keys of
	// the operator's sources.<name>); a query's source must be one of them.
	// Default {"main"}.
	Sources []string
	// DefaultSource is the source of a query without a source key; it must
	// be one of Sources. Default "main".
	DefaultSource string
}

// Defaults of Config.
const (
	DefaultMinGroupSize = 10
	DefaultTimeout      = 15 * time.Minute
	DefaultMaxTimeout   = 30 * time.Minute
	DefaultMaxRows      = 100_000
	DefaultSource       = "main"
)

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	c.MinGroupSize = cmp.Or(c.MinGroupSize, DefaultMinGroupSize)
	c.MaxTimeout = cmp.Or(c.MaxTimeout, DefaultMaxTimeout)
	if c.DefaultTimeout == 0 {
		c.DefaultTimeout = DefaultTimeout
		if c.MaxTimeout > 0 {
			c.DefaultTimeout = min(DefaultTimeout, c.MaxTimeout)
		}
	}
	c.DefaultMaxRows = cmp.Or(c.DefaultMaxRows, DefaultMaxRows)
	if len(c.Sources) == 0 {
		c.Sources = []string{DefaultSource}
	}
	c.DefaultSource = cmp.Or(c.DefaultSource, DefaultSource)
	return c
}

// validate reports the first field of c (after defaults) that cannot work.
func (c Config) validate() error {
	switch {
	case c.MinGroupSize < 1:
		return fmt.Errorf("invalid MinGroupSize %d: must be at least 1", c.MinGroupSize)
	case c.DefaultTimeout < 0:
		return fmt.Errorf("invalid DefaultTimeout %s: must be positive", c.DefaultTimeout)
	case c.MaxTimeout < 0:
		return fmt.Errorf("invalid MaxTimeout %s: must be positive", c.MaxTimeout)
	case c.DefaultTimeout > c.MaxTimeout:
		return fmt.Errorf("invalid DefaultTimeout %s: above MaxTimeout %s", c.DefaultTimeout, c.MaxTimeout)
	case c.DefaultMaxRows < 1 || c.DefaultMaxRows > MaxRowsLimit:
		return fmt.Errorf("invalid DefaultMaxRows %d: must be between 1 and %d", c.DefaultMaxRows, MaxRowsLimit)
	}
	for i, s := range c.Sources {
		if !isIdent(s) {
			return fmt.Errorf("invalid Sources[%d] %q: must be a lowercase identifier", i, s)
		}
		if slices.Index(c.Sources, s) != i {
			return fmt.Errorf("invalid Sources[%d] %q: listed twice", i, s)
		}
	}
	if !slices.Contains(c.Sources, c.DefaultSource) {
		return fmt.Errorf("invalid DefaultSource %q: not one of Sources %q", c.DefaultSource, c.Sources)
	}
	return nil
}
