"""Process and polling helpers shared by every Python suite (integration,
differential): polling with a deadline instead of sleeping, /proc lookups
that count a zombie as gone, and a free-port check for choosing loopback
addresses."""

import os
import socket
import time


class WaitTimeout(AssertionError):
    pass


def wait_for(cond, timeout, what, interval=0.01):
    """Polls cond() until it returns something truthy, and returns that.

    Raises WaitTimeout naming `what` (and the last exception cond raised, if
    any) once `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            v = cond()
            if v:
                return v
            last_exc = None
        except Exception as e:  # noqa: BLE001 - reported below
            last_exc = e
        if time.monotonic() >= deadline:
            msg = f"timed out after {timeout:.1f}s waiting for {what}"
            if last_exc is not None:
                msg += f" (last error: {last_exc!r})"
            raise WaitTimeout(msg)
        time.sleep(interval)


# ---- processes -------------------------------------------------------------


def proc_stat(pid):
    """(state, ppid) from /proc/PID/stat, or None when there is no such process."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    rest = data[data.rindex(")") + 2 :].split()
    return rest[0], int(rest[1])


def _task_states(pid):
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except (FileNotFoundError, ProcessLookupError, NotADirectoryError):
        return []
    states = []
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                data = f.read()
        except (FileNotFoundError, ProcessLookupError):
            continue
        states.append(data[data.rindex(")") + 2 :].split()[0])
    return states


def pid_alive(pid):
    """A zombie (or a dead task) counts as gone, but only once every thread
    is: a killed process's leader shows as a zombie while its other threads
    (nanomsg's, Berkeley DB's checkpoint thread) are still exiting, and its
    descriptors (a listening port) stay open until the last one has."""
    st = proc_stat(pid)
    if st is None:
        return False
    if st[0] not in ("Z", "X"):
        return True
    return any(s not in ("Z", "X") for s in _task_states(pid))


def proc_cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            raw = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return [a.decode(errors="replace") for a in raw.split(b"\0")[:-1]]


def all_pids():
    for e in os.listdir("/proc"):
        if e.isdigit():
            yield int(e)


def pids_matching(pred):
    out = []
    for pid in all_pids():
        if pid == os.getpid():
            continue
        try:
            if pred(pid):
                out.append(pid)
        except Exception:  # noqa: BLE001 - the process went away meanwhile
            pass
    return out


def children_of(ppid):
    return pids_matching(lambda p: (proc_stat(p) or ("", -1))[1] == ppid and pid_alive(p))


def pids_mentioning(text):
    """Live processes whose command line contains text (a test's own directory
    or address: nobody else's process has it)."""

    def pred(p):
        cl = proc_cmdline(p)
        return cl is not None and pid_alive(p) and any(text in a for a in cl)

    return pids_matching(pred)


# ---- addresses -------------------------------------------------------------


def port_free(ip, port):
    """True if nothing listens on (or holds) ip:port."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((ip, port))
        return True
    except OSError:
        return False
    finally:
        s.close()
