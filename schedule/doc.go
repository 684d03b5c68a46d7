// Package schedule is metricgate's one rule for when work is due and
// when its data is fresh, used by metricgate run and serve (which queries
// a run makes), the status API (what is stale) and the soak (what each
// day must load); and the loop that makes the dumps on a period
// ([Periodic]).
//
// # Due
//
// A query is due at a run at time now when it never loaded, or when its
// schedule fires between the start of the run that last loaded it and now
// ([Due]: Next(last) <= now); see catalog.Schedule. A query runs on every
// source of its role, so it "last loaded" when its stalest source did
// ([LastLoaded]): a source that failed keeps the query due until it is
// caught up. The sources that count are those of the query's newest run
// (a source removed from the configuration stops counting).
//
// Work on a period (the dumps, dump.every) is due when it never succeeded
// or its newest success is at least one period old ([EveryDue]).
//
// # Fresh
//
// Freshness is the age of the data: the time since the as-of time of the
// source snapshot the data was read from (sources.NAME.as_of), or, when no
// as-of time was recorded, since the job finished ([DataTime]). A query's
// data is stale when it is older than the longer of its schedule's period
// and the global run's, plus a grace ([MaxAge]); a dump's and a load's
// when older than their objective. The load of a dump holds the dump's
// data, so it is exactly as fresh as that dump.
//
// The two rules agree: a query is due no later than one period after it
// last loaded, so a run that happens on schedule and loads keeps its data
// fresh, given a grace that covers the run's duration and the source's
// lag (how old the backup is when the run reads it).
//
// The package imports only catalog and history, so that runner, api, cli
// and the soak can all use it.
package schedule
