"""The comparison report: its tables on constructed data, and the smoke study's page in Chromium."""

import ast
import base64
import json
import math
import os
import re
import shutil
import subprocess
import time
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import REPO, snakemake
from nnstudy.analysis import derived, replication_check, run_tables
from nnstudy.report import formats, page as report, table_names

SMOKE = REPO / "config" / "smoke.yaml"
SECTIONS = ("summary", "replication", "overview", "verdicts", "effects", "dynamics", "boundaries", "diagnostics", "provenance")


# ---------------------------------------------------------------------------
# Tables on constructed data


def test_published_numbers_come_from_the_data_file_with_exact_fractions():
    published = replication_check.published_values().set_index(["experiment", "variant", "metric"])["value"]
    assert published[("logistic_regression", "lr_0.005", "train_accuracy")] == 207 / 209
    assert published[("logistic_regression", "lr_0.0001", "test_accuracy")] == 0.36
    assert published[("initialization", "he", "train_accuracy")] == pytest.approx(298 / 300)
    assert published[("optimization", "adam", "train_accuracy")] == 0.94
    # The optimization experiment reports training accuracy only.
    assert not any(k[0] == "optimization" and k[2] == "test_accuracy" for k in published.index)
    assert len(published) == 26


def test_replication_check_marks_match_mismatch_missing_and_extra_numbers():
    ours = pd.DataFrame(
        [
            ("initialization", "he", "train_accuracy", 298 / 300),  # match
            ("initialization", "he", "test_accuracy", 0.95),  # mismatch (published 0.96)
            ("initialization", "he", "final_cost", 0.06),  # not published
        ],
        columns=["experiment", "variant", "metric", "value"],
    )
    check = replication_check.replication_check(ours).set_index(["experiment", "variant", "metric"])
    assert check.loc[("initialization", "he", "train_accuracy"), "verdict"] == "match"
    assert check.loc[("initialization", "he", "test_accuracy"), "verdict"] == "mismatch"
    assert check.loc[("initialization", "he", "test_accuracy"), "difference"] == pytest.approx(-0.01)
    assert check.loc[("initialization", "he", "final_cost"), "verdict"] == "ours only"
    assert check.loc[("optimization", "adam", "train_accuracy"), "verdict"] == "not run"
    disabled = replication_check.replication_check(None, selection=False)
    assert set(disabled["verdict"]) == {"not run: stage disabled"}
    assert len(disabled) == 26
    # Gradient-check differences are compared relatively: the engine's 1.1e-9
    # is within 1e-6 of the course's 1.19e-7, but not its number.
    differences = pd.DataFrame(
        [
            ("gradient_check", "nd", "difference", 1.1890913024229996e-07 * (1 + 1e-12)),
            ("gradient_check", "1d", "difference", 1.1e-9),
        ],
        columns=["experiment", "variant", "metric", "value"],
    )
    verdicts = replication_check.replication_check(differences).set_index(["experiment", "variant", "metric"])["verdict"]
    assert verdicts[("gradient_check", "nd", "difference")] == "match"
    assert verdicts[("gradient_check", "1d", "difference")] == "mismatch"
    partial = replication_check.replication_check(
        ours, selection=["initialization", "regularization"], skipped=[("regularization", "missing data.mat")]
    ).set_index(["experiment", "variant", "metric"])["verdict"]
    assert partial[("optimization", "gd", "train_accuracy")] == "not run: not selected"
    assert partial[("regularization", "l2", "test_accuracy")] == "not run: missing data.mat"


def test_run_labels_separate_diverged_stalled_and_converged_runs():
    scored = pd.DataFrame(
        {
            "dataset": ["d"] * 4,
            "initializer": ["zeros", "random", "he", "he"],
            "regularizer": ["none"] * 4,
            "optimizer": ["gd"] * 4,
            "seed": [0, 0, 0, 1],
            "status": ["ok", "diverged", "ok", "ok"],
            "train_accuracy": [0.51, math.nan, 0.95, 0.57],
            "test_accuracy": [0.5, math.nan, 0.93, 0.55],
            "chance_train": [0.5] * 4,
            "n_train": [400] * 4,
        }
    )
    # Two binomial standard errors at p = 0.5, m = 400: 0.05.
    labels = derived.run_labels(scored)
    assert list(labels["label"]) == ["stalled at chance", "diverged", "converged", "converged"]
    assert labels["chance_margin"].iloc[0] == pytest.approx(0.05)


def test_time_to_target_finds_the_first_record_at_or_above_the_target():
    history = {
        "step": np.array([0, 10, 20, 30]),
        "dev_accuracy": np.array([[0.5, 0.7, 0.9, 0.95], [0.5, 0.5, 0.5, 0.5]]),
        "train_accuracy": np.full((2, 4), np.nan),
    }
    run = {"dataset": "d", "optimizer": "adam", "regularizer": "none", "initializer": np.array(["he", "zeros"]),
           "seed": np.array([0, 0]), "history": history, "steps_per_epoch": 5}
    summary = pd.DataFrame({"dataset": ["d"], "dev_mean": [0.95]})
    datasets = pd.DataFrame({"dataset": ["d"], "chance_dev": [0.5]})
    timings = pd.DataFrame({"stage": ["train"], "dataset": ["d"], "optimizer": ["adam"], "regularizer": ["none"],
                            "steps": [30], "training_seconds": [3.0]})
    table = run_tables.time_to_target([run], summary, datasets, timings)
    # Target: 0.5 + 0.9 * (0.95 - 0.5) = 0.905, first reached at step 30 (epoch 6, 0.1 s per step).
    assert table["target"].iloc[0] == pytest.approx(0.905)
    assert list(table["reached"]) == [True, False]
    assert table["steps"].iloc[0] == 30 and table["epochs"].iloc[0] == 6
    assert table["seconds"].iloc[0] == pytest.approx(3.0)
    assert math.isnan(table["steps"].iloc[1])


def test_latex_and_markdown_escape_their_special_characters():
    frame = pd.DataFrame({"name": ["l2_dropout", "a|b"], "value": ["50%", "✔ match"]})
    latex = formats.to_latex(frame)
    assert r"l2\_dropout" in latex and r"50\%" in latex and r"\checkmark" in latex
    assert r"\begin{tabular}{ll}" in latex
    assert r"a\|b" in formats.to_markdown(frame)


def test_write_tables_refuses_undeclared_or_missing_tables(tmp_path):
    outputs = [tmp_path / f"{name}.csv" for name in table_names.TABLES[:-1]]
    with pytest.raises(ValueError, match="versions"):
        formats.write_tables({}, {}, outputs, {})
    # Every declared path, but a table the list does not name: refused, naming it.
    declared = [tmp_path / f"{name}.csv" for name in table_names.TABLES] + [
        tmp_path / f"{name}.{ext}" for name in table_names.TEXT_TABLES for ext in ("md", "tex")]
    built = {name: pd.DataFrame() for name in (*table_names.TABLES, "unlisted")}
    with pytest.raises(ValueError, match="unlisted"):
        formats.write_tables(built, {}, declared, {})


# ---------------------------------------------------------------------------
# The smoke study's report, opened in headless Chromium


def chromium_binary():
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


class DevTools:
    """A headless Chromium driven over the Chrome DevTools Protocol, recording console errors."""

    FLAGS = (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--remote-debugging-port=0",
        "--remote-allow-origins=*",
    )

    def __init__(self, binary, profile):
        import websocket

        profile.mkdir(parents=True)
        self.process = subprocess.Popen(
            [binary, *self.FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.is_file() and port_file.read_text().strip()):
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.close()
                raise RuntimeError("Chromium did not open its DevTools port")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30) as response:
            pages = [t for t in json.load(response) if t["type"] == "page"]
        self.socket = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=120,
                                                  suppress_origin=True)
        self.next_id = 0
        self.events = []

    def call(self, method, **params):
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]
            self.events.append(message)

    def wait_for(self, event, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(e.get("method") == event for e in self.events):
                return
            self.events.append(json.loads(self.socket.recv()))
        raise TimeoutError(event)

    def errors(self):
        """Console errors, uncaught exceptions and browser log errors seen so far."""
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
                found.append(" ".join(str(a.get("value", a.get("description"))) for a in params["args"]))
            elif method == "Runtime.exceptionThrown":
                found.append(params["exceptionDetails"].get("text", "exception"))
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                found.append(params["entry"]["text"])
        return found

    def close(self):
        if getattr(self, "socket", None) is not None:
            self.socket.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


# Runs in the page: decode every image, and describe sections and figures.
INSPECT = """
(async () => {
  const images = Array.from(document.images);
  const failed = [];
  for (const img of images) {
    try { await img.decode(); } catch (e) { failed.push(img.alt || "image"); continue; }
    if (!(img.complete && img.naturalWidth > 0 && img.naturalHeight > 0)) failed.push(img.alt || "image");
  }
  const sections = {};
  for (const s of document.querySelectorAll("main > section")) sections[s.id] = s.innerText.trim().length;
  const figures = Array.from(document.querySelectorAll("figure")).map(f => {
    const c = f.querySelector("figcaption");
    return c ? c.innerText : "";
  });
  return JSON.stringify({images: images.length, failed, sections, figures,
                         width: document.documentElement.scrollWidth});
})()
"""

# Runs in the page: sort a table both ways (the page's own script must not fail).
SORT = """
(() => {
  const headers = document.querySelectorAll("table.sortable th");
  for (const h of Array.from(headers).slice(0, 3)) { h.click(); h.click(); }
  return headers.length;
})()
"""


def small_png(png, path):
    """Save a screenshot at three quarters of its size in 64 colours (for the README)."""
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    image = image.resize((image.width * 3 // 4, image.height * 3 // 4), Image.LANCZOS)
    image.quantize(colors=64, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def inspect_page(binary, page, profile):
    """Open ``page`` in Chromium: (what INSPECT found, screenshot PNG bytes, sortable headers, console errors)."""
    browser = DevTools(binary, profile)
    try:
        for domain in ("Runtime", "Log", "Page"):
            browser.call(f"{domain}.enable")
        browser.call("Emulation.setDeviceMetricsOverride", width=1280, height=900, deviceScaleFactor=1, mobile=False)
        browser.call("Page.navigate", url=Path(page).resolve().as_uri())
        browser.wait_for("Page.loadEventFired")
        found = json.loads(
            browser.call("Runtime.evaluate", expression=INSPECT, awaitPromise=True, returnByValue=True)["result"]["value"]
        )
        shot = base64.b64decode(browser.call("Page.captureScreenshot", format="png")["data"])
        sortable = browser.call("Runtime.evaluate", expression=SORT, returnByValue=True)["result"]["value"]
        time.sleep(0.5)  # let late console messages arrive
        browser.call("Runtime.evaluate", expression="1")
        return found, shot, sortable, browser.errors()
    finally:
        browser.close()


def test_the_browser_check_catches_console_errors_and_broken_images(tmp_path):
    binary = chromium_binary()
    if binary is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium)")
    page = tmp_path / "broken.html"
    page.write_text(
        "<!DOCTYPE html><html><body><main><section id='summary'>text</section></main>"
        "<img alt='broken' src='data:image/png;base64,iVBORw0KGgoAAAAN'>"
        "<img alt='empty' src='data:image/png;base64,'>"
        "<script>console.error('boom'); undefinedFunction();</script></body></html>"
    )
    found, shot, _, errors = inspect_page(binary, page, tmp_path / "profile")
    assert found["failed"] == ["broken", "empty"]
    assert any("boom" in e for e in errors) and any("undefinedFunction" in e or "Uncaught" in e for e in errors)
    assert shot[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def smoke_report(smoke_study, tmp_path_factory):
    """A copy of the finished smoke study, Snakemake's records included: (workdir, config path).

    A copy, not a run of its own: the tests below only read its report or
    re-render it, and they change the folder, which the session's study must
    not see.
    """
    reference, _ = smoke_study
    workdir = tmp_path_factory.mktemp("smoke-report") / "study"
    shutil.copytree(reference, workdir, symlinks=True)
    return workdir, workdir / "config.yaml"


@pytest.mark.slow
def test_report_writes_every_table_in_three_formats_and_every_figure_in_two(smoke_report):
    workdir, _ = smoke_report
    tables = workdir / "results" / "tables"
    for name in table_names.TABLES:
        assert (tables / f"{name}.csv").is_file(), name
    for name in table_names.TEXT_TABLES:
        assert (tables / f"{name}.md").read_text().startswith("| "), name
        assert r"\begin{tabular}" in (tables / f"{name}.tex").read_text(), name
    figures = workdir / "results" / "figures"
    pngs = sorted(p.stem for p in figures.glob("*.png"))
    assert pngs == sorted(p.stem for p in figures.glob("*.svg"))
    expected = {"overview-circles", "overview-digits", "effects", "interactions", "profiles", "curves-circles",
                "time_to_target", "learning_rates", "boundaries-circles", "norms", "weight_norms", "failures",
                "bias_variance"}
    assert expected <= set(pngs)
    # digits has 64 features: no decision boundary for it.
    assert "boundaries-digits" not in pngs
    grid = pd.read_csv(tables / "boundary_grid.csv")
    assert set(grid["dataset"]) == {"circles"}
    assert grid["probability"].between(0, 1).all()


@pytest.mark.slow
def test_report_is_self_contained_and_states_what_was_replicated(smoke_report):
    workdir, _ = smoke_report
    page = (workdir / "results" / "report" / "index.html").read_text()
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", page)
    selection = yaml.safe_load(SMOKE.read_text())["replication"]
    if selection is False:
        assert "replication: false" in page
    elif selection is not True:
        assert f"replication: [{', '.join(selection)}]" in page
    check = pd.read_csv(workdir / "results" / "tables" / "replication_check.csv")
    assert check["verdict"].str.startswith("not run").any() == (selection is not True)
    for image in re.findall(r'src="data:image/png;base64,([^"]+)"', page):
        assert base64.b64decode(image)[:8] == b"\x89PNG\r\n\x1a\n"
    config = yaml.safe_load((workdir / "results" / "report" / "config.yaml").read_text())
    # The resolved configuration keeps the study's order of levels.
    assert list(config["initializers"]) == ["zeros", "random", "he"]


@pytest.mark.slow
def test_report_opens_in_chromium_without_errors(smoke_report, tmp_path):
    binary = chromium_binary()
    if binary is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium)")
    workdir, _ = smoke_report
    found, shot, sortable, errors = inspect_page(
        binary, workdir / "results" / "report" / "index.html", tmp_path / "profile"
    )
    screenshot = tmp_path / "report.png"
    screenshot.write_bytes(shot)
    if os.environ.get("NNSTUDY_REPORT_SCREENSHOT"):
        small_png(shot, os.environ["NNSTUDY_REPORT_SCREENSHOT"])
    assert shot[:8] == b"\x89PNG\r\n\x1a\n" and len(shot) > 10_000
    assert sortable > 10
    assert errors == [], errors
    assert found["images"] >= 10 and found["failed"] == [], found["failed"]
    for section in SECTIONS:
        assert found["sections"].get(section, 0) > 100, f"section {section} missing or empty"
    assert all(re.search(r"\d+ runs?\b", caption) for caption in found["figures"]), found["figures"]
    # Sensible on a laptop screen: nothing wider than the window.
    assert found["width"] <= 1280


@pytest.mark.slow
def test_report_target_rerenders_without_training(smoke_report):
    workdir, config = smoke_report
    (workdir / "results" / "report" / "index.html").unlink()
    result = snakemake("report", "--cores", "2", "--configfile", str(config), workdir=workdir, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    stats = result.stdout + result.stderr
    jobs = re.search(r"Job stats:\n(.*?)\n\n", stats, re.S).group(1)
    assert re.findall(r"^(\w+)\s+\d+$", jobs, re.M) == ["report", "total"], jobs
    assert (workdir / "results" / "report" / "index.html").is_file()


@pytest.mark.slow
def test_native_snakemake_report_has_figures_and_tables_with_captions(smoke_report):
    workdir, config = smoke_report
    archive = workdir / "native-report.zip"
    result = snakemake("--report", str(archive), "--configfile", str(config), workdir=workdir, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    with zipfile.ZipFile(archive) as zipped:
        names = zipped.namelist()
        text = "".join(zipped.read(n).decode("utf-8", "replace") for n in names if n.endswith((".html", ".js")))
    assert any(n.endswith("boundaries-circles.png") for n in names)
    assert any(n.endswith("recommendations.csv") for n in names)
    assert any(n.endswith("/index.html") and "/raw/" in n for n in names)
    assert any(n.endswith("ro-crate-metadata.json") for n in names)
    for words in ("Decision boundaries on", "Report tables", "One row per trained network"):
        assert words in text, words


def test_decision_boundaries_use_the_optimizer_best_on_dev_not_test():
    # On test gd is far better (0.99 against 0.80); on dev adam is: the panels follow dev.
    runs = pd.DataFrame({
        "optimizer": ["gd", "gd", "adam", "adam"],
        "status": ["ok", "ok", "ok", "ok"],
        "dev_accuracy": [0.80, 0.80, 0.97, 0.99],
        "test_accuracy": [0.99, 0.99, 0.80, 0.80],
    })
    assert run_tables.boundary_optimizer(runs, chance_dev=0.5) == "adam"
    # A diverged run counts at the dev chance rate: (0.97 + 0.99 + 0.5) / 3 = 0.82 < 0.83.
    runs = pd.concat([runs, pd.DataFrame({"optimizer": ["adam"], "status": ["diverged"], "dev_accuracy": [np.nan],
                                          "test_accuracy": [np.nan]})], ignore_index=True)
    runs.loc[:1, "dev_accuracy"] = 0.83
    assert run_tables.boundary_optimizer(runs, chance_dev=0.5) == "gd"


def test_summary_follows_the_verdicts_and_never_calls_a_level_best():
    from test_verdicts import SMALL, planted_runs

    from nnstudy.analysis import analyze as analysis, verdicts

    # Adam rescues x10 networks that stall with gd; under He the two are equal.
    runs = planted_runs(0, lambda d, i, r, o: -0.3 if (i == "x10" and o != "adam") else 0.0, SMALL)
    derived = analysis.analysis_tables(verdicts.prepare_runs(runs), SMALL, bootstrap_samples=200, bayes_samples=500)
    points = report.summary_points(derived, SMALL, rope=0.01)
    optimizer = next(p for p in points if p.startswith("<b>Optimizer</b>"))
    assert "gd − adam (all)" in optimizer and "<b>depends on the other factors or the dataset</b>" in optimizer
    assert "varies with initializer" in optimizer
    assert "gd − adam (initializer=he)" in optimizer and "<b>practically equivalent</b>" in optimizer
    assert not any("best" in p for p in points)
    # Interactions: what the tests found, by factor, never that one is absent.
    interactions = next(p for p in points if p.startswith("<b>Interactions</b>"))
    assert "optimizer: " in interactions and "adam varies with initializer" in interactions
    assert "absent" not in interactions
    # Every "<" in the HTML opens a tag: a p-value below 0.001 is written "&lt; 0.001".
    assert any("&lt; 0.001" in p for p in points)
    assert not any(re.search(r"<(?![a-z/])", p) for p in points)
    # The Summary leads with the verdicts across datasets: one row per pair, scope all, datasets as blocks.
    headline = formats.headline_claims(derived["verdict_details"])
    overall = derived["verdict_details"][derived["verdict_details"]["scope"] == "all"]
    assert list(headline.columns) == ["factor", "comparison", "scope", "blocks", "estimate [95% CI]", "verdict"]
    assert set(headline["scope"]) == {"all"} and len(headline) == len(overall) > 0
    assert headline["blocks"].str.endswith("datasets").all()
    assert list(headline["verdict"]) == list(overall["verdict"])


@pytest.mark.parametrize("sizes", [(2, 10, 5, 1), (64, 16, 10), (3, *[4] * 10, 1)])
def test_decision_boundary_network_is_read_from_the_stored_parameter_shapes(sizes):
    from nnstudy.core import initializers, network

    params = initializers.initialize(sizes, "he", [1, 2])
    output = "sigmoid" if sizes[-1] == 1 else "softmax"
    # Eleven layers: W10 and W11 come after W9, not after W1.
    assert run_tables.stored_architecture(params, {"hidden_activation": "tanh"}) == network.Architecture(
        sizes, "tanh", output)
    assert run_tables.stored_architecture(params, {}).hidden_activation == "relu"


REPORT_LAYER = ["analysis/derived.py", "analysis/run_tables.py", "analysis/replication_check.py", "report"]
FORBIDDEN = ("nnstudy.study", "nnstudy.core.training", "nnstudy.core.fused")


def imported_modules(path):
    """Every module a file imports (``from a import b`` counts as a and a.b)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_report_layer_reads_tables_and_never_imports_the_study_or_training_code():
    package = REPO / "src" / "nnstudy"
    files = [f for entry in REPORT_LAYER for f in ([package / entry] if entry.endswith(".py")
                                                    else sorted((package / entry).glob("*.py")))]
    assert len(files) > 8
    for path in files:
        bad = {m for m in imported_modules(path) if m.startswith(FORBIDDEN)}
        assert not bad, f"{path.relative_to(package)} imports {sorted(bad)}"
    # Only the CLI and the workflow scripts import the report; the lectures never do.
    for path in sorted(package.rglob("*.py")):
        if path.parent.name != "report" and path.name != "cli.py":
            assert not {m for m in imported_modules(path) if m.startswith("nnstudy.report")}, path
