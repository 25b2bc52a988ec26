#!/usr/bin/env python3
"""Runs every tests/integration/test_*.py and prints 'N passed, N failed'
(plus skipped) as the closing line; exits non-zero on any failure or when
nothing ran.  Arguments select test modules or names by substring."""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


class Result(unittest.TextTestResult):
    pass


def main():
    loader = unittest.TestLoader()
    suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    wanted = sys.argv[1:]

    def flatten(s):
        for t in s:
            if isinstance(t, unittest.TestSuite):
                yield from flatten(t)
            else:
                yield t

    tests = [t for t in flatten(suite)
             if not wanted or any(w in t.id() for w in wanted)]
    runner = unittest.TextTestRunner(verbosity=2, resultclass=Result,
                                     stream=sys.stdout)
    result = runner.run(unittest.TestSuite(tests))
    # A test that fails and then errors in tearDown counts once.
    bad = {t.id() for t, _ in result.failures + result.errors}
    bad |= {t.id() for t in result.unexpectedSuccesses}
    failed = len(bad)
    skipped = len({t.id() for t, _ in result.skipped} - bad)
    passed = max(result.testsRun - failed - skipped, 0)
    print("integration: %d passed, %d failed, %d skipped" % (passed, failed, skipped))
    if failed or passed == 0:
        sys.exit(1)


if __name__ == "__main__":
    main()
