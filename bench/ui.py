"""Web view benchmark: how fast the page is interactive with 10,000 stored events, and how fast
a published event shows up as a row.

    .venv/bin/python -m bench.ui [--events 10000] [--publishes 100]

The emulator runs as a child process (``simplyq-emulator serve --in-memory``); the events are
published through the API to an application with one endpoint (a local receiver answering 204)
and every delivery is settled before measuring. The page runs in headless Chromium (the
system's, see bench/chromium.py).

- *time to interactive*: from navigation start until the first rows are drawn (the page's
  ``simplyq:first-rows`` mark) and a search typed right then has been answered and redrawn
  (the rest of the list still streaming in); also when every stored event and attempt is
  listed (``simplyq:loaded``) and how long a search over all of them takes to redraw;
- *publish to row*: in the page, from sending ``POST /event`` until its row is in the DOM
  (a MutationObserver), median (p50) and p90 over ``--publishes`` publishes.

Goals: interactive under 2 s, publish to row p50 under 250 ms. Exit status 1 when one is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
from typing import TYPE_CHECKING

from bench.chromium import chromium, missing
from bench.tui import API_KEY, APP, emulator, receiver, seed
from emulator.repository import environment_key
from emulator.webview import UI_PATH

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

INTERACTIVE_GOAL = 2.0
ROW_GOAL = 0.250
LOAD_TIMEOUT = 60.0

# Runs in the page: publish, and resolve with the milliseconds until the row exists.
PUBLISH_TO_ROW = """
const [key, app, n, done] = arguments;
const uid = `bench-row-${n}`;
const rows = document.getElementById("window");
const started = performance.now();
const seen = () => rows.querySelector(`[data-event="${uid}"]`);
const observer = new MutationObserver(() => {
  if (seen()) { observer.disconnect(); done(performance.now() - started); }
});
observer.observe(rows, { childList: true, subtree: true });
fetch(`/v1/application/${app}/event`, {
  method: "POST",
  headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
  body: JSON.stringify({ uid, event_type: "bench.row", payload: { n } }),
}).then((r) => { if (!r.ok) { observer.disconnect(); done(-r.status); } });
"""

# Runs in the page: type a search, and resolve with [ms it took, page time at the end] once
# the list is redrawn.
SEARCH = """
const [needle, done] = arguments;
const input = document.getElementById("search");
const started = performance.now();
input.value = needle;
input.dispatchEvent(new Event("input"));
const end = () => done([performance.now() - started, performance.now()]);
requestAnimationFrame(() => setTimeout(end));
"""

MARK = (
    "const m = performance.getEntriesByName(arguments[0]); return m.length ? m[0].startTime : null"
)


def wait_for_mark(driver: WebDriver, name: str) -> float:
    """When (page ms since navigation) the page set the mark ``name``."""
    while True:
        at = driver.execute_script(MARK, name)
        if at is not None:
            return float(at)
        if driver.execute_script("return performance.now()") > LOAD_TIMEOUT * 1000:
            raise RuntimeError(f"the page never reached {name}")


def measure(url: str, events: int, publishes: int) -> tuple[float, float, float, list[float]]:
    """(seconds to interactive, seconds until all is listed, search ms over all, publish-to-row
    seconds)."""
    with chromium() as driver:
        driver.get(f"{url}{UI_PATH}?env={environment_key(API_KEY)}&app={APP}")
        wait_for_mark(driver, "simplyq:first-rows")
        _, interactive = driver.execute_async_script(SEARCH, "0001")
        driver.execute_async_script(SEARCH, "")
        loaded = wait_for_mark(driver, "simplyq:loaded")
        shown = driver.execute_script("return document.getElementById('count').textContent")
        print(f"  page lists: {shown}", flush=True)
        search_ms, _ = driver.execute_async_script(SEARCH, "0001")
        driver.execute_async_script(SEARCH, "")
        latencies: list[float] = []
        for n in range(publishes):
            ms = float(driver.execute_async_script(PUBLISH_TO_ROW, API_KEY, APP, n))
            if ms < 0:
                raise RuntimeError(f"publish {n} failed: HTTP {-ms:.0f}")
            latencies.append(ms / 1000)
            driver.execute_script("return 0")  # a beat between publishes, as a user would
    return float(interactive) / 1000, loaded / 1000, float(search_ms), latencies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ui", description=__doc__)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--publishes", type=int, default=100)
    args = parser.parse_args(argv)
    reason = missing()
    if reason is not None:
        print(f"bench.ui: no browser: {reason}", file=sys.stderr)
        return 2
    with receiver() as hook, emulator() as url:
        seconds = asyncio.run(seed(url, hook, args.events))
        print(f"seeded {args.events:,} events (delivered) in {seconds:.1f} s", flush=True)
        interactive, listed, search_ms, latencies = measure(url, args.events, args.publishes)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {os.cpu_count()} cores, load average {load:.2f}")
    ok_start = interactive < INTERACTIVE_GOAL
    print(
        f"time to interactive with {args.events:,} events: {interactive:.2f} s "
        f"(all listed at {listed:.2f} s; then a search over all redraws in {search_ms:.0f} ms)  "
        f"(goal < {INTERACTIVE_GOAL:g} s)  {'PASS' if ok_start else 'FAIL'}"
    )
    p50 = statistics.median(latencies)
    p90 = statistics.quantiles(latencies, n=10)[-1] if len(latencies) > 1 else p50
    ok_row = p50 < ROW_GOAL
    print(
        f"publish to row: p50 {p50 * 1000:.0f} ms, p90 {p90 * 1000:.0f} ms, worst "
        f"{max(latencies) * 1000:.0f} ms over {len(latencies)} publishes  "
        f"(goal p50 < {ROW_GOAL * 1000:.0f} ms)  {'PASS' if ok_row else 'FAIL'}"
    )
    return 0 if ok_start and ok_row else 1


if __name__ == "__main__":
    sys.exit(main())
