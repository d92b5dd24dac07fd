"""All scenarios of the differential suite, in run order, with their areas.

The tables live in diff_scen_keys (keys API: set, create, POST, update, CAS,
CAD, delete, get, HEAD, hidden keys, indexes), diff_scen_watch (watches,
history, TTL/expiry, refresh) and diff_scen_http (parameter parsing, HTTP
routing, other endpoints). See diff_engine for the step language and the
normalisation applied before two answers are compared: indexes relative to
each scenario's base X-Etcd-Index, times and IDs as placeholders after
checks, ttl within +-1, unsorted listings as sets.

Scenario names must be unique (they become the key prefix /<slug>), and
every WATCH needs its WAIT; both are checked at import.
"""

import collections

import diff_scen_http
import diff_scen_keys
import diff_scen_watch

ALL = diff_scen_keys.ALL + diff_scen_http.ALL + diff_scen_watch.ALL


def _check():
    names = collections.Counter(s.name for s in ALL)
    dup = [n for n, c in names.items() if c > 1]
    assert not dup, f"duplicate scenario names: {dup}"
    prefixes = collections.Counter(s.prefix for s in ALL)
    dup = [n for n, c in prefixes.items() if c > 1]
    assert not dup, f"scenario names collide as key prefixes: {dup}"
    for s in ALL:
        assert not s.prefix.startswith("_"), f"{s.name}: a hidden prefix would not be listed"
        waits = {st.name for st in s.steps if st.kind == "wait"}
        watches = {st.name for st in s.steps if st.kind == "watch"}
        assert waits == watches, f"{s.name}: each WATCH needs one WAIT ({watches} vs {waits})"


_check()


def by_area():
    return collections.Counter(s.area for s in ALL)
