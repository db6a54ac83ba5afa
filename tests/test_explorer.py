"""The report's explorer: its packing on constructed data, and the smoke study's page driven in Chromium."""

import json
import os
import re
import time

import numpy as np
import pandas as pd
import pytest

from nnstudy import io
from nnstudy.core import snapshots
from nnstudy.report import explorer
from nnstudy.study.grid import model_seed

from test_report import DevTools, chromium_binary, small_png

# The page shows numbers to three decimals: half a unit of the last one, and rounding.
SHOWN = 5e-4 + 1e-9


def test_frame_records_are_capped_evenly_with_first_and_last():
    assert explorer.frame_records(5).tolist() == [0, 1, 2, 3, 4]
    picked = explorer.frame_records(41, cap=12)
    assert len(picked) == 12 and picked[0] == 0 and picked[-1] == 40
    assert np.all(np.diff(picked) >= 3) and np.all(np.diff(picked) <= 4)


def test_series_codes_round_trip_within_their_resolution():
    accuracy = np.array([0.0, 0.5, 0.913, 1.0, np.nan])
    codes = explorer.encode_series(accuracy, accuracy=True)
    assert codes[-1] == explorer.SERIES_MISSING
    np.testing.assert_allclose(codes[:-1] / explorer.SERIES_LEVELS, accuracy[:-1], atol=1e-5)
    cost = np.array([1e-3, 0.69, 250.0, 0.0])
    low, high = explorer.LOG_RANGE
    back = 10 ** (low + explorer.encode_series(cost, accuracy=False) / explorer.SERIES_LEVELS * (high - low))
    np.testing.assert_allclose(back[:3], cost[:3], rtol=1e-3)
    assert back[3] == pytest.approx(10 ** low)  # zero (a zero gradient) shows at the bottom of the scale


# ---------------------------------------------------------------------------
# The smoke study's page in Chromium


def evaluate(browser, expression):
    reply = browser.call("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
    if "exceptionDetails" in reply:
        raise AssertionError(reply["exceptionDetails"])
    return reply["result"].get("value")


def choose(browser, select_id, value):
    """Set a control through its own change handler, as a reader's choice would."""
    evaluate(browser, f"""(async () => {{
        const el = document.getElementById({json.dumps(select_id)});
        if (el.type === "checkbox") el.checked = {json.dumps(value)}; else el.value = {json.dumps(value)};
        el.dispatchEvent(new Event("change"));
        await new Promise((done) => setTimeout(done, 50));  // the hashchange redraw
    }})()""")


VIEW = """(() => {
  const text = (sel) => Array.from(document.querySelectorAll(sel), (el) => el.textContent);
  const numbers = {};
  for (const td of document.querySelectorAll("#explorer-a-numbers td")) numbers[td.dataset.field] = td.textContent;
  const b = {};
  for (const td of document.querySelectorAll("#explorer-b-numbers td")) b[td.dataset.field] = td.textContent;
  const diff = {};
  for (const el of document.querySelectorAll("#explorer-difference [data-field]")) diff[el.dataset.field] = el.textContent;
  const path = (name) => Array.from(document.querySelectorAll(`#explorer-a-charts path[data-name='${name}']`), (p) => p.getAttribute("d"));
  return {state: window.nnstudyExplorer.state(), numbers, b, diff, hash: location.hash,
          image: document.getElementById("explorer-a-boundary").toDataURL(),
          codes: window.nnstudyExplorer.frameCodes("a"),
          frame: document.getElementById("explorer-a-boundary").dataset.frame,
          dev_accuracy: path("dev_accuracy"), weight_norm: path("weight_norm_1"),
          alt: text("#explorer-a-alt")[0], difference_hidden: document.getElementById("explorer-difference").hidden};
})()"""


def open_page(browser, address):
    """A fresh load of ``address`` (by way of a blank page, so that a new hash is not a same-page jump)."""
    for target in ("about:blank", address):
        loads = sum(e.get("method") == "Page.loadEventFired" for e in browser.events)
        browser.call("Page.navigate", url=target)
        deadline = time.monotonic() + 120
        while sum(e.get("method") == "Page.loadEventFired" for e in browser.events) <= loads:
            assert time.monotonic() < deadline, f"{target} did not load"
            browser.events.append(json.loads(browser.socket.recv()))
    evaluate(browser, "window.nnstudyExplorer.ready")


def expected_run(workdir, runs, dataset, initializer, regularizer, optimizer, seed):
    """(runs.csv row, the run file's boundary codes of that model (records x points) or None)."""
    labels = pd.read_csv(workdir / "results" / "tables" / "run_labels.csv")
    runs = runs.merge(labels[["dataset", "initializer", "regularizer", "optimizer", "seed", "label"]])
    row = runs[(runs["dataset"] == dataset) & (runs["initializer"] == initializer) & (runs["regularizer"] == regularizer)
               & (runs["optimizer"] == optimizer) & (runs["seed"] == seed)].iloc[0]
    arrays, _ = io.read_run(workdir / "results" / "runs" / dataset / optimizer / f"{regularizer}.h5")
    model = np.flatnonzero((arrays["specs"]["initializer"].astype(str) == initializer)
                           & (arrays["specs"]["seed"] == model_seed(dataset, seed)))[0]
    boundary = arrays["history"].get(snapshots.HISTORY_KEY)
    curves = {k: arrays["history"][k][model] for k in ("cost", "train_accuracy", "dev_accuracy")}
    curves["step"] = arrays["history"]["step"]
    return row, None if boundary is None else boundary[model], curves


def assert_shows(view, row, boundary, curves):
    for name in ("train_accuracy", "dev_accuracy", "test_accuracy"):
        shown = view["numbers"][name]
        assert (shown == "–") if pd.isna(row[name]) else float(shown) == pytest.approx(row[name], abs=SHOWN), name
    assert float(view["numbers"]["learning_rate"]) == pytest.approx(row["learning_rate"])
    assert view["numbers"]["status"].startswith(row["label"])
    assert view["numbers"]["status"].endswith("(stopped early)") == (row["status"] == "stopped_early")
    if boundary is None:
        assert view["codes"] is None
        record = len(curves["step"]) - 1
    else:
        record = explorer.frame_records(boundary.shape[0])[int(view["frame"])]
        assert view["codes"] == boundary[record].tolist()
    # The text alternative reads the curves at the current step: the run file's records.
    found = re.match(r"Step (\d+) of \d+: training cost (\d+\.\d+), training accuracy (\d+\.\d+), dev accuracy (\d+\.\d+)",
                     view["alt"])
    assert found, view["alt"]
    assert int(found[1]) == curves["step"][record]
    for text, name in zip(found.groups()[1:], ("cost", "train_accuracy", "dev_accuracy")):
        assert float(text) == pytest.approx(curves[name][record], rel=2e-3, abs=6e-4), name


@pytest.mark.slow
def test_explorer_in_chromium_shows_the_selected_run_compares_and_follows_the_url(smoke_study, tmp_path):
    binary = chromium_binary()
    if binary is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium)")
    workdir, config = smoke_study
    page = workdir / "results" / "report" / "index.html"
    runs = pd.read_csv(workdir / "results" / "tables" / "runs.csv")
    details = pd.read_csv(workdir / "results" / "tables" / "verdict_details.csv")
    two_d = "circles"
    # He with Adam learns circles in the smoke study; each change below leads to a different boundary.
    start = dict(dataset=two_d, initializer="he", regularizer="none", optimizer="adam", seed=1)
    changes = (("seed", 0), ("regularizer", "l2"), ("optimizer", "gd"), ("initializer", "zeros"), ("dataset", "digits"))
    for key, value in [*start.items(), *changes]:
        assert value in config[key + "s"], (key, value)
    seeds = config["seeds"]

    browser = DevTools(binary, tmp_path / "profile")
    try:
        for domain in ("Runtime", "Log", "Page", "Network"):
            browser.call(f"{domain}.enable")
        browser.call("Emulation.setDeviceMetricsOverride", width=1280, height=900, deviceScaleFactor=1, mobile=False)
        url = page.resolve().as_uri()
        hash_ = f"#dataset={two_d}&init={start['initializer']}&reg={start['regularizer']}&opt={start['optimizer']}&seed={start['seed']}"
        open_page(browser, url + hash_)

        # A URL with a hash opens that view.
        view = evaluate(browser, VIEW)
        assert view["state"]["dataset"] == two_d and view["state"]["initializer"] == start["initializer"]
        assert (view["state"]["regularizer"], view["state"]["optimizer"]) == (start["regularizer"], start["optimizer"])
        assert view["state"]["seed"] == str(start["seed"])
        assert_shows(view, *expected_run(workdir, runs, **start))
        assert "Step 0 of" in view["alt"] and view["difference_hidden"]

        # The slider moves the boundary and the text alternative to the last recorded step.
        evaluate(browser, """(() => { const s = document.getElementById("explorer-frame");
            s.value = s.max; s.dispatchEvent(new Event("input")); })()""")
        last = evaluate(browser, VIEW)
        assert last["image"] != view["image"] and last["alt"] != view["alt"], (view["alt"], last["alt"])
        assert_shows(last, *expected_run(workdir, runs, **start))

        # Play advances the frames, pause stops them.
        evaluate(browser, """(async () => { const s = document.getElementById("explorer-frame");
            s.value = 0; s.dispatchEvent(new Event("input"));
            document.getElementById("explorer-play").click();
            await new Promise((done) => setTimeout(done, 1200));
            document.getElementById("explorer-play").click(); })()""")
        played = evaluate(browser, VIEW)
        assert int(played["frame"]) >= 1
        evaluate(browser, "new Promise((done) => setTimeout(done, 700))")
        assert evaluate(browser, VIEW)["frame"] == played["frame"]
        evaluate(browser, """(() => { const s = document.getElementById("explorer-frame");
            s.value = s.max; s.dispatchEvent(new Event("input")); })()""")

        # Each control, through its own handler: the boundary, curves and numbers become the chosen run's.
        current, before = dict(start), last
        for key, value in changes:
            current[key] = value
            choose(browser, f"explorer-{key}", str(value))
            after = evaluate(browser, VIEW)
            assert after["state"][key] == str(value), key
            assert f"{'init' if key == 'initializer' else key[:3] if key in ('regularizer', 'optimizer') else key}={value}" in after["hash"]
            assert_shows(after, *expected_run(workdir, runs, **current))
            assert after["dev_accuracy"] != before["dev_accuracy"] or after["numbers"] != before["numbers"], key
            if key != "dataset":
                assert after["image"] != before["image"], key
            assert after["weight_norm"], key
            if key == "regularizer":
                assert f"lambd {config['regularizers']['l2']['lambd']}" in after["numbers"]["settings"]
            before = after

        # Back: the previous view (the circles dataset) returns.
        evaluate(browser, "history.back(); new Promise((done) => setTimeout(done, 300))")
        back = evaluate(browser, VIEW)
        assert back["state"]["dataset"] == two_d and back["codes"] is not None

        # Compare mode: zeros against He, everything else equal, beside the study's paired comparison.
        inits = ["zeros", "he"]
        choose(browser, "explorer-compare", True)
        choose(browser, "explorer-b-initializer", inits[-1])
        choose(browser, "explorer-b-regularizer", current["regularizer"])
        choose(browser, "explorer-b-optimizer", current["optimizer"])
        compared = evaluate(browser, VIEW)
        assert not compared["difference_hidden"] and "vs=" in compared["hash"]
        row = details[(details["factor"] == "initializer") & (details["scope"] == f"dataset={two_d}")
                      & (details["level_a"].isin([inits[0], inits[-1]])) & (details["level_b"].isin([inits[0], inits[-1]]))].iloc[0]
        sign = 1 if row["level_a"] == inits[0] else -1
        assert float(compared["diff"]["study-estimate"]) == pytest.approx(sign * row["estimate"], abs=SHOWN)
        low, high = sorted([sign * row["ci_low"], sign * row["ci_high"]])
        shown_low, shown_high = map(float, compared["diff"]["study-interval"].strip("[]").split(", "))
        assert (shown_low, shown_high) == (pytest.approx(low, abs=SHOWN), pytest.approx(high, abs=SHOWN)), compared["diff"]
        scores = [
            expected_run(workdir, runs, two_d, a, current["regularizer"], current["optimizer"], seed)[0]["test_accuracy"]
            for seed in seeds for a in (inits[0], inits[-1])
        ]
        if not any(pd.isna(scores)) and not (runs["status"] == "diverged").any():
            cell = np.mean(np.array(scores[0::2]) - np.array(scores[1::2]))
            assert float(compared["diff"]["cell-estimate"]) == pytest.approx(cell, abs=SHOWN)

        # The compare view's URL opens the same view in a fresh load.
        open_page(browser, url + compared["hash"])
        reopened = evaluate(browser, VIEW)
        assert reopened["state"] == compared["state"] and reopened["diff"] == compared["diff"]

        if os.environ.get("NNSTUDY_EXPLORER_SCREENSHOT"):
            open_page(browser, url + "#dataset=circles&init=he&reg=none&opt=adam&seed=0&vs=random,none,adam")
            evaluate(browser, """(() => { const s = document.getElementById("explorer-frame");
                s.value = 3; s.dispatchEvent(new Event("input"));
                document.getElementById("explorer").scrollIntoView(); })()""")
            shot = browser.call("Page.captureScreenshot", format="png")["data"]
            import base64

            small_png(base64.b64decode(shot), os.environ["NNSTUDY_EXPLORER_SCREENSHOT"])
        time.sleep(0.3)
        evaluate(browser, "1")
        errors = browser.errors()
        requests = [e["params"]["request"]["url"] for e in browser.events
                    if e.get("method") == "Network.requestWillBeSent"]
    finally:
        browser.close()
    assert errors == [], errors
    # Only the page itself is loaded: no script, font, image or data file from anywhere else.
    assert {r.split("#")[0] for r in requests if not r.startswith("data:")} <= {url, "about:blank"}, requests
