"""Normalisers for the answers that are not keys-API bodies, and the ttl
comparator (see diff_engine for the keys-API normalisation itself).

Other endpoints are compared by shape and field presence only: member IDs
become "<member-1>", "<member-2>"... in order of first appearance within a
scenario (so /v2/members, /v2/members/leader and /v2/stats/self must agree
on who is who), the server's IP in URLs "<ip>", version numbers
"<version>", counters "<int>"/"<number>", times "<time>" once they parse as
RFC 3339, uptimes "<duration>" once they parse as Go durations; a message
that is the Go library's own wording (JSON decoder, URL parser) is compared
as {"message": "<message>"}. Keys and their order are kept. A `ttl` is an
Approx: equal to another ttl within one second.
"""

import json
import re


class Approx:
    """A ttl: equal to another within one second."""

    def __init__(self, v):
        self.v = v

    def __eq__(self, other):
        return isinstance(other, Approx) and abs(self.v - other.v) <= 1

    def __repr__(self):
        return f"~{self.v}"


# ---- normalisers of the other endpoints --------------------------------------

_VERSION = re.compile(r"^\d+\.\d+\.\d+$")
_ANY_RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
_DURATION = re.compile(r"^(\d+h)?(\d+m)?\d+(\.\d+)?(s|ms|µs|us|ns)$")


def _ip(run, x):
    if isinstance(x, str):
        return x.replace(run.server.ip, "<ip>")
    if isinstance(x, list):
        return [_ip(run, e) for e in x]
    if isinstance(x, dict):
        return {k: _ip(run, v) for k, v in x.items()}
    return x


def _doc(run, rec):
    try:
        return json.loads(rec.raw)
    except ValueError:
        return {"<not JSON>": rec.raw.decode("utf-8", "replace")}


def _time(run, rec, s, what):
    if not isinstance(s, str) or not _ANY_RFC3339.match(s):
        run.problems.append(f"step {rec.step_no}: {what} {s!r} is not an RFC 3339 time")
        return s
    return "<time>"


def n_members(run, rec):
    doc = _doc(run, rec)

    def member(m):
        if not isinstance(m, dict):
            return m
        return {k: (run.member(v) if k == "id" else _ip(run, v)) for k, v in m.items()}

    if isinstance(doc, dict) and isinstance(doc.get("members"), list):
        return {**doc, "members": [member(m) for m in doc["members"]]}
    if isinstance(doc, dict) and "id" in doc:
        return member(doc)
    return _ip(run, doc)


def n_version(run, rec):
    doc = _doc(run, rec)
    if isinstance(doc, dict):
        return {
            k: ("<version>" if isinstance(v, str) and _VERSION.match(v) else v)
            for k, v in doc.items()
        }
    return doc


def n_stats_self(run, rec):
    doc = _doc(run, rec)
    if not isinstance(doc, dict):
        return doc
    out = {}
    for k, v in doc.items():
        if k == "id":
            out[k] = run.member(v)
        elif k == "startTime":
            out[k] = _time(run, rec, v, k)
        elif k == "leaderInfo" and isinstance(v, dict):
            li = {}
            for lk, lv in v.items():
                if lk == "leader":
                    li[lk] = run.member(lv)
                elif lk == "startTime":
                    li[lk] = _time(run, rec, lv, "leaderInfo.startTime")
                elif lk == "uptime":
                    if not (isinstance(lv, str) and _DURATION.match(lv)):
                        run.problems.append(
                            f"step {rec.step_no}: uptime {lv!r} is not a Go duration"
                        )
                    li[lk] = "<duration>"
                else:
                    li[lk] = lv
            out[k] = li
        elif isinstance(v, bool) or not isinstance(v, (int, float)):
            out[k] = v
        else:
            out[k] = "<number>"
    return out


def n_counters(run, rec):
    doc = _doc(run, rec)
    if not isinstance(doc, dict):
        return doc
    def counter(v):
        return isinstance(v, int) and not isinstance(v, bool) and v >= 0

    return {k: ("<int>" if counter(v) else v) for k, v in doc.items()}


def n_stats_leader(run, rec):
    doc = _doc(run, rec)
    if isinstance(doc, dict) and "leader" in doc:
        return {**doc, "leader": run.member(doc["leader"])}
    return doc


def n_health(run, rec):
    return _doc(run, rec)


def n_message_shape(run, rec):
    """An error whose text is the Go library's own (JSON decoder, URL
    parser): only the shape {"message": <string>} is compared."""
    doc = _doc(run, rec)
    if isinstance(doc, dict) and isinstance(doc.get("message"), str):
        return {**doc, "message": "<message>"}
    return doc


NORMALISERS = {
    "members": n_members,
    "version": n_version,
    "stats_self": n_stats_self,
    "counters": n_counters,
    "stats_leader": n_stats_leader,
    "health": n_health,
    "message_shape": n_message_shape,
}


def _jsonable(x):
    if isinstance(x, Approx):
        return f"~{x.v}"
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_jsonable(v) for v in x]
    return x
