"""run.py itself: sample tests in a temporary directory, run through
`run.py --dir` with several workers: one line per test, the exit code, the
closing counts, the whole output of failing tests only, a hung test killed
at INTEGRATION_TEST_TIMEOUT, a worker that dies, and `exclusive` tests
that never overlap."""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
RUN = os.path.join(HERE, "run.py")

SAMPLE = r'''
import os, subprocess, sys, time, unittest

LOG = os.environ["SAMPLE_LOG"]


def mark(what):
    with open(LOG, "a") as f:
        f.write("%s %s %.6f\n" % (what, os.getpid(), time.monotonic()))


class Plain(unittest.TestCase):
    def test_passes_quietly(self):
        print("PASS-NOISE")

    def test_fails(self):
        print("FAIL-STDOUT")
        subprocess.run(["sh", "-c", "echo FAIL-CHILD-STDERR >&2"])
        self.assertEqual(1, 2)

    def test_errors_in_cleanup(self):
        self.addCleanup(lambda: 1 / 0)

    def test_skips(self):
        raise unittest.SkipTest("SKIP-REASON")

    def test_hangs(self):
        print("HANG-STDOUT", flush=True)
        time.sleep(60)

    def test_worker_dies(self):
        print("DIE-STDOUT", flush=True)
        os._exit(3)


class BrokenFixture(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        raise RuntimeError("FIXTURE-BROKE")

    def test_never_runs(self):
        pass


class Exclusive(unittest.TestCase):
    exclusive = "shared-thing"

    def hold(self):
        mark("start")
        time.sleep(0.4)
        mark("end")

    def test_a(self):
        self.hold()

    def test_b(self):
        self.hold()

    def test_c(self):
        self.hold()
'''


class RunnerTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="runner-it-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        with open(os.path.join(self.dir, "test_sample.py"), "w") as f:
            f.write(SAMPLE)
        self.log = os.path.join(self.dir, "marks")

    def run_py(self, *args):
        env = dict(os.environ, SAMPLE_LOG=self.log, BUILD_DIR=self.dir,
                   INTEGRATION_TEST_TIMEOUT="3")
        r = subprocess.run([sys.executable, RUN, "--dir", self.dir] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           env=env, universal_newlines=True, timeout=120)
        return r.returncode, r.stdout

    def test_results_output_and_exit_code(self):
        rc, out = self.run_py("-j", "4")
        self.assertEqual(rc, 1, out)
        lines = {}
        for line in out.splitlines():
            parts = line.split()
            if len(parts) >= 4 and parts[2] == "s" and parts[3].startswith("test_sample."):
                lines[parts[3]] = parts[0]
        want = {"Plain.test_passes_quietly": "ok", "Plain.test_fails": "FAIL",
                "Plain.test_errors_in_cleanup": "FAIL", "Plain.test_skips": "skip",
                "Plain.test_hangs": "FAIL", "Plain.test_worker_dies": "FAIL",
                "BrokenFixture.test_never_runs": "FAIL", "Exclusive.test_a": "ok",
                "Exclusive.test_b": "ok", "Exclusive.test_c": "ok"}
        self.assertEqual(lines, {"test_sample." + k: v for k, v in want.items()}, out)
        self.assertIn("integration: 4 passed, 5 failed, 1 skipped", out)
        self.assertIn("(SKIP-REASON)", out)
        # the whole output of failing tests, nothing of passing ones
        for text in ("FAIL-STDOUT", "FAIL-CHILD-STDERR", "AssertionError: 1 != 2",
                     "ZeroDivisionError", "FIXTURE-BROKE", "HANG-STDOUT",
                     "killed after 3 s", "DIE-STDOUT", "worker process died (exit 3)"):
            self.assertIn(text, out)
        self.assertNotIn("PASS-NOISE", out)
        # no two tests of one exclusive group overlap
        with open(self.log) as f:
            marks = sorted((float(t), what) for what, _, t in
                           (line.split() for line in f))
        self.assertEqual([w for _, w in marks], ["start", "end"] * 3, marks)

    def test_all_passing_exits_zero_and_no_match_fails(self):
        rc, out = self.run_py("-j", "2", "passes_quietly", "Exclusive")
        self.assertEqual(rc, 0, out)
        self.assertIn("integration: 4 passed, 0 failed, 0 skipped", out)
        rc, out = self.run_py("no_such_test")
        self.assertEqual(rc, 1, out)


if __name__ == "__main__":
    unittest.main()
