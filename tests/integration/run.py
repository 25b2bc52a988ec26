#!/usr/bin/env python3
"""Runs every tests/integration/test_*.py, several tests at a time.

    run.py [-j N] [--dir DIR] [SUBSTRING...]

Arguments select tests whose id (module.Class.test) contains any of the
substrings; --dir DIR (or INTEGRATION_DIR) runs the test_*.py of another
directory (test_runner.py checks this runner that way).  Tests run in N
worker processes (default: INTEGRATION_JOBS, or 3 x the CPU count, at
most 8); each test gets a fresh worker-side unittest
run of its own, so its class fixtures, fake backend, bots, ports and temp
directories are its own.  The tests mostly wait on intervals and timeouts,
so running several at once cuts the wall time without loading the CPU.

A test class that holds something machine-wide (a network namespace with
fixed routes, ...) names it in `exclusive = "name"`: no two tests with the
same name run at once.  `exclusive = "*"` runs a test with nothing else
beside it.

Prints one line per finished test (result, seconds, id), the whole output
of each failing test (its traceback and everything it and its bots wrote
to stdout/stderr) at the end, the slowest tests, and closes with
'integration: N passed, N failed, N skipped'.  Exits non-zero on any
failure or when nothing ran.  A test running longer than
INTEGRATION_TEST_TIMEOUT seconds (default 900) is killed with its worker
and counts as failed.  Durations go to $BUILD_DIR/integration-times.json
and order the next run longest first."""

import io
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

BUILD = os.environ.get("BUILD_DIR", os.path.join(ROOT, "build"))
TIMES = os.path.join(BUILD, "integration-times.json")
TIMEOUT = float(os.environ.get("INTEGRATION_TEST_TIMEOUT", "900"))


def flatten(s):
    for t in s:
        if isinstance(t, unittest.TestSuite):
            yield from flatten(t)
        else:
            yield t


def discover():
    """The test_*.py tests of INTEGRATION_DIR (default: this directory)."""
    where = os.path.abspath(os.environ.get("INTEGRATION_DIR", HERE))
    if where not in sys.path:
        sys.path.insert(0, where)
    loader = unittest.TestLoader()
    return list(flatten(loader.discover(where, pattern="test_*.py",
                                        top_level_dir=where)))


# --- worker: runs the test ids it reads on stdin, one at a time -------------

class _Result(unittest.TextTestResult):
    """Collects one test's outcome; class-fixture errors count too."""

    def __init__(self, stream):
        super().__init__(stream, descriptions=False, verbosity=0)
        self.status = None

    def _mark(self, status):
        # The worst outcome wins: an error in tearDown after a failure or a
        # fixture error after a pass still fails the test.
        order = ["ok", "skip", "xfail", "FAIL"]
        if self.status is None or order.index(status) > order.index(self.status):
            self.status = status

    def addSuccess(self, test):
        super().addSuccess(test)
        self._mark("ok")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._mark("FAIL")

    def addError(self, test, err):
        super().addError(test, err)
        self._mark("FAIL")

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._mark("skip")

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._mark("xfail")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._mark("FAIL")

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._mark("FAIL")


def run_one(test_id, by_id, log_path):
    """Runs one test with fds 1 and 2 going to log_path (which the parent
    reads if the worker dies or is killed); returns the record."""
    log = open(log_path, "w+b")
    saved = (os.dup(1), os.dup(2))
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    report = unittest.runner._WritelnDecorator(io.StringIO())
    t0 = time.monotonic()
    result = _Result(report)
    try:
        unittest.TestSuite([by_id[test_id]]).run(result)
    except BaseException:  # the runner itself must not die with the test
        result.status = "FAIL"
        report.write(traceback.format_exc())
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])
    dt = time.monotonic() - t0
    status = result.status or "FAIL"
    reason = ""
    if status == "skip" and result.skipped:
        reason = result.skipped[0][1]
    out = ""
    if status == "FAIL" or result.status is None:
        if result.status is None:
            report.write("the test reported no result\n")
        result.printErrors()
        if result.unexpectedSuccesses:
            report.write("unexpected success (the test is marked as an "
                         "expected failure)\n")
        log.seek(0)
        printed = log.read().decode("utf-8", "replace")
        out = report.stream.getvalue()
        if printed:
            out += "\n--- output of the test and its processes ---\n" + printed
    log.close()
    return {"id": test_id, "status": status, "secs": dt, "reason": reason,
            "out": out}


def worker(result_fd, log_path):
    by_id = {t.id(): t for t in discover()}
    res = os.fdopen(result_fd, "w")
    for line in sys.stdin:
        test_id = line.strip()
        if not test_id:
            continue
        rec = run_one(test_id, by_id, log_path)
        res.write(json.dumps(rec) + "\n")
        res.flush()


# --- parent: schedules tests over the workers --------------------------------

class Worker(object):
    def __init__(self, log_path):
        r, w = os.pipe()
        self.log_path = log_path
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--worker", str(w),
             log_path],
            stdin=subprocess.PIPE, pass_fds=(w,), start_new_session=True,
            universal_newlines=True)
        os.close(w)
        self.results = os.fdopen(r, "r")
        self.test = None
        self.started = 0.0

    def give(self, test_id):
        self.test = test_id
        self.started = time.monotonic()
        self.proc.stdin.write(test_id + "\n")
        self.proc.stdin.flush()

    def kill(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self.results.close()

    def printed(self):
        """What the current test and its processes wrote so far."""
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return ""
        return "\n--- output of the test and its processes ---\n" + text

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()
        self.results.close()


def default_jobs():
    env = os.environ.get("INTEGRATION_JOBS")
    if env:
        return max(1, int(env))
    return max(2, min(8, 3 * (os.cpu_count() or 1)))


def load_times():
    for path in (TIMES, os.path.join(ROOT, "build", "integration-times.json")):
        try:
            with open(path) as f:
                return json.load(f)
        except (OSError, ValueError):
            continue
    return {}


def save_times(times):
    try:
        os.makedirs(BUILD, exist_ok=True)
        with open(TIMES + ".tmp", "w") as f:
            json.dump(times, f, indent=0, sort_keys=True)
        os.replace(TIMES + ".tmp", TIMES)
    except OSError:
        pass


def main():
    args = sys.argv[1:]
    if len(args) == 3 and args[0] == "--worker":
        worker(int(args[1]), args[2])
        return
    jobs = default_jobs()
    wanted = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "-j" and i + 1 < len(args):
            jobs = max(1, int(args[i + 1]))
            i += 2
            continue
        if a == "--dir" and i + 1 < len(args):
            os.environ["INTEGRATION_DIR"] = os.path.abspath(args[i + 1])
            i += 2
            continue
        if a.startswith("-j") and a[2:].isdigit():
            jobs = max(1, int(a[2:]))
        elif a in ("-h", "--help"):
            print(__doc__)
            return
        else:
            wanted.append(a)
        i += 1

    tests = [t for t in discover()
             if not wanted or any(w in t.id() for w in wanted)]
    if not tests:
        print("integration: no test matches %s" % " ".join(wanted))
        sys.exit(1)
    lock_of = {t.id(): getattr(type(t), "exclusive", None) for t in tests}
    times = load_times()
    # Longest first (unknown ones count as long), so the slow tail does not
    # start last; a test that excludes others counts as long as all of its
    # group, which runs one at a time; ties keep the discovery order.
    order = {t.id(): n for n, t in enumerate(tests)}
    secs = {i: times.get(i, 60.0) for i in order}
    group = {}
    for i in order:
        if lock_of[i] not in (None, "*"):
            group[lock_of[i]] = group.get(lock_of[i], 0.0) + secs[i]
    pending = sorted(order, key=lambda i: (-group.get(lock_of[i], secs[i]),
                                           -secs[i], order[i]))
    jobs = min(jobs, len(pending))
    print("integration: %d tests, %d at a time" % (len(pending), jobs))
    sys.stdout.flush()

    logs = tempfile.mkdtemp(prefix="integration-run-")
    n_workers = [0]

    def new_worker():
        n_workers[0] += 1
        return Worker(os.path.join(logs, "worker%d.log" % n_workers[0]))

    workers = [new_worker() for _ in range(jobs)]
    records = []
    t_start = time.monotonic()

    def held():
        return {lock_of[w.test] for w in workers if w.test is not None}

    def pick():
        locks = held()
        busy = any(w.test is not None for w in workers)
        if "*" in locks:
            return None
        for n, tid in enumerate(pending):
            lk = lock_of[tid]
            if lk == "*" and busy:
                continue
            if lk is not None and lk in locks:
                continue
            return pending.pop(n)
        return None

    def finish(w, rec):
        w.test = None
        records.append(rec)
        line = "%-4s %6.1f s  %s" % (rec["status"], rec["secs"], rec["id"])
        if rec["reason"]:
            line += "  (%s)" % rec["reason"]
        print(line)
        sys.stdout.flush()

    try:
        while pending or any(w.test is not None for w in workers):
            for w in workers:
                if w.test is None and pending:
                    tid = pick()
                    if tid is not None:
                        w.give(tid)
            running = [w for w in workers if w.test is not None]
            if not running:  # only "*" tests left while others hold locks
                continue
            ready, _, _ = select.select([w.results for w in running], [], [], 1.0)
            for w in running:
                if w.results in ready:
                    line = w.results.readline()
                    if line:
                        finish(w, json.loads(line))
                        continue
                    rec = {"id": w.test, "status": "FAIL", "reason": "",
                           "secs": time.monotonic() - w.started,
                           "out": "the worker process died (exit %s)"
                                  % w.proc.wait() + w.printed()}
                elif time.monotonic() - w.started > TIMEOUT:
                    rec = {"id": w.test, "status": "FAIL", "reason": "",
                           "secs": time.monotonic() - w.started,
                           "out": "killed after %.0f s (INTEGRATION_TEST_TIMEOUT)"
                                  % TIMEOUT + w.printed()}
                else:
                    continue
                w.kill()
                workers[workers.index(w)] = nw = new_worker()
                finish(nw, rec)
    finally:
        for w in workers:
            if w.test is None:
                w.close()
            else:
                w.kill()
        shutil.rmtree(logs, ignore_errors=True)

    wall = time.monotonic() - t_start
    failed = [r for r in records if r["status"] == "FAIL"]
    for r in failed:
        print("\n" + "=" * 70 + "\nFAIL: %s (%.1f s)\n" % (r["id"], r["secs"])
              + "-" * 70 + "\n" + r["out"].rstrip())
    slow = sorted(records, key=lambda r: -r["secs"])[:10]
    print("\nslowest: " + ", ".join("%s %.0f s" % (r["id"].split(".", 1)[1], r["secs"])
                                    for r in slow))
    for r in records:
        times[r["id"]] = round(r["secs"], 1)
    save_times(times)
    skipped = sum(1 for r in records if r["status"] == "skip")
    passed = len(records) - len(failed) - skipped
    total = sum(r["secs"] for r in records)
    print("integration: %d passed, %d failed, %d skipped in %.0f s "
          "(%.0f s of tests, %d at a time)"
          % (passed, len(failed), skipped, wall, total, jobs))
    if failed:
        print("failed: " + " ".join(r["id"] for r in failed))
    if failed or passed == 0:
        sys.exit(1)


if __name__ == "__main__":
    main()
