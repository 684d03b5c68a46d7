// Package migrations holds the goose SQL migrations of the history database,
// embedded in the binary.
//
// The files are named NNNNN_description.sql with goose's "-- +goose Up" and
// "-- +goose Down" sections; each runs in a transaction. They are applied by
// history.Store.Migrate through a goose Provider under goose's PostgreSQL
// advisory session lock, so replicas that start at the same time are safe.
// The same files are sqlc's schema (history/sqlc.yaml): after adding one,
// run `make generate`.
//
// A migration that has been released is never edited; changes go into a new
// file with the next number.
package migrations

import "embed"

// FS holds the migration files, for goose.NewProvider.
//
//go:embed *.sql
var FS embed.FS
