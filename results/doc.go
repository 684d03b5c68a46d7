// Package results carries query results from the production side to the
// warehouse through object storage, for deployments where production must
// hold no warehouse credentials (results.storage_url).
//
// On the production side, metricgate run writes each result through a
// [Writer], the runner's Writer: instead of loading the rows into a
// warehouse it streams them, as gzip CSV, to
//
//	results/<snapshot date>/<run id>/<source>/<table>/result.csv.gz
//
// (source "_" for a load of no particular source) and then writes
// manifest.json beside it: the table, the load mode, the columns with
// their types, the provenance (snapshot time and date, run id, query
// SHA-256, commit, merge request, source, _loaded_at) and the file's
// SHA-256, size and row count. The manifest is written last and is the
// commit marker, as a dump's is: a directory without one is a result
// being written, failed or killed, and is never loaded. Storage is any
// gocloud.dev/blob URL (file://, s3://, gs://), like dump.storage_url.
//
// On the warehouse side, metricgate load runs a [Loader]: it lists the
// results in storage, reads the warehouse's own ledger of the results it
// holds (warehouse.LedgerTable in the schema metricgate_results, the
// ledger dumps use, one entry per result: its location and its
// manifest's MD5, which the listing gives, so that the results already
// held are known without reading them), and loads every complete
// result the ledger lacks, oldest first, through the same Write a direct
// run uses, replaying the CSV as warehouse.Rows with the manifest's load
// and provenance. So append keeps one slice per snapshot date and source,
// replace swaps atomically, added columns are added and incompatible ones
// refused, exactly as in a direct run; the tables equal those a direct
// run would have made, _loaded_at included (the time the run wrote the
// result; the ledger's loaded_at is when the warehouse loaded it). A new
// or restored warehouse, whose ledger is empty, gets every result in
// storage.
//
// The file is verified while it is read (size, SHA-256, header, row
// count): a missing, truncated or corrupt file fails that result's Write,
// which rolls back, so the table keeps what it had; the error names the
// file. Other results still load. A result already in the ledger is not
// loaded again; one older than a result the ledger holds for the same
// table and source (for append, of the same snapshot date) is not loaded
// over it, and is recorded in the ledger with no table, decided once.
//
// The ledger entry is written after the result's load, in a transaction
// of its own (the warehouse contract records ledger entries with dump
// loads; a result load has none): a crash between the two loads the
// result again next time, which the loads' idempotence makes harmless.
//
// Results are kept in storage: they are small aggregates, and a new
// warehouse loads them all.
package results
