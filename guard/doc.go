// Package guard decides whether a query may leave the source database.
package guard
