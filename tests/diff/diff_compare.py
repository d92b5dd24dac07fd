"""Comparison of the two sides of a scenario and the failure report.

Both sides' answers are first normalised (diff_engine.SideRun.view: indexes
relative to the scenario's base, times and IDs as placeholders after
checks, unsorted listings as sets, ttl as Approx within +-1), then compared
step by step with first_difference, which respects JSON field order (Go's
encoder has a fixed order) and reports common fields first (status before
headers before body). The report lists each side's problems (invariant or
expectation violations), the differing steps, and for the first three of
them each side's actual request (with base index and captured values) and
normalised answer.
"""

import json

from diff_norm import _jsonable


def first_difference(a, b, path="$"):
    """None if a and b are equal (dict key order included), else a string
    naming where they differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        ka, kb = list(a), list(b)
        for k in ka:  # common fields first: status before headers before body
            if k in b:
                d = first_difference(a[k], b[k], f"{path}.{k}")
                if d:
                    return d
        if set(ka) != set(kb):
            only_a = [k for k in ka if k not in b]
            only_b = [k for k in kb if k not in a]
            return f"{path}: fields only in reference {only_a}, only in candidate {only_b}"
        if ka != kb:
            return f"{path}: field order {ka} vs {kb}"
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} vs {len(b)} elements"
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_difference(x, y, f"{path}[{i}]")
            if d:
                return d
        return None
    if type(a) is not type(b) or a != b:
        return f"{path}: {_short(a)} vs {_short(b)}"
    return None


def _short(x):
    s = repr(x)
    return s if len(s) < 120 else s[:117] + "..."


def _fmt_view(v):
    return json.dumps(_jsonable(v), indent=2, ensure_ascii=False)


def _fmt_request(run, rec):
    if rec is None:
        return "(step not reached)"
    notes = []
    if run.scn.uses_keys:
        notes.append(f"base {run.base}" if run.base is not None else "base ?")
    for k, v in rec.used.items():
        notes.append(f"{k}={v}" + (f" ({run.rel(v)})" if isinstance(v, int) else ""))
    body = ""
    if rec.body is not None:
        b = rec.body if len(rec.body) <= 200 else rec.body[:200] + b"..."
        body = f" body {b!r}"
    return f"{rec.method} {rec.url}{body}" + (f"  [{'; '.join(notes)}]" if notes else "")


def compare(ref, cand):
    """A readable report of every difference and per-side problem, or None."""
    scn = ref.scn
    lines = []
    diffs = []
    rv = {r.step_no: r for r in ref.recs}
    cv = {r.step_no: r for r in cand.recs}
    for no in sorted(set(rv) | set(cv)):
        a = ref.view(rv[no]) if no in rv else {"error": "step not run"}
        b = cand.view(cv[no]) if no in cv else {"error": "step not run"}
        if any("status" in v and "error" in v for v in (a, b)):
            # The connection was reset after the status line (Go closes a
            # connection whose request body it did not read, and the reset
            # can overtake the body): the body is not known, so only status
            # and headers are compared for this step.
            for v in (a, b):
                for k in ("body", "nl", "raw", "events", "error"):
                    v.pop(k, None)
        d = first_difference(a, b)
        if d:
            diffs.append((no, d, a, b))
    if not diffs and not ref.problems and not cand.problems:
        return None
    lines.append(f"scenario {scn.name!r} (area {scn.area}, prefix /{scn.prefix})"
                 + (f": {scn.doc}" if scn.doc else ""))  # fmt: skip
    ref_label, cand_label = ref.server.label, cand.server.label
    for label, run in ((ref_label + " (reference)", ref), (cand_label, cand)):
        for p in run.problems:
            lines.append(f"  [{label}] {p}")
    if diffs:
        lines.append(f"  {len(diffs)} step(s) differ: " + ", ".join(str(d[0]) for d in diffs))
    for k, (no, d, a, b) in enumerate(diffs):
        step = scn.steps[no - 1] if no >= 1 else None
        lines.append("")
        lines.append(f"  step {no}: {step.template() if step else '?'}"
                     + (f"  -- {step.note}" if step and step.note else ""))  # fmt: skip
        lines.append(f"    differs at {d}")
        if k >= 3:
            continue
        lines.append(f"    {ref_label:8} request: {_fmt_request(ref, rv.get(no))}")
        lines.append(f"    {cand_label:8} request: {_fmt_request(cand, cv.get(no))}")
        lines.append(f"    {ref_label} answer (normalised):")
        lines.extend("      " + ln for ln in _fmt_view(a).splitlines())
        lines.append(f"    {cand_label} answer (normalised):")
        lines.extend("      " + ln for ln in _fmt_view(b).splitlines())
    if len(diffs) > 3:
        lines.append(f"  (full answers shown for the first 3 differing steps only)")
    return "\n".join(lines)
