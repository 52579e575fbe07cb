"""The load test's users (locust): signed-in people who read the main pages and write.

`bench.loadtest` starts locust with this file and a settings file (MODELL_LOADTEST, JSON):
the accounts (e-mail, the pages that person reads, the address of the log entry form of
their improvement work), the password, and where to write the tally. Each simulated user signs in with one account (20
users share the accounts round-robin) and then, with a short pause between, reads one of
its pages or writes a log entry with a unique text.

The tally, written when locust quits, is the test's evidence: every answer that was not a
page (200) or a redirect after a form (302) is an error, except, where the settings allow a
database gap, a 503 carrying the app's own "temporarily unavailable" page; every write the
app acknowledged (302 to the new entry) is listed by its unique text, so that the test can
look for each one in the database afterwards.
"""

import itertools
import json
import os
import random
import re
import time
import uuid
from datetime import date
from pathlib import Path

from locust import HttpUser, between, events, task

SETTINGS = json.loads(Path(os.environ["MODELL_LOADTEST"]).read_text())
ACCOUNTS = itertools.cycle(SETTINGS["accounts"])
GAP_PAGE = "Tjänsten är tillfälligt otillgänglig"
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')

TALLY = {
    "ok": 0,
    "gap": 0,
    "errors": [],
    "ok_ms": [],  # pages and writes
    "sign_in_ms": [],  # signing in checks a password hash: slow by design
    "acknowledged": [],
    "first_gap": None,
    "last_gap": None,
    "ok_after_gap": 0,
    "started": time.time(),
}


def _classify(response, name: str, elapsed_ms: float) -> bool:
    """Count one answer; True when it is a page or a redirect."""
    now = time.time()
    if response.status_code in (200, 302):
        TALLY["ok"] += 1
        TALLY["sign_in_ms" if name == "sign in" else "ok_ms"].append(elapsed_ms)
        if TALLY["last_gap"] is not None and now > TALLY["last_gap"]:
            TALLY["ok_after_gap"] += 1
        response.success()
        return True
    if response.status_code == 503 and GAP_PAGE in response.text and SETTINGS["gap_allowed"]:
        TALLY["gap"] += 1
        TALLY["first_gap"] = TALLY["first_gap"] or now
        TALLY["last_gap"] = now
        response.success()  # the app's own answer while the database is away
        return False
    error = f"{response.request.method} {response.request.url}: {response.status_code}"
    TALLY["errors"].append(error)
    response.failure(error)
    return False


class Member(HttpUser):
    wait_time = between(0.1, 0.5)

    def on_start(self) -> None:
        self.account = next(ACCOUNTS)
        self.signed_in = self._sign_in()

    def _call(self, method: str, url: str, name: str, **kwargs):
        headers = {"Origin": self.host} if method == "POST" else {}
        started = time.perf_counter()
        with self.client.request(
            method, url, name=name, catch_response=True, allow_redirects=False,
            headers=headers, **kwargs,
        ) as response:  # fmt: skip
            ok = _classify(response, name, (time.perf_counter() - started) * 1000)
        return response, ok

    def _token(self, url: str, name: str) -> str | None:
        response, ok = self._call("GET", url, name)
        found = TOKEN.search(response.text) if ok else None
        return found.group(1) if found else None

    def _sign_in(self) -> bool:
        token = self._token("/konto/logga-in", "sign in (form)")
        if token is None:
            return False
        form = {
            "email": self.account["email"],
            "password": SETTINGS["password"],
            "csrf_token": token,
        }
        response, ok = self._call("POST", "/konto/logga-in", "sign in", data=form)
        return ok and response.status_code == 302

    @task(6)
    def read(self) -> None:
        if not self.signed_in:
            self.signed_in = self._sign_in()
            return
        name, url = random.choice(self.account["pages"])
        self._call("GET", url, name)

    @task(1)
    def write(self) -> None:
        url = self.account.get("entry_form")
        if not self.signed_in or url is None:
            return
        token = self._token(url, "log entry (form)")
        if token is None:
            return
        marker = f"Lasttest {uuid.uuid4().hex}"
        form = {
            "csrf_token": token,
            "version": "",
            "entry_date": date.today().isoformat(),
            "text": marker,
            "result_step": "1",
        }
        response, ok = self._call("POST", url, "log entry (save)", data=form)
        if ok and response.status_code == 302 and "/logg/" in response.headers["Location"]:
            TALLY["acknowledged"].append(marker)
        elif ok:  # a form page again: the app refused the entry
            TALLY["errors"].append(f"log entry refused: {response.status_code}")


@events.quitting.add_listener
def _write_tally(environment, **_kwargs) -> None:
    TALLY["stopped"] = time.time()
    Path(SETTINGS["tally"]).write_text(json.dumps(TALLY))
