"""The comparison report: one self-contained HTML file from the derived tables and figures.

:func:`build` is the whole stage. It derives the report's tables from the
pipeline's tables, the run files and the dataset files
(:func:`nnstudy.analysis.derived.derive`), writes them
(:mod:`nnstudy.report.formats`), draws every figure from those tables only
(:mod:`nnstudy.report.figures`), and renders ``results/report/index.html``
from a Jinja2 template with the figures embedded as base64 PNG. Nothing is
trained.
"""

import base64
import datetime
import html
import json
import math
from importlib import resources
from pathlib import Path

import pandas as pd
import yaml

from nnstudy import io
from nnstudy.analysis import comparisons, derived as derived_tables, tables, verdicts
from nnstudy.analysis.derived import BIAS_VARIANCE_THRESHOLD, FACTORS, REFERENCE_INITIALIZER
from nnstudy.analysis.interactions import interaction_sentences
from nnstudy.analysis.replication_check import MATCH_TOLERANCE
from nnstudy.analysis.run_tables import TARGET_FRACTION
from nnstudy.report import explorer, formats, tuning_sections
from nnstudy.report.formats import TOP_COMBINATIONS, number, p_value

# The course's own reporting choices, stated beside the replication table.
COURSE_QUIRKS = (
    "Dropout: the course reseeds NumPy's global generator with the same seed at every forward "
    "pass, so every step uses the same dropout mask. The replication reproduces that on purpose "
    "(variant dropout) and also reports dropout with fresh masks at every step "
    "(dropout_fresh_masks), which has no published number.",
    "Optimization: the course reports accuracy on the training set only (the moons data has no "
    "test split there), so these rows have no test accuracy.",
    "Initialization: with weights scaled by 10 the course's cost, computed from "
    "probabilities, prints as inf (log of an exact 0 or 1); the engine computes the cost from "
    "the logits, so our final_cost for that variant is finite.",
    "Gradient check: the course's N-dimensional difference is mostly the rounding noise of its "
    "cost, -log(sigmoid(z)) evaluated in two steps, so it is reproduced with the course's own "
    "formulas (nd, and nd_with_mistakes with its planted backward-pass errors); the engine's "
    "check of the same case (nd_engine) is about a hundred times smaller.",
)


def html_table(frame, table_id=None, sortable=True):
    """A <table> of text cells; numeric-looking cells are right-aligned and sort as numbers."""
    attrs = f' id="{table_id}"' if table_id else ""
    classes = "data sortable" if sortable else "data"
    head = "".join(f'<th scope="col">{html.escape(str(c))}</th>' for c in frame.columns)
    rows = []
    for row in frame.itertuples(index=False):
        cells = []
        for value in row:
            text = str(value)
            key = text.split(" ")[0].replace("<", "").replace("−", "-")
            try:
                number = float(key)
            except ValueError:
                number = None
            if number is not None and math.isfinite(number):
                cells.append(f'<td class="num" data-v="{number!r}">{html.escape(text)}</td>')
            else:
                css = _verdict_class(text)
                cells.append(f"<td{css}>{html.escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<div class="table-wrap"><table class="{classes}"{attrs}><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>")


def _verdict_class(text):
    if text.startswith("✔"):
        return ' class="good"'
    if text.startswith("✘"):
        return ' class="bad"'
    return ""


def _template_file(name):
    return resources.files("nnstudy").joinpath(f"report/templates/{name}").read_text()


def _claim(row):
    """One verdicts.csv row in words: scope, estimate with interval, verdict, posterior probabilities."""
    a, b = html.escape(row["level_a"]), html.escape(row["level_b"])
    verdict = {"a better": f"{a} better", "b better": f"{b} better", "equivalent": "practically equivalent",
               "undecided": "undecided", "depends": "depends on the other factors or the dataset"}[row["verdict"]]
    interval = "" if math.isnan(row["ci_low"]) else f" [{row['ci_low']:+.3f}, {row['ci_high']:+.3f}]"
    return (f"{a} − {b} ({html.escape(row['scope'])}): {row['estimate']:+.3f}{interval}, "
            f"p<sub>Holm</sub> {html.escape(p_value(row['p_holm']))}, P({a} better) {row['p_a_better']:.2f}, "
            f"P(equivalent) {row['p_equivalent']:.2f}, P({b} better) {row['p_b_better']:.2f}: <b>{verdict}</b>")


def summary_points(derived, levels, rope):
    """The report's answer in sentences, each one a row of verdicts.csv (or of the tables it names)."""
    points = []
    table = derived["verdict_details"]
    failing = derived["failing_levels"]
    tests = derived["interaction_tests"]
    marked = failing[failing["step"] > 0]
    if len(marked):
        items = [f"{html.escape(r.factor)} {html.escape(r.level)}: {r.failed} of {r.runs} runs failed"
                 for r in marked.itertuples()]
        points.append("<b>Failing levels</b> (diverged or stalled at chance in most of their runs; each failure "
                      "charged to the level that predicts it): " + "; ".join(items)
                      + ". The verdicts of the other factors without these runs are in verdicts_without_failing.csv.")
    for factor in FACTORS:
        part = table[(table["factor"] == factor) & (table["scope"] == "all")]
        if not len(part):
            continue
        blocks = f"{int(part['n_blocks'].iloc[0])} {part['blocks'].iloc[0]} as blocks"
        text = f"<b>{factor.capitalize()}</b>, across datasets ({blocks}): " + "; ".join(
            _claim(row) for row in part.to_dict("records")) + "."
        for row in part[part["verdict"] == "depends"].to_dict("records"):
            varies = tests[(tests["factor"] == factor) & (tests["level_a"] == row["level_a"])
                           & (tests["level_b"] == row["level_b"]) & tests["significant"]]
            if len(varies):
                text += (f" {html.escape(row['level_a'])} − {html.escape(row['level_b'])} varies with "
                         + ", ".join(f"{html.escape(r.across)} (p<sub>Holm</sub> {html.escape(p_value(r.p_holm))})"
                                     for r in varies.itertuples()) + ".")
            simple = table[(table["factor"] == factor) & (table["level_a"] == row["level_a"])
                           & (table["level_b"] == row["level_b"]) & (table["scope"] != "all")
                           & (table["verdict"] != "undecided")]
            if len(simple):
                text += (f" Where {html.escape(row['level_a'])} − {html.escape(row['level_b'])} is decided: "
                         + "; ".join(_claim(r) for r in simple.to_dict("records")) + ".")
        points.append(text)
    if len(tests):
        # The sentences say what the tests found and how large an unseen interaction could be.
        text = "<b>Interactions</b> (each pair's effect across the levels of another factor, datasets as blocks; " \
            "across datasets and within each dataset, seeds as replicates): " + " ".join(
                html.escape(sentence) for sentence in interaction_sentences(tests))
        points.append(text)
    power = derived["power"]
    across = power[power["blocks"] == "datasets"]["detectable_effect"].dropna()
    within = power[power["blocks"] == "seeds"]["detectable_effect"].dropna()
    if len(across) or len(within):
        text = "<b>How sure:</b> at 80% power (two-sided t test, α = 0.05, before Holm) this design detects paired"
        if len(across):
            text += (f" effects from {across.min():.3f} to {across.max():.3f} across datasets "
                     f"({int(power['n_blocks'][power['blocks'] == 'datasets'].max())} datasets)")
        if len(within):
            text += (f"{' and' if len(across) else ''} from {within.min():.3f} to {within.max():.3f} within one "
                     f"dataset ({int(power['n_blocks'][power['blocks'] == 'seeds'].max())} seeds)")
        text += f"; levels closer than the region of practical equivalence ({rope:g}) are called equivalent."
        points.append(text)
    return points


def vectorization_table(frame):
    """The vectorization lesson's timings as a small HTML table (None without them)."""
    if frame is None or not len(frame):
        return None
    shown = pd.DataFrame(
        {
            "operation": frame["operation"].str.replace("_", " "),
            "size": frame["size"],
            "size means": frame["size_means"],
            "loop (ms)": (frame["loop_seconds"] * 1e3).map(lambda v: f"{v:.3g}"),
            "NumPy (us)": (frame["vectorized_seconds"] * 1e6).map(lambda v: f"{v:.3g}"),
            "speed-up": frame["speedup"].map(lambda v: f"{v:,.0f}x"),
        }
    )
    return html_table(shown, table_id="table-vectorization")


def variance_decomposition_table(frame):
    """The variance decomposition (results/tables/variance_decomposition.csv) as HTML (None without it)."""
    if frame is None or not len(frame):
        return None
    shown = pd.DataFrame(
        {
            "dataset": frame["dataset"],
            "combination": frame["initializer"] + " / " + frame["regularizer"] + " / " + frame["optimizer"],
            "varied": frame["source"],
            "seeds": frame["seeds"],
            "diverged": frame["diverged"],
            "mean test acc.": frame["mean_test_accuracy"].map(number),
            "sd": frame["sd"].map(number),
            "share": frame["share"].map(lambda v: "–" if pd.isna(v) else f"{v:.0%}"),
        }
    )
    return html_table(shown, table_id="table-variance_decomposition", sortable=False)


def render_html(derived, shown, figures, config, provenance, lectures=(), vectorization=None,
                variance=None, tuning=None, explorer_section=""):
    """The report page as one string: figures embedded, tables inline, no external resource."""
    import jinja2

    env = jinja2.Environment(autoescape=jinja2.select_autoescape(["html", "j2"]), undefined=jinja2.StrictUndefined)
    template = env.from_string(_template_file("report.html.j2"))
    tables_html = {name: html_table(frame, table_id=f"table-{name}") for name, frame in shown.items()}
    overview_blocks = {}
    for dataset in config["datasets"]:
        part = shown["overview"]
        if len(part) and "dataset" in part:
            block = part[part["dataset"] == dataset].drop(columns="dataset")
            if len(block):
                overview_blocks[dataset] = html_table(block, table_id=f"overview-{dataset}")
    by_section = {}
    for figure in figures:
        figure = dict(figure)
        figure["src"] = "data:image/png;base64," + base64.b64encode(Path(figure["png"]).read_bytes()).decode()
        by_section.setdefault(figure["section"], []).append(figure)
    levels = derived_tables.levels_of(config)
    runs = int(derived["run_labels"].shape[0])
    selection = config["replication"]
    rep = derived["replication_check"]
    checked = rep[rep["verdict"].isin(["match", "mismatch"])]
    return template.render(
        title="nnstudy: initialization × regularization × optimizer",
        css=_template_file("report.css"),
        js=_template_file("report.js"),
        tables=tables_html,
        overview_blocks=overview_blocks,
        figures=by_section,
        summary_points=summary_points(derived, levels, config["analysis"]["rope"]),
        headline=html_table(formats.headline_claims(derived["verdict_details"]), table_id="headline",
                            sortable=False),
        levels=levels,
        datasets=list(config["datasets"]),
        seeds=config["seeds"],
        runs=runs,
        two_d=list(derived["boundary_models"]["dataset"].unique()),
        replication_selection=selection,
        matches=int((checked["verdict"] == "match").sum()),
        checked=int(len(checked)),
        published_count=int(rep["published"].notna().sum()),
        quirks=COURSE_QUIRKS,
        provenance=provenance,
        lectures=lectures,
        vectorization=vectorization,
        variance=variance,
        tuning=tuning,
        explorer=explorer_section,
        constants={
            "target_fraction": TARGET_FRACTION,
            "bias_variance_threshold": BIAS_VARIANCE_THRESHOLD,
            "match_tolerance": MATCH_TOLERANCE,
            "bootstrap_samples": comparisons.BOOTSTRAP_SAMPLES,
            "rope": config["analysis"]["rope"],
            "alpha": verdicts.ALPHA,
            "top_combinations": TOP_COMBINATIONS,
            "combinations": int(len(derived["combination_ranks"])),
            "reference_initializer": derived["regularizer_weight_norms"]["initializer"].iloc[0]
            if len(derived["regularizer_weight_norms"]) else REFERENCE_INITIALIZER,
        },
    )


def lecture_sections(config):
    """[(id, title, html)] of the lecture stages the configuration switches on."""
    from nnstudy import lectures
    from nnstudy.report import lecture_sections as report_sections

    if not lectures.enabled(config):
        return []
    return [
        (record["id"], record["title"], report_sections.section_html(record))
        for record in report_sections.sections(config)
    ]


def regenerate_commands(repo_dir, workdir, config_copy):
    """Shell commands that re-render the report, and that rebuild everything, with this configuration."""
    repo_dir, workdir = Path(repo_dir).resolve(), Path(workdir).resolve()
    base = "snakemake --cores 4"
    if repo_dir != workdir:
        base = f"snakemake --snakefile {repo_dir / 'Snakefile'} --directory {workdir} --cores 4"
    configfile = (workdir / config_copy).resolve()
    return {
        "report": f"{base} --configfile {configfile} report",
        "everything": f"{base} --configfile {configfile}",
    }


def build(inputs, run_files, data_files, config, *, table_outputs, figures_dir, html_path, config_copy,
          benchmarks_dir, repo_dir, commit, seed_numbers, workers=1):
    """The report stage: derived tables, figures, HTML. Returns {"tables": n, "figures": n}.

    inputs : {name: CSV path or None} for runs, summary, curves,
        learning_rates, gradcheck, timings, replication.
    data_files : {dataset: path of results/data/{dataset}.h5}.
    table_outputs : the declared table paths (see :func:`nnstudy.report.formats.write_tables`).
    config_copy : where to write the resolved configuration as YAML.
    repo_dir : the checkout holding the Snakefile (for the commands that rebuild the report).
    commit : (commit, dirty) of that checkout (:func:`nnstudy.provenance.git_state`).
    seed_numbers : {(dataset, model seed): seed number} of the run files' models.
    workers : processes drawing the figures.
    """
    from nnstudy.report import figures as figure_module

    frames = derived_tables.read_tables(inputs)
    skipped = []
    if inputs.get("replication"):
        sidecar = Path(inputs["replication"] + ".meta.json")
        if sidecar.is_file():
            skipped = [tuple(pair) for pair in json.loads(sidecar.read_text()).get("skipped", [])]
    derived = derived_tables.derive(frames, run_files, data_files, config, benchmarks_dir, seed_numbers, skipped)
    shown = formats.display_tables(derived, config)
    metadata = {"config": config, "versions": tables.package_versions()}
    formats.write_tables(derived, shown, table_outputs, metadata)
    # Not sorted: the order of datasets and levels is the order of every table and figure.
    config_yaml = yaml.safe_dump(io.to_jsonable(config), sort_keys=False)
    with io.atomic_path(config_copy) as tmp:
        tmp.write_text(config_yaml)
    drawn = figure_module.draw_all({**frames, **derived}, config, figures_dir, workers=workers)
    provenance = {
        "commit": commit[0],
        "dirty": commit[1],
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "config_yaml": config_yaml,
        "commands": regenerate_commands(repo_dir, Path.cwd(), config_copy),
    }
    explorer_section = explorer.section_html(
        explorer.explorer_data(frames["runs"], derived, run_files, data_files, config, seed_numbers))
    page = render_html(
        derived, shown, drawn, config, provenance, lecture_sections(config),
        vectorization_table(frames.get("vectorization")),
        variance_decomposition_table(frames.get("variance_decomposition")), explorer_section=explorer_section,
        tuning=tuning_sections.section_html(frames, figures_dir, html_table),
    )
    with io.atomic_path(html_path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return {"tables": len(derived), "figures": len(drawn)}
