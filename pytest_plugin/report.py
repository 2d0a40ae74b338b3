"""``--simplyq-report PATH``: one self-contained HTML file after a run, with per test (failing
ones first) the events it published and every attempt with its request, response and the
timeline of its tries.

What a test published is read through the emulator's HTTP API when the ``simplyq`` fixture is
torn down (before its environment is reset). The page carries its data as JSON in a
``<script type="application/json">`` block and builds itself with text nodes only, with the web
view's own timeline drawing inlined: it opens offline, from the file. Under xdist each worker
writes its part next to PATH and the controller, which saw every outcome, joins them.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx
import orjson
import pytest

if TYPE_CHECKING:
    from pytest_plugin.helpers import SimplyQEnvironment

PAGE = 150
MAX_EVENTS = 200  # per test: a report stays a page one can open
MAX_ATTEMPTS = 60  # per event
MAX_FAILURE_TEXT = 20_000
TIMEOUT = 10.0
OUTCOME_ORDER = {"failed": 0, "error": 1, "xpassed": 2, "passed": 3, "xfailed": 4, "skipped": 5}


@dataclass
class TestEntry:
    """One test: how it ended, and what it published."""

    nodeid: str
    outcome: str = "passed"
    duration: float = 0.0
    failure: str = ""
    applications: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "nodeid": self.nodeid,
            "outcome": self.outcome,
            "duration": round(self.duration, 3),
            "failure": self.failure,
            "applications": self.applications,
            "notes": self.notes,
        }


class Report:
    """Collects the run's tests and writes the report file (or, on an xdist worker, its part)."""

    def __init__(self, path: Path, worker: str | None = None) -> None:
        self.path = path
        self.worker = worker
        self.tests: dict[str, TestEntry] = {}
        self.started = time.time()
        self.written: Path | None = None
        self.problem = ""

    def entry(self, nodeid: str) -> TestEntry:
        if nodeid not in self.tests:
            self.tests[nodeid] = TestEntry(nodeid)
        return self.tests[nodeid]

    # ------------------------------------------------------------------ hooks
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.record(report)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        try:
            self.written = self.finish()
        except OSError as error:
            self.problem = f"simplyq: could not write the report {self.path}: {error}"

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.problem:
            terminalreporter.write_line(self.problem, red=True)
        elif self.written is not None and self.worker is None:
            terminalreporter.write_line(f"simplyq: report written to {self.written}")

    # ------------------------------------------------------------------ outcomes
    def record(self, report: pytest.TestReport) -> None:
        """Take one phase's report (setup, call, teardown) of a test."""
        entry = self.entry(report.nodeid)
        entry.duration += report.duration
        if hasattr(report, "wasxfail"):
            entry.outcome = "xfailed" if report.skipped else "xpassed"
        elif report.failed:
            entry.outcome = "failed" if report.when == "call" else "error"
            text = report.longreprtext
            entry.failure = (entry.failure + "\n\n" + text).strip()[:MAX_FAILURE_TEXT]
        elif report.skipped and entry.outcome == "passed":
            entry.outcome = "skipped"
            entry.failure = report.longreprtext[:MAX_FAILURE_TEXT]

    # ------------------------------------------------------------------ what a test published
    def collect(self, nodeid: str, environment: SimplyQEnvironment) -> None:
        """Read the test's environment: applications, endpoints, events, attempts (detail).
        Never fails the test: a problem is noted in the report instead."""
        entry = self.entry(nodeid)
        headers = {"Authorization": f"Bearer {environment.api_key}"}
        try:
            with httpx.Client(
                base_url=environment.base_url, headers=headers, timeout=TIMEOUT, trust_env=False
            ) as http:
                entry.applications = _read_environment(http, entry.notes)
        except (httpx.HTTPError, ValueError, KeyError) as error:
            entry.notes.append(f"could not read the test's environment: {error}")

    # ------------------------------------------------------------------ writing
    def finish(self) -> Path | None:
        """Write the report (or this worker's part); returns the file written."""
        if self.worker is not None:
            part = parts_dir(self.path) / f"{self.worker}.json"
            part.parent.mkdir(parents=True, exist_ok=True)
            part.write_text(
                json.dumps([t.to_json() for t in self.tests.values()]), encoding="utf-8"
            )
            return part
        self._join_parts()
        tests = sorted(
            self.tests.values(), key=lambda t: (OUTCOME_ORDER.get(t.outcome, 9), t.nodeid)
        )
        data: dict[str, Any] = {
            "generated": time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime()),
            "duration": round(time.time() - self.started, 2),
            "tests": [t.to_json() for t in tests],
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(render(data), encoding="utf-8")
        return self.path

    def _join_parts(self) -> None:
        folder = parts_dir(self.path)
        if not folder.is_dir():
            return
        for part in sorted(folder.glob("*.json")):
            for item in json.loads(part.read_text(encoding="utf-8")):
                entry = self.entry(item["nodeid"])
                # Outcomes: the controller's own (it saw every report); data: the worker's.
                entry.applications = item["applications"] or entry.applications
                entry.notes.extend(item["notes"])
                entry.failure = entry.failure or item["failure"]
            part.unlink()
        with contextlib.suppress(OSError):
            folder.rmdir()


def parts_dir(path: Path) -> Path:
    return path.with_name(path.name + ".parts")


def _pages(http: httpx.Client, url: str, limit: int) -> tuple[list[dict[str, Any]], bool]:
    """Up to ``limit`` items of a list, oldest first; the flag says some were left out."""
    items: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": PAGE}
        if after:
            params["starting_after"] = after
        answer = http.get(url, params=params)
        answer.raise_for_status()
        body = answer.json()
        items.extend(body["data"])
        if len(items) >= limit:
            return items[:limit], True
        if not body.get("has_more") or not body["data"]:
            return items, False
        last = body["data"][-1]
        after = last.get("uid") or last.get("id")


def _segment(uid: str) -> str:
    return quote(uid, safe="")


def _read_environment(http: httpx.Client, notes: list[str]) -> list[dict[str, Any]]:
    applications, _ = _pages(http, "/v1/application", 1000)
    out: list[dict[str, Any]] = []
    for application in applications:
        base = f"/v1/application/{_segment(application['uid'])}"
        endpoints, _ = _pages(http, base + "/endpoint", 1000)
        events, cut = _pages(http, base + "/event", MAX_EVENTS)
        if cut:
            notes.append(f"{application['uid']}: only the first {MAX_EVENTS} events are shown")
        for event in events:
            # The body as the emulator sent it (its serializer, so 1.0 stays 1.0).
            event["body"] = orjson.dumps(event["payload"]).decode()
            url = f"{base}/event/{_segment(event['uid'])}/delivery_attempt"
            attempts, cut = _pages(http, url, MAX_ATTEMPTS)
            if cut:
                notes.append(f"{event['uid']}: only the first {MAX_ATTEMPTS} attempts are shown")
            event["attempts"] = [_detail(http, attempt) for attempt in attempts]
        out.append(
            {
                "uid": application["uid"],
                "name": application.get("name"),
                "endpoints": [{"uid": e["uid"], "url": e["url"]} for e in endpoints],
                "events": events,
            }
        )
    return out


def _detail(http: httpx.Client, attempt: dict[str, Any]) -> dict[str, Any]:
    answer = http.get(f"/_emulator/attempts/{_segment(attempt['id'])}")
    if answer.status_code != 200:
        return attempt
    detail: dict[str, Any] = answer.json()
    detail.pop("payload", None)  # the event's, shown once with the event
    return detail


# ====================================================================== the page
def _asset(package: str, name: str) -> str:
    text = (resources.files(package) / name).read_text(encoding="utf-8")
    # Inlined in a <script> or <style>: a closing tag inside would end it early.
    assert "</script" not in text.lower() and "</style" not in text.lower(), name
    return text


def _json_for_html(data: object) -> str:
    # Inside <script type="application/json">: no "<", ">" or "&" can end the block or start
    # markup; JSON.parse reads the \\u escapes back as the characters they stand for.
    text = json.dumps(data, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render(data: dict[str, Any]) -> str:
    """The report page for the collected data."""
    from emulator.webview import asset_text

    timeline = asset_text("timeline.js")
    assert "</script" not in timeline.lower()
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        # Nothing but what is inline: the data cannot fetch or run anything else.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">\n"
        "<title>SimplyQ test report</title>\n"
        f"<style>\n{_asset('pytest_plugin', 'report_assets/report.css')}</style>\n"
        '</head>\n<body>\n<header><h1>SimplyQ test report</h1><p id="summary"></p></header>\n'
        '<main id="tests"><noscript>This report draws itself with JavaScript.</noscript>'
        "</main>\n"
        f'<script type="application/json" id="report-data">{_json_for_html(data)}</script>\n'
        f"<script>\n{timeline}</script>\n"
        f"<script>\n{_asset('pytest_plugin', 'report_assets/report.js')}</script>\n"
        "</body>\n</html>\n"
    )


def worker_name() -> str | None:
    """The xdist worker this process is (``gw0``), or None for the controller / a plain run."""
    return os.environ.get("PYTEST_XDIST_WORKER") or None
