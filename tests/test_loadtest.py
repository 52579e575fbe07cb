"""CI's short version of `make loadtest` (bench/loadtest.py): gunicorn with 2 workers on a
PostgreSQL server of the test's own, 20 signed-in users for 15 s with zero errors, then 30 s
through a crash and restart of the server: only the app's own 503 page in the gap, served
again after it without restarting gunicorn, no acknowledged write lost, and the scheduler
delivers every reminder that fell due in the gap exactly once."""

import subprocess
import sys

import pytest

from bench import pgcluster
from tests.conftest import REQUIRE_ALL, ROOT


def test_the_short_load_and_restart_run_passes_every_check():
    if not pgcluster.available():
        if REQUIRE_ALL:
            pytest.fail("the load test would be skipped in CI: PostgreSQL's server binaries")
        pytest.skip("PostgreSQL's server binaries (initdb, pg_ctl) are not installed")
    run = subprocess.run(
        [sys.executable, "-m", "bench.loadtest", "--short", "--no-write"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = run.stdout[run.stdout.find("Load test") :]
    output = run.stdout + run.stderr
    # The app's own tracebacks (gunicorn's "Error handling request"), if any, to say why.
    crashes = [part[:3000] for part in output.split("Error handling request")[1:3]]
    assert run.returncode == 0, "\n".join([report or output[-3000:], *crashes])
    assert report.count("ok     ") == 10 and "FAILED" not in report, report
