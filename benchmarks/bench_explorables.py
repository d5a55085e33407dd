"""What a reader's browser does with a chapter explorable: page weight, time until ready, time to redraw.

    .venv/bin/python benchmarks/bench_explorables.py [--html _build/html] [--repeats 3] [--grid-seconds]

Build the book first (make book). The built pages are served on localhost and opened in Debian's Chromium
(driven by Playwright, every request that is not for localhost blocked), each in a fresh browser context
so that nothing comes from the cache. For every chapter it reports:
- page weight: the HTML document, the explorable's data (the JSON in the page), the explorable's scripts
  (vega, vega-lite, vega-embed, the loader) and every script the page loads, in bytes as transferred;
- ready: milliseconds from navigation start until the chart is drawn (the loader's data-ready-at-ms);
- redraw: milliseconds from a slider's input event until Vega has re-run and re-rendered (view.runAsync()),
  the median over every position of the first slider.
With --grid-seconds it also times compute_explorable for each chapter (the build-time cost).
Results go to benchmarks/results/explorables.json as well.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import statistics
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulations.explorables import EXPLORABLES, compute_explorable, explorable_spec  # noqa: E402

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
EXPLORABLE_SCRIPTS = ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js", "loyalty_explorables.js")

REDRAW = """async ([name, values]) => {
  const input = document.querySelector(`.loyalty-explorable .vega-bind input[type=range][name='p_${name}']`);
  const views = window.loyaltyExplorables;
  const times = [];
  for (const value of values) {
    const started = performance.now();
    input.value = value;
    input.dispatchEvent(new Event('input', {bubbles: true}));
    await Promise.all(views.map(view => view.runAsync()));
    times.push(performance.now() - started);
  }
  return times;
}"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(html: Path):
    handler = functools.partial(_QuietHandler, directory=str(html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def chapter_pages(html: Path) -> dict[str, str]:
    pages = {}
    for chapter in EXPLORABLES:
        found = sorted((html / "book").glob(f"{chapter}_*.html"))
        if not found:
            raise SystemExit(f"no built page for {chapter} in {html / 'book'}: build the book first (make book)")
        pages[chapter] = f"book/{found[0].name}"
    return pages


def measure_page(browser, site: str, path: str, chapter: str) -> dict:
    """Weights and timings of one chapter page, opened in a fresh context (empty cache)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    blocked, sizes = [], []

    def route(route_request):
        if urlparse(route_request.request.url).hostname in ("127.0.0.1", "localhost"):
            route_request.continue_()
        else:
            blocked.append(route_request.request.url)
            route_request.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("response", lambda response: sizes.append(response))
    page.goto(f"{site}/{path}", wait_until="load")
    page.wait_for_selector(".loyalty-explorable[data-ready='true']", timeout=60_000)
    ready_ms = float(page.get_attribute(".loyalty-explorable", "data-ready-at-ms"))
    draw_ms = float(page.get_attribute(".loyalty-explorable", "data-draw-ms"))
    data_bytes = len(page.locator("script.loyalty-explorable-spec").text_content().encode("utf-8"))

    weights = {"html": 0, "explorable_scripts": 0, "all_scripts": 0, "everything": 0}
    for response in sizes:
        try:
            size = len(response.body())
        except Exception:  # a redirect or an aborted request has no body
            continue
        name = urlparse(response.url).path.rsplit("/", 1)[-1]
        weights["everything"] += size
        if response.request.resource_type == "document":
            weights["html"] += size
        if response.request.resource_type == "script":
            weights["all_scripts"] += size
            if name in EXPLORABLE_SCRIPTS:
                weights["explorable_scripts"] += size

    axis = next(a for a in explorable_spec(chapter).axes if not a.is_select)
    positions = [v for v in axis.values if v != axis.default] + [axis.default]
    redraws = page.evaluate(REDRAW, [axis.name, positions])
    context.close()
    return {"chapter": chapter, "page": path, **weights, "explorable_data": data_bytes, "ready_ms": ready_ms,
            "first_draw_ms": draw_ms, "redraw_ms_median": statistics.median(redraws), "redraw_ms_max": max(redraws),
            "slider": axis.name, "redraws": len(redraws), "blocked_requests": blocked}


def grid_seconds() -> dict:
    seconds = {}
    for chapter in EXPLORABLES:
        started = time.perf_counter()
        compute_explorable(chapter)
        seconds[chapter] = round(time.perf_counter() - started, 2)
        print(f"  {chapter}: grid computed in {seconds[chapter]:.1f} s", flush=True)
    return seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", type=Path, default=ROOT / "_build" / "html")
    parser.add_argument("--repeats", type=int, default=3, help="page loads per chapter (medians are reported)")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--grid-seconds", action="store_true", help="also time compute_explorable per chapter")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats: {args.repeats} is not allowed; allowed: a whole number from 1")
    pages = chapter_pages(args.html)

    from playwright.sync_api import sync_playwright

    server, site = serve(args.html)
    results = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=args.chromium, headless=True, args=CHROMIUM_ARGS)
            for chapter, path in pages.items():
                runs = [measure_page(browser, site, path, chapter) for _ in range(args.repeats)]
                result = dict(runs[-1])
                for key in ("ready_ms", "first_draw_ms", "redraw_ms_median", "redraw_ms_max"):
                    result[key] = round(statistics.median(run[key] for run in runs), 1)
                result["blocked_requests"] = sorted({url for run in runs for url in run["blocked_requests"]})
                results.append(result)
            browser.close()
    finally:
        server.shutdown()

    print(f"{'chapter':8}{'HTML':>10}{'data':>10}{'expl. JS':>11}{'all JS':>11}{'total':>11}"
          f"{'ready ms':>10}{'draw ms':>9}{'redraw ms':>11}{'max':>7}  blocked")
    for r in results:
        print(f"{r['chapter']:8}{r['html']:>10,}{r['explorable_data']:>10,}{r['explorable_scripts']:>11,}"
              f"{r['all_scripts']:>11,}{r['everything']:>11,}{r['ready_ms']:>10.0f}{r['first_draw_ms']:>9.0f}"
              f"{r['redraw_ms_median']:>11.1f}{r['redraw_ms_max']:>7.0f}  {len(r['blocked_requests'])}")
    report = {"pages": results, "repeats": args.repeats}
    if args.grid_seconds:
        report["grid_seconds"] = grid_seconds()
    out = ROOT / "benchmarks" / "results" / "explorables.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(report, indent=2), encoding="utf-8")
    temporary.replace(out)  # atomic: a reader never sees half a report
    print(f"written {out.relative_to(ROOT)}")
    return 1 if any(r["blocked_requests"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
