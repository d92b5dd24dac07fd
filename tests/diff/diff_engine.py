"""The differential engine: runs one scenario against both servers (the
reference etcd and the candidate) at the same time, normalises every answer,
and compares the two sides step by step.

A scenario is a list of steps (see the constructors GET/PUT/POST/DELETE/HEAD/
REQ/WATCH/WAIT/UNTIL_GONE/BULK below). Key paths in steps are relative to the
scenario's own prefix `/<scenario-slug>` unless they start with "/" (absolute)
or "{" (a template such as "{k}" naming a captured key). Strings in paths,
URLs, queries and forms are templates: "{p}" is the prefix, "{name}" a value
captured by an earlier step of the same scenario on the same server, and
"{name+1}" / "{name-1}" that value plus or minus an integer. Captures are
how requests carry indexes (prevIndex, waitIndex): every index a request
sends is built from what that very server answered before.

Normalisation (the two servers number things differently):

- Indexes. Before its first step a scenario GETs its own prefix and takes
  the answer's X-Etcd-Index as the side's base B. Every index in a
  keys-API body (`modifiedIndex`, `createdIndex`, the error `index`) and the
  X-Etcd-Index header become "#+k" with k = value - B. A literal 0 (parse
  errors answer with index 0) stays 0. In-order key names
  (`/q/00000000000000000012`) become `/q/<#+k>`, in keys, causes and
  Location headers; the `[oldest/asked]` pair of a 401 cause and the
  `[asked != actual]` index pair of a 101 cause (when the request carried
  that prevIndex) are made relative too.
- Times. Each `expiration` must parse as Go's RFC 3339 UTC with nanoseconds
  (trailing zeros trimmed), lie between the scenario's start and the
  response time plus the largest TTL the scenario uses, and agree with the
  node's `ttl` (= ceil(expiration - now)); it is then replaced by "<time>".
  `ttl` values compare equal within +-1 (a second boundary may fall between
  the two servers' answers).
- IDs and addresses. X-Etcd-Cluster-Id becomes "<cluster-id>" (it must be on
  every keys-API JSON answer and identical across all answers of a server);
  member IDs become "<member-1>", "<member-2>"... in order of appearance
  within the scenario (so cross-endpoint agreement is still checked); the
  server's own IP in URLs becomes "<ip>"; version strings "<version>".
- Listings. Without `sorted=true`, `nodes` arrays are compared as sets
  (sorted by normalised key before comparison); with it, in order.
- Headers compared: status, Content-Type (exact value), Allow, Location,
  presence of X-Raft-Index/X-Raft-Term, the relative X-Etcd-Index, and for
  watches Transfer-Encoding. Checked on each side separately: X-Etcd-Index
  equals node.modifiedIndex for a mutation, is >= every index of a get, and
  equals the body's index on an error; X-Raft-* present on success and
  absent on errors.
- Bodies compare as parsed JSON after normalisation, object keys in order
  (Go emits a fixed field order), plus "ends with a newline". Steps marked
  raw=True also compare the body bytes (after the same index/time
  substitutions), which pins Go's escaping (`\\u0026`, `\\u003c`, `\\ufffd`).
  Non-JSON bodies compare as text.

The normalisers of the other endpoints and the ttl comparator are in
diff_norm; the step-by-step comparison and the failure report (each side's
actual request with its base index and captured values, and its normalised
answer) in diff_compare.
"""

import calendar
import http.client
import json
import math
import re
import threading
import time
import traceback
from urllib.parse import quote, urlencode

from diff_norm import NORMALISERS, Approx, _jsonable

FORM = "application/x-www-form-urlencoded"
HTTP_TIMEOUT = 5.0
WATCH_TIMEOUT = 6.0
MUTATING_ACTIONS = {
    "set", "create", "update", "compareAndSwap", "compareAndDelete", "delete", "expire",
}  # fmt: skip


# ---- scenario model --------------------------------------------------------


class Step:
    def __init__(self, kind, method="GET", path="", url=None, q=None, f=None, body=None,
                 ctype=None, headers=None, cap=None, expect=None, raw=False, cmp_body=True,
                 norm=None, name=None, events=None, timeout=None, n=0, keep=None,
                 note=""):  # fmt: skip
        self.kind = kind  # http | watch | wait | until_gone | bulk
        self.method = method
        self.path = path
        self.url = url
        self.q = q
        self.f = f
        self.body = body
        self.ctype = ctype
        self.headers = headers or {}
        self.cap = cap or {}
        self.expect = expect
        self.raw = raw
        self.cmp_body = cmp_body
        self.norm = norm
        self.name = name
        self.events = events
        self.timeout = timeout
        self.n = n
        self.keep = keep  # root listings: keep only children at/under this template
        self.note = note

    def template(self):
        """The request as written in the scenario table (for reports)."""
        if self.kind == "wait":
            return f"WAIT {self.name}"
        if self.kind == "bulk":
            return f"BULK {self.n} x PUT {self.path}"
        u = self.url if self.url is not None else f"/v2/keys {self.path!r}"
        s = f"{'WATCH ' + self.name + ' ' if self.kind == 'watch' else ''}{self.method} {u}"
        if self.kind == "until_gone":
            s = f"UNTIL_GONE {self.path!r}"
        if self.q is not None:
            s += f" query={self.q!r}"
        if self.f is not None:
            s += f" form={self.f!r}"
        if self.body is not None:
            s += f" body={self.body!r} ({self.ctype})"
        return s


class Scenario:
    def __init__(self, name, area, steps, doc=""):
        self.name = name
        self.area = area
        self.steps = list(steps)
        self.doc = doc
        self.prefix = re.sub(r"[^A-Za-z0-9-]+", "-", name).strip("-")
        # Only scenarios that touch /v2/keys need a base index.
        self.uses_keys = any(st.kind != "wait" and (st.url is None or st.url.startswith("/v2/keys"))
                             for st in self.steps)  # fmt: skip
        self.max_ttl = 0
        for st in self.steps:
            for src in (st.q, st.f):
                for k, v in _pairs_or_empty(src):
                    if k == "ttl":
                        try:
                            self.max_ttl = max(self.max_ttl, int(v))
                        except ValueError:
                            pass

    def __repr__(self):
        return self.name


def _pairs_or_empty(x):
    if x is None or isinstance(x, (str, bytes)):
        return []
    return list(x.items()) if isinstance(x, dict) else list(x)


def REQ(method, path="", q=None, f=None, **kw):
    return Step("http", method, path, q=q, f=f, **kw)


def GET(path="", q=None, **kw):
    return Step("http", "GET", path, q=q, **kw)


def HEAD(path="", q=None, **kw):
    return Step("http", "HEAD", path, q=q, **kw)


def PUT(path="", q=None, f=None, **kw):
    return Step("http", "PUT", path, q=q, f=f, **kw)


def POST(path="", q=None, f=None, **kw):
    return Step("http", "POST", path, q=q, f=f, **kw)


def DELETE(path="", q=None, f=None, **kw):
    return Step("http", "DELETE", path, q=q, f=f, **kw)


def URL(url, method="GET", **kw):
    """A request to a literal URL (template), e.g. '/v2/keys{p}//x' or '/version'."""
    return Step("http", method, url=url, **kw)


def WATCH(name, path="", q=None, events=None, **kw):
    """Starts GET ?wait=true (added to q) in a thread and waits until its
    headers arrived (the server has registered the watch). events=N reads N
    stream lines instead of one whole body (use with stream=true)."""
    q = dict(q or {})
    q.setdefault("wait", "true")
    return Step("watch", "GET", path, q=q, name=name, events=events, **kw)


def WAIT(name, expect=None, timeout=WATCH_TIMEOUT, **kw):
    """Collects the answer of watch `name` (deadline `timeout`) as this step's response."""
    return Step("wait", name=name, expect=expect, timeout=timeout, **kw)


def UNTIL_GONE(path="", timeout=8.0, **kw):
    """Polls GET path until it answers 404 (deadline); the last answer is recorded."""
    return Step("until_gone", "GET", path, timeout=timeout, **kw)


def BULK(path, n, **kw):
    """n PUTs of path on one connection; records only how many succeeded."""
    return Step("bulk", "PUT", path, n=n, **kw)


# ---- templating ------------------------------------------------------------

_TPL = re.compile(r"\{(\w+)(?:([+-])(\d+))?\}")


class MissingCapture(Exception):
    pass


def render(s, env):
    def repl(m):
        name, sign, num = m.group(1), m.group(2), m.group(3)
        if name not in env:
            raise MissingCapture(f"no captured value {name!r} (an earlier step did not answer it)")
        v = env[name]
        if sign:
            v = int(v) + (int(num) if sign == "+" else -int(num))
        return str(v)

    return _TPL.sub(repl, s)


def _encode_params(x, env):
    if x is None:
        return None
    if isinstance(x, bytes):
        return x
    if isinstance(x, str):
        return render(x, env)
    return urlencode([(k, render(str(v), env)) for k, v in _pairs_or_empty(x)])


# ---- one request's record --------------------------------------------------


class Rec:
    def __init__(self, step_no, step):
        self.step_no = step_no
        self.step = step
        self.method = step.method
        self.url = None
        self.body = None
        self.status = None
        self.headers = []
        self.raw = b""
        self.lines = None  # stream watch: one bytes object per event
        self.error = None
        self.t0 = self.t1 = None
        self.used = {}  # captured values this request used

    def hdr(self, name):
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def json(self):
        try:
            return json.loads(self.raw)
        except ValueError:
            return None


# ---- watches ---------------------------------------------------------------


class Watch(threading.Thread):
    def __init__(self, server, url, events, timeout):
        super().__init__(daemon=True)
        self.server, self.url, self.events, self.timeout = server, url, events, timeout
        self.headers_ev = threading.Event()
        self.status = None
        self.headers = []
        self.raw = b""
        self.lines = None
        self.error = None
        self.conn = None
        self.t0 = self.t1 = None

    def run(self):
        self.conn = http.client.HTTPConnection(
            self.server.ip, self.server.port, timeout=self.timeout
        )
        try:
            self.t0 = time.time()
            self.conn.request("GET", self.url)
            r = self.conn.getresponse()
            self.status, self.headers = r.status, r.getheaders()
            self.headers_ev.set()
            if self.events is None:
                self.raw = r.read()
            else:
                self.lines = []
                for _ in range(self.events):
                    ln = r.readline()
                    if not ln:
                        break
                    self.lines.append(ln)
                self.raw = b"".join(self.lines)
        except Exception as e:  # noqa: BLE001 - becomes the step's answer
            self.error = f"{type(e).__name__}: {e}"
        finally:
            self.t1 = time.time()
            self.headers_ev.set()
            try:
                self.conn.close()
            except Exception:  # noqa: BLE001
                pass

    def abort(self):
        try:
            if self.conn is not None and self.conn.sock is not None:
                self.conn.sock.shutdown(2)
        except OSError:
            pass


# ---- running one side ------------------------------------------------------


class SideRun:
    """One scenario executed against one server."""

    def __init__(self, server, scn):
        self.server = server
        self.scn = scn
        self.env = {"p": "/" + scn.prefix}
        self.base = None
        self.recs = []
        self.problems = []
        self.watches = {}
        self.t_start = None
        self.member_ids = {}

    # -- request building --

    def key_path(self, path):
        if path.startswith("/") or path.startswith("{"):
            return render(path, self.env)
        return render("{p}" + ("/" + path if path else ""), self.env)

    def build(self, step, rec):
        if step.url is not None:
            url = render(step.url, self.env)
        else:
            url = "/v2/keys" + quote(self.key_path(step.path), safe="/")
        q = _encode_params(step.q, self.env)
        if q:
            url += "?" + q
        body = None
        headers = dict(step.headers)
        if step.f is not None:
            body = _encode_params(step.f, self.env)
            headers.setdefault("Content-Type", FORM)
        elif step.body is not None:
            body = step.body if isinstance(step.body, bytes) else render(step.body, self.env)
            if step.ctype:
                headers["Content-Type"] = step.ctype
        if isinstance(body, str):
            body = body.encode()
        for m in _TPL.finditer(step.template()):
            if m.group(1) in self.env and m.group(1) != "p":
                rec.used[m.group(1)] = self.env[m.group(1)]
        rec.url, rec.body = url, body
        return url, body, headers

    def send(self, rec, method, url, body, headers):
        rec.t0 = time.time()
        try:
            conn = http.client.HTTPConnection(
                self.server.ip, self.server.port, timeout=HTTP_TIMEOUT
            )
            try:
                conn.request(method, url, body=body, headers=headers)
                r = conn.getresponse()
                rec.status, rec.headers = r.status, r.getheaders()
                rec.raw = r.read()
            finally:
                conn.close()
        except Exception as e:  # noqa: BLE001 - becomes the step's answer
            rec.error = f"{type(e).__name__}: {e}"
        rec.t1 = time.time()

    # -- the run --

    def run(self):
        self.t_start = time.time()
        try:
            if self.scn.uses_keys:
                self._take_base()
            for i, step in enumerate(self.scn.steps, 1):
                self._run_step(i, step)
        except Exception:  # noqa: BLE001 - a harness bug: report it, don't hide it
            self.problems.append("harness error:\n" + traceback.format_exc())
        finally:
            for w in self.watches.values():
                w.abort()

    def _take_base(self):
        rec = Rec(0, GET(""))
        url = "/v2/keys" + quote(self.env["p"], safe="/")
        rec.url = url
        self.send(rec, "GET", url, None, {})
        v = rec.hdr("x-etcd-index")
        if rec.error or v is None or not v.isdigit():
            self.problems.append(
                f"base: GET {url} gave no X-Etcd-Index (status {rec.status}, error {rec.error}, "
                f"body {rec.raw[:120]!r}); indexes are shown absolute as ?N"
            )
            return
        self.base = int(v)

    def _run_step(self, i, step):
        rec = Rec(i, step)
        try:
            if step.kind == "http":
                url, body, headers = self.build(step, rec)
                self.send(rec, step.method, url, body, headers)
            elif step.kind == "watch":
                url, _, _ = self.build(step, rec)
                w = Watch(self.server, url, step.events, step.timeout or WATCH_TIMEOUT)
                self.watches[step.name] = w
                w.start()
                if not w.headers_ev.wait(step.timeout or WATCH_TIMEOUT):
                    self.problems.append(f"step {i}: watch {step.name} got no headers in time")
                return  # the answer is recorded by WAIT
            elif step.kind == "wait":
                w = self.watches.get(step.name)
                if w is None:
                    rec.error = f"watch {step.name} was never started (its WATCH step failed)"
                    self.recs.append(rec)
                    return
                w.join(step.timeout)
                if w.is_alive():
                    w.abort()
                    w.join(2)
                    rec.error = f"watch {step.name} did not answer within {step.timeout}s"
                rec.method, rec.url = "GET", w.url
                rec.status, rec.headers, rec.raw, rec.lines = w.status, w.headers, w.raw, w.lines
                rec.t0, rec.t1 = w.t0, w.t1
                if w.error and not rec.error:
                    rec.error = w.error
                    if w.lines:  # stream cut short: keep what arrived
                        rec.error = f"{w.error} after {len(w.lines)} event(s)"
            elif step.kind == "until_gone":
                url, _, _ = self.build(step, rec)
                deadline = time.monotonic() + step.timeout
                while True:
                    self.send(rec, "GET", url, None, {})
                    if rec.error or rec.status == 404 or time.monotonic() >= deadline:
                        break
                    time.sleep(0.05)
                if rec.status != 404 and not rec.error:
                    rec.error = f"{url} still there after {step.timeout}s (status {rec.status})"
            elif step.kind == "bulk":
                self._bulk(step, rec)
        except MissingCapture as e:
            if step.kind == "watch":
                self.problems.append(f"step {i}: watch {step.name} not started: {e}")
                return
            rec.error = str(e)
        self.recs.append(rec)
        self._capture(step, rec)
        self._check_expect(step, rec)

    def _bulk(self, step, rec):
        url = "/v2/keys" + quote(self.key_path(step.path), safe="/")
        rec.url = url
        ok = 0
        rec.t0 = time.time()
        conn = http.client.HTTPConnection(self.server.ip, self.server.port, timeout=HTTP_TIMEOUT)
        try:
            for j in range(step.n):
                conn.request("PUT", url, body=f"value={j}", headers={"Content-Type": FORM})
                r = conn.getresponse()
                r.read()
                if r.status in (200, 201):
                    ok += 1
        except Exception as e:  # noqa: BLE001
            rec.error = f"{type(e).__name__} after {ok} writes: {e}"
        finally:
            conn.close()
        rec.t1 = time.time()
        rec.status = 200 if ok == step.n else 500
        rec.raw = json.dumps({"bulk": step.n, "ok": ok}).encode()
        rec.headers = [("Content-Type", "application/json")]

    def _capture(self, step, rec):
        if not step.cap:
            return
        doc = rec.json()
        for name, path in step.cap.items():
            v = None
            if path.startswith("@"):
                h = rec.hdr(path[1:].lower())
                v = int(h) if h is not None and h.isdigit() else None
            elif doc is not None:
                v = doc
                for part in path.split("."):
                    if isinstance(v, list) and part.isdigit() and int(part) < len(v):
                        v = v[int(part)]
                    elif isinstance(v, dict) and part in v:
                        v = v[part]
                    else:
                        v = None
                        break
            if v is None:
                self.env.pop(name, None)
                self.problems.append(f"step {rec.step_no}: could not capture {name} = {path}")
            else:
                self.env[name] = v

    def _check_expect(self, step, rec):
        exp = step.expect
        if exp is None or rec.error:
            return
        if isinstance(exp, int):
            exp = (exp,)
        status, extra = exp[0], exp[1:] if len(exp) > 1 else ()
        got = rec.status
        doc = rec.json() if rec.raw else None
        lines = rec.lines
        msg = None
        if got != status:
            msg = f"status {got}, scenario expects {status}"
        for e in extra:
            if isinstance(e, int):
                code = doc.get("errorCode") if isinstance(doc, dict) else None
                if code != e:
                    msg = f"errorCode {code}, scenario expects {e}"
            elif isinstance(e, str):
                if lines:
                    docs = [self._loads(x) for x in lines if x.strip()]
                    acts = [d.get("action") for d in docs if isinstance(d, dict)]
                    if e not in acts:
                        msg = f"actions {acts}, scenario expects {e}"
                else:
                    act = doc.get("action") if isinstance(doc, dict) else None
                    if act != e:
                        msg = f"action {act}, scenario expects {e}"
        if msg:
            self.problems.append(f"step {rec.step_no} ({step.template()}): {msg}")

    # -- normalisation --

    def rel(self, v):
        if not isinstance(v, int) or isinstance(v, bool):
            return v
        if self.base is None:
            return f"?{v}"
        return f"#{v - self.base:+d}"

    def rel_hdr(self, v):
        if v is None or not v.isdigit():
            return v
        return 0 if int(v) == 0 else self.rel(int(v))

    def rel_key(self, s):
        def repl(m):
            return f"/<{self.rel(int(m.group(1)))}>"

        return re.sub(r"/(\d{20})(?=/|$|\])", repl, s)

    def member(self, mid):
        if mid not in self.member_ids:
            self.member_ids[mid] = f"<member-{len(self.member_ids) + 1}>"
        return self.member_ids[mid]

    def view(self, rec):
        """The normalised answer of one step (what is compared)."""
        if rec.error and rec.status is None:
            return {"error": rec.error}
        step = rec.step
        v = {"status": rec.status}
        if rec.error:
            v["error"] = rec.error
        keys_api = (rec.url or "").startswith("/v2/keys")
        hv = {}
        for name in ("content-type", "allow", "location"):
            h = rec.hdr(name)
            if h is not None:
                hv[name] = self.rel_key(h) if name == "location" else h
        for name in ("x-raft-index", "x-raft-term"):
            if rec.hdr(name) is not None:
                hv[name] = "<present>"
        if rec.hdr("x-etcd-index") is not None:
            hv["x-etcd-index"] = self.rel_hdr(rec.hdr("x-etcd-index"))
        if rec.hdr("x-etcd-cluster-id") is not None:
            hv["x-etcd-cluster-id"] = "<cluster-id>"
        if step.kind in ("watch", "wait") and rec.hdr("transfer-encoding") is not None:
            hv["transfer-encoding"] = rec.hdr("transfer-encoding")
        v["headers"] = hv
        if rec.method == "HEAD":
            v["body_len"] = len(rec.raw)
            return v
        if not step.cmp_body:
            return v
        ct = rec.hdr("content-type") or ""
        if rec.lines is not None:
            v["events"] = [self.norm_keys(self._loads(ln), rec) for ln in rec.lines]
            v["nl"] = [ln.endswith(b"\n") for ln in rec.lines]
        elif step.norm is not None:
            v["body"] = NORMALISERS[step.norm](self, rec)
            v["nl"] = rec.raw.endswith(b"\n")
        elif "json" in ct and rec.raw.strip():
            doc = self._loads(rec.raw)
            if step.keep is not None:
                doc = self.keep_only(doc, render(step.keep, self.env))
            v["body"] = self.norm_keys(doc, rec) if keys_api else doc
            v["nl"] = rec.raw.endswith(b"\n")
        else:
            v["body"] = rec.raw.decode("utf-8", "replace").replace(self.server.ip, "<ip>")
        if step.raw:
            v["raw"] = self.norm_raw(rec.raw)
        return v

    @staticmethod
    def _loads(b):
        try:
            return json.loads(b)
        except ValueError:
            return {"<unparsable JSON>": b.decode("utf-8", "replace")}

    def norm_keys(self, doc, rec):
        """Keys-API body: indexes relative, times checked, listings as sets."""
        sorted_req = "sorted=true" in (rec.url or "")
        query = (rec.url or "").split("?", 1)[1] if "?" in (rec.url or "") else ""
        form = (rec.body or b"").decode("latin-1")
        prev_index = re.search(r"(?:^|&)prevIndex=(\d+)", query + "&" + form)
        prev_index = prev_index.group(1) if prev_index else None

        def walk(x, field=None):
            if isinstance(x, dict):
                out = {}
                for k, val in x.items():
                    if k in ("modifiedIndex", "createdIndex") and isinstance(val, int):
                        out[k] = self.rel(val)
                    elif k == "index" and isinstance(val, int):
                        out[k] = 0 if val == 0 else self.rel(val)
                    elif k == "key" and isinstance(val, str):
                        out[k] = self.rel_key(val)
                    elif k == "cause" and isinstance(val, str):
                        out[k] = self.norm_cause(val, x.get("errorCode"), prev_index)
                    elif k == "expiration" and isinstance(val, str):
                        self.check_expiration(val, x.get("ttl"), rec)
                        out[k] = "<time>"
                    elif k == "ttl" and isinstance(val, int):
                        out[k] = Approx(val)
                    elif k == "nodes" and isinstance(val, list):
                        nodes = [walk(n) for n in val]
                        if not sorted_req:
                            nodes.sort(key=_node_key)
                        out[k] = nodes
                    else:
                        out[k] = walk(val, k)
                return out
            if isinstance(x, list):
                return [walk(e) for e in x]
            return x

        return walk(doc)

    @staticmethod
    def keep_only(doc, keep):
        node = doc.get("node") if isinstance(doc, dict) else None
        if isinstance(node, dict) and isinstance(node.get("nodes"), list):
            node["nodes"] = [
                n for n in node["nodes"]
                if isinstance(n, dict)
                and (n.get("key") == keep or str(n.get("key")).startswith(keep + "/"))
            ]  # fmt: skip
        return doc

    def norm_cause(self, cause, code, prev_index):
        cause = self.rel_key(cause)
        if code == 401:
            cause = re.sub(
                r"\[(\d+)/(\d+)\]",
                lambda m: f"[{self.rel(int(m.group(1)))}/{self.rel(int(m.group(2)))}]",
                cause,
            )
        if code == 101 and prev_index is not None:
            cause = re.sub(
                r"\[(\d+) != (\d+)\]",
                lambda m: (
                    f"[{self.rel(int(m.group(1)))} != {self.rel(int(m.group(2)))}]"
                    if m.group(1) == prev_index
                    else m.group(0)
                ),
                cause,
            )
        return cause

    _RFC3339 = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?Z$")

    def check_expiration(self, s, ttl, rec):
        where = f"step {rec.step_no}: expiration {s!r}"
        m = self._RFC3339.match(s)
        if not m:
            self.problems.append(f"{where} is not RFC 3339 UTC (Go time.Time JSON)")
            return
        frac = m.group(7) or ""
        if frac.endswith("0"):
            self.problems.append(f"{where}: Go trims trailing zeros of the fraction")
        secs = calendar.timegm(tuple(int(m.group(i)) for i in range(1, 7)) + (0, 0, 0))
        exp = secs + (int(frac) / 10 ** len(frac) if frac else 0.0)
        lo = self.t_start - 2.0
        hi = (rec.t1 or time.time()) + self.scn.max_ttl + 2.0
        if not lo <= exp <= hi:
            self.problems.append(
                f"{where} is outside the scenario's TTL window "
                f"[{lo:.3f}, {hi:.3f}] (max ttl {self.scn.max_ttl})"
            )
        if isinstance(ttl, int) and rec.t0 is not None:
            rem_hi = exp - rec.t0 + 1.0
            rem_lo = exp - rec.t1 - 1.0
            if not (math.floor(rem_lo) - 1 <= ttl <= math.ceil(rem_hi) + 1):
                self.problems.append(
                    f"{where} and ttl {ttl} disagree (remaining {rem_lo:.2f}..{rem_hi:.2f}s)"
                )

    def norm_raw(self, raw):
        def idx(m):
            n = int(m.group(2))
            r = "0" if (m.group(1) == b"index" and n == 0) else str(self.rel(n))
            return b'"' + m.group(1) + b'":' + r.encode()

        raw = re.sub(rb'"(modifiedIndex|createdIndex|index)":(\d+)', idx, raw)
        raw = re.sub(
            rb"/(\d{20})", lambda m: b"/<" + str(self.rel(int(m.group(1)))).encode() + b">", raw
        )
        raw = re.sub(rb'"expiration":"[^"]*"', b'"expiration":"<time>"', raw)
        raw = re.sub(rb'"ttl":\d+', b'"ttl":<ttl>', raw)
        return raw.decode("utf-8", "backslashreplace")

    # -- per-side invariants (checked on both servers) --

    def check_invariants(self):
        for rec in self.recs:
            if rec.error or rec.status is None or rec.step.kind == "bulk":
                continue
            where = f"step {rec.step_no} ({rec.method} {rec.url})"
            cid = rec.hdr("x-etcd-cluster-id")
            keys_json = (rec.url or "").startswith("/v2/keys") and "application/json" in (
                rec.hdr("content-type") or ""
            )  # not the HTTP layer's own answers (301, 405, bad escape)
            if cid is None:
                if keys_json:
                    self.problems.append(f"{where}: no X-Etcd-Cluster-Id")
            else:
                if not re.fullmatch(r"[1-9a-f][0-9a-f]*", cid):
                    self.problems.append(
                        f"{where}: X-Etcd-Cluster-Id {cid!r} is not lower-case hex "
                        "without leading zeros"
                    )
                with self.server.lock:
                    if self.server.cluster_id is None:
                        self.server.cluster_id = cid
                    elif self.server.cluster_id != cid:
                        self.problems.append(
                            f"{where}: X-Etcd-Cluster-Id {cid} differs from "
                            f"{self.server.cluster_id} seen before"
                        )
            if not keys_json:
                continue
            xi = rec.hdr("x-etcd-index")
            if xi is None or not xi.isdigit():
                self.problems.append(f"{where}: X-Etcd-Index missing or not a number ({xi!r})")
                continue
            xi = int(xi)
            raft = rec.hdr("x-raft-index") is not None and rec.hdr("x-raft-term") is not None
            if rec.method == "HEAD":
                continue
            if rec.lines is not None:
                if not raft:
                    self.problems.append(f"{where}: watch answer without X-Raft-Index/X-Raft-Term")
                continue
            doc = rec.json()
            if not isinstance(doc, dict):
                if rec.step.kind == "wait" and rec.status == 200 and not rec.raw:
                    continue  # a watch closed with an empty body: legal
                self.problems.append(f"{where}: JSON content type but body {rec.raw[:100]!r}")
                continue
            if not rec.raw.endswith(b"\n"):
                self.problems.append(f"{where}: keys-API body does not end with a newline")
            if "errorCode" in doc:
                if doc.get("index") != xi:
                    self.problems.append(
                        f"{where}: X-Etcd-Index {xi} != error index {doc.get('index')}"
                    )
                if rec.hdr("x-raft-index") is not None or rec.hdr("x-raft-term") is not None:
                    self.problems.append(f"{where}: X-Raft-* headers on an error")
                continue
            if not raft:
                self.problems.append(f"{where}: success without X-Raft-Index/X-Raft-Term")
            node = doc.get("node") or {}
            mi = node.get("modifiedIndex")
            if rec.step.kind == "wait" or self._is_watch(rec):
                continue  # index at registration: compared across sides only
            if doc.get("action") == "get":
                for n in _all_indexes(node):
                    if n > xi:
                        self.problems.append(
                            f"{where}: get body holds index {n} > X-Etcd-Index {xi}"
                        )
                        break
            elif doc.get("action") in MUTATING_ACTIONS and mi is not None and mi != xi:
                self.problems.append(f"{where}: X-Etcd-Index {xi} != node.modifiedIndex {mi}")


    @staticmethod
    def _is_watch(rec):
        q = (rec.url or "").split("?", 1)[1] if "?" in (rec.url or "") else ""
        params = q.split("&")
        return rec.method == "GET" and "wait=true" in params and "quorum=true" not in params

    def dump(self):
        """The normalised answers, for DIFF_DUMP."""
        return {"scenario": self.scn.name, "server": self.server.label, "base": self.base,
                "steps": [_jsonable(self.view(r)) for r in self.recs]}  # fmt: skip


def _node_key(n):
    return str(n.get("key")) if isinstance(n, dict) else ""


def _all_indexes(node):
    if not isinstance(node, dict):
        return
    for k in ("modifiedIndex", "createdIndex"):
        if isinstance(node.get(k), int):
            yield node[k]
    for c in node.get("nodes") or []:
        yield from _all_indexes(c)


# ---- both sides at once ----------------------------------------------------


def run_side(server, scn):
    r = SideRun(server, scn)
    r.run()
    r.check_invariants()
    return r


def run_scenario(ref_server, cand_server, scn, deadline=120.0):
    """Runs scn on both servers at once; returns (ref_run, cand_run)."""
    out = {}

    def go(key, srv):
        out[key] = run_side(srv, scn)

    threads = [threading.Thread(target=go, args=(k, s), daemon=True)
               for k, s in (("ref", ref_server), ("cand", cand_server))]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join(deadline)
    for k, s in (("ref", ref_server), ("cand", cand_server)):
        if k not in out:
            r = SideRun(s, scn)
            r.problems.append(f"the scenario did not finish within {deadline}s")
            out[k] = r
    return out["ref"], out["cand"]
