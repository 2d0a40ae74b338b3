"""``--simplyq-report PATH``: one self-contained HTML file with, per test (failing ones first),
the events it published and every attempt with its request and response; hostile values are
escaped; the option also comes from the ini file and the environment, and works under xdist."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from pytest_plugin.report import parts_dir, render
from tests.pytest_plugin.conftest import RunInner

TESTS = """
from pytest_plugin.receiver import Answer


def test_passes_and_publishes(simplyq, webhook_receiver):
    client = simplyq.client
    client.applications.create({"uid": "shop", "name": "Shop"})
    client.endpoints.create("shop", webhook_receiver.endpoint("orders"))
    client.events.create("shop", {"uid": "evt-ok", "event_type": "order.created",
                                  "payload": {"total": 1.0}})
    simplyq.assert_delivered("shop", "evt-ok", "orders")


def test_fails_after_a_refused_delivery(simplyq, webhook_receiver):
    client = simplyq.client
    client.applications.create({"uid": "shop", "name": "Shop"})
    client.endpoints.create("shop", webhook_receiver.endpoint("orders"))
    webhook_receiver.respond("orders", 503)
    client.events.create("shop", {"uid": "evt-refused", "event_type": "order.created",
                                  "payload": {"html": HOSTILE}})
    simplyq.settle()
    assert False, "the receiver said 503"


def test_without_the_emulator():
    pass
"""
HOSTILE = "</script><script>window.__pwned=1</script><img src=x onerror=alert(1)>"


def report_data(path: Path) -> dict[str, Any]:
    html = path.read_text(encoding="utf-8")
    block = re.search(
        r'<script type="application/json" id="report-data">(.*?)</script>', html, re.S
    )
    assert block is not None
    data: dict[str, Any] = json.loads(block.group(1))
    return data


def make_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_shop=f"HOSTILE = {HOSTILE!r}\n" + TESTS)


def test_the_report_puts_failing_tests_first_with_what_they_published(
    pytester: pytest.Pytester, run_inner: RunInner, tmp_path: Path
) -> None:
    make_tests(pytester)
    target = tmp_path / "out" / "report.html"
    result = run_inner("--simplyq-report", str(target))
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines([f"simplyq: report written to {target}"])
    data = report_data(target)
    tests = data["tests"]
    assert [t["nodeid"].split("::")[1] for t in tests] == [
        "test_fails_after_a_refused_delivery",
        "test_passes_and_publishes",
        "test_without_the_emulator",
    ]
    failed, passed, plain = tests
    assert failed["outcome"] == "failed" and "the receiver said 503" in failed["failure"]
    assert passed["outcome"] == "passed" and passed["failure"] == ""
    assert plain["applications"] == []
    # The refused delivery: its request as sent and the receiver's answer.
    (shop,) = failed["applications"]
    assert shop["uid"] == "shop" and [e["uid"] for e in shop["endpoints"]] == ["orders"]
    (event,) = shop["events"]
    assert event["uid"] == "evt-refused" and event["payload"] == {"html": HOSTILE}
    first = event["attempts"][0]
    assert first["status"] == "3" and first["response_status_code"] == 503
    assert "X-Simplyq-Signature" in first["request_headers"]
    assert first["scheduled_at"] and first["attempted_at"]
    # The scheduled retry is there too (the timeline shows it waiting).
    assert [a["status"] for a in event["attempts"]] == ["3", "1"]
    # The body exactly as the emulator sent it.
    delivered = passed["applications"][0]["events"][0]
    assert delivered["body"] == '{"total":1.0}'
    assert delivered["attempts"][0]["response_status_code"] == 200


def test_the_report_is_self_contained_and_escapes_what_tests_sent(
    pytester: pytest.Pytester, run_inner: RunInner, tmp_path: Path
) -> None:
    make_tests(pytester)
    target = tmp_path / "report.html"
    run_inner("--simplyq-report", str(target)).assert_outcomes(passed=2, failed=1)
    html = target.read_text(encoding="utf-8")
    # Nothing is fetched: no external script, style, image or link.
    assert not re.search(r"""<(script|link|img|iframe)[^>]+(src|href)=""", html)
    assert "http://" not in html.split('id="report-data"')[0]
    # The hostile payload stays inside the data block, as escaped JSON.
    assert HOSTILE not in html
    assert html.count("</script>") == 3  # the data block, the timeline, the page's script
    assert "\\u003c/script\\u003e" in html


def test_render_escapes_every_closing_tag_in_the_data() -> None:
    data = {"tests": [{"nodeid": "</script>&<!--", "failure": "<b>", "applications": []}]}
    html = render({"generated": "now", "duration": 0, **data})
    block = html.split('id="report-data">', 1)[1].split("</script>", 1)[0]
    assert "<" not in block and ">" not in block and "&" not in block
    assert json.loads(block)["tests"][0]["nodeid"] == "</script>&<!--"


def test_the_report_from_the_ini_file_and_the_environment(
    pytester: pytest.Pytester,
    run_inner: RunInner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytester.makepyfile(test_one="def test_one(simplyq):\n    assert simplyq.api_key\n")
    pytester.makeini(f"[pytest]\nsimplyq_report = {tmp_path / 'ini.html'}\n")
    run_inner().assert_outcomes(passed=1)
    assert report_data(tmp_path / "ini.html")["tests"][0]["outcome"] == "passed"
    monkeypatch.setenv("SIMPLYQ_PYTEST_REPORT", str(tmp_path / "env.html"))
    run_inner().assert_outcomes(passed=1)
    assert (tmp_path / "env.html").exists()


def test_a_folder_is_a_usage_error(
    pytester: pytest.Pytester, run_inner: RunInner, tmp_path: Path
) -> None:
    pytester.makepyfile(test_one="def test_one():\n    pass\n")
    result = run_inner("--simplyq-report", str(tmp_path))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*simplyq: --simplyq-report must name a file, {tmp_path}*"])


def test_under_xdist_the_workers_parts_make_one_report(
    pytester: pytest.Pytester, run_subprocess: RunInner, tmp_path: Path
) -> None:
    make_tests(pytester)
    target = tmp_path / "report.html"
    result = run_subprocess("-n", "2", "--simplyq-report", str(target))
    result.assert_outcomes(passed=2, failed=1)
    tests = report_data(target)["tests"]
    assert [t["outcome"] for t in tests] == ["failed", "passed", "passed"]
    assert tests[0]["applications"][0]["events"][0]["uid"] == "evt-refused"
    assert tests[1]["applications"][0]["events"][0]["uid"] == "evt-ok"
    assert not parts_dir(target).exists()
