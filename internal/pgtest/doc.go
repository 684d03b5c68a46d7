// Package pgtest gives tests PostgreSQL databases: a fresh database per
// test in one throwaway cluster per test binary (package pgcluster starts
// it), dropped when the test ends.
//
// A test package shares one cluster per test binary:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		t.Parallel()
//		dsn := pgtest.New(t) // a fresh, empty database, dropped at cleanup
//		...
//	}
//
// The shared cluster starts lazily, on the first call to [New] or
// [SharedCluster]. When the environment variable TEST_DATABASE_URL is set
// (a postgres:// URL or a key=value connection string of a role allowed to
// create databases), no cluster is started: [New] creates and drops its
// databases on that server instead.
package pgtest
