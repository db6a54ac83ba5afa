"""The report's Tuning section: the protocol, what the budget buys, the edges, the hyperparameters, the protocol check.

Every sentence is read from a table: the tuning job's (``tuning_trials``,
``tuning_chosen``), the budget tables (:mod:`nnstudy.analysis.budget`) and,
when a study ran two protocols, the protocol-sensitivity tables
(:mod:`nnstudy.analysis.protocols`). A study without the tuning tables (the
learning-rate grid of the old protocol) gets no section.
"""

import base64
import html
from pathlib import Path

import pandas as pd

from nnstudy.analysis.budget import POOLED, POSITION_PREFIX, UNIT
from nnstudy.report.formats import number

RULE = ("Each unit's configuration is chosen once, by the tuning job: the trial with the best mean dev accuracy over "
        "the tuning seeds, a trial with any diverged seed never chosen, ties to the lower mean dev cost, then to the "
        "earlier trial (nnstudy.selection). The study's own seeds, disjoint from the tuning seeds, then train the "
        "chosen configuration; its test accuracy is reported, never used to choose.")


def _runs(trials, dataset):
    return int((trials["dataset"] == dataset).sum())


def _usable(frame):
    return frame is not None and len(frame) > 0


def _figure_html(record, runs):
    """The figure with its caption, which says how many tuning runs it draws on, as every figure does."""
    png = base64.b64encode(Path(record["png"]).read_bytes()).decode()
    return (f'<figure id="figure-{html.escape(record["name"])}"><img src="data:image/png;base64,{png}" '
            f'alt="{html.escape(record["title"])}"><figcaption><b>{html.escape(record["title"])}.</b> '
            f'{html.escape(record["caption"])} From {runs} runs of the tuning (trials x tuning seeds). <span class="files">Files: results/figures/{html.escape(record["name"])}'
            f'.png, .svg</span></figcaption></figure>')


def protocol_sentences(trials, chosen):
    """The protocol in numbers: units, trials, tuning seeds, models, divergences."""
    per_unit = trials.groupby(list(UNIT), sort=False)["trial"].nunique()
    seeds = sorted(trials["seed"].unique())
    diverged = int((trials["status"] == "diverged").sum())
    stopped = int((trials["status"] == "stopped_early").sum())
    trials_text = (f"{per_unit.iloc[0]} trials" if per_unit.nunique() == 1
                   else f"from {per_unit.min()} to {per_unit.max()} trials")
    levels = ", ".join(f"{trials[c].nunique()} {c}{'s' if trials[c].nunique() != 1 else ''}" for c in UNIT)
    on_seeds = (f"on tuning seed {seeds[0]}" if len(seeds) == 1
                else f"on each of {len(seeds)} tuning seeds ({', '.join(map(str, seeds))})")
    text = (f"Each of the {len(per_unit)} tuning units ({levels}) trained {trials_text}, the same quasi-random "
            f"(scrambled Sobol) points of its declared search space, {on_seeds}: {len(trials)} models, of which "
            f"{diverged} diverged and {stopped} stopped early. {len(chosen)} units have a chosen configuration.")
    return [text, RULE]


def _value(v):
    """A hyperparameter value: integers (patience) as integers, others as the report's numbers."""
    return str(int(v)) if float(v).is_integer() else number(v)


def search_space_table(trials):
    """Per (optimizer, regularizer): each searched dimension with the range of its trials' values."""
    names = [c[len(POSITION_PREFIX):] for c in trials.columns if c.startswith(POSITION_PREFIX)]
    rows = []
    for (optimizer, regularizer), part in trials.groupby(["optimizer", "regularizer"], sort=False):
        searched = [f"{n} {_value(part[n].min())}–{_value(part[n].max())}" for n in names if part[n].notna().any()]
        rows.append({"optimizer": optimizer, "regularizer": regularizer, "searched (trials' range)": "; ".join(searched)})
    return pd.DataFrame(rows)


def budget_sentences(summary, probability):
    """Per dataset: the range of the expected best dev accuracy at k = 1 and at the full budget, and who leads."""
    sentences = []
    pooled = summary[summary["regularizer"] == POOLED]
    for dataset, part in pooled.groupby("dataset", sort=False):
        full = int(part["k"].max())
        text = f"{dataset}: "
        for k in (1, full):
            at = part[part["k"] == k].sort_values("dev_accuracy", kind="stable")
            low, high = at.iloc[0], at.iloc[-1]
            text += (f"after {k} trial{'s' if k != 1 else ''} the expected best dev accuracy runs from "
                     f"{low['dev_accuracy']:.3f} ({low['optimizer']}) to {high['dev_accuracy']:.3f} "
                     f"({high['optimizer']}, test {high['test_accuracy']:.3f}); ")
        chances = probability[(probability["dataset"] == dataset) & (probability["k"] == full)]
        if len(chances):
            lead = chances.sort_values("probability", ascending=False, kind="stable").iloc[0]
            text += (f"at k = {full}, {lead['optimizer']} is the best optimizer with probability "
                     f"{lead['probability']:.2f} (mean over {int(lead['blocks'])} blocks).")
        sentences.append(text.rstrip("; "))
    return sentences


def probability_table(probability):
    """P(best) per dataset and optimizer at k = 1 and at the largest k."""
    rows = []
    for (dataset, optimizer), part in probability.groupby(["dataset", "optimizer"], sort=False):
        part = part.sort_values("k")
        rows.append({"dataset": dataset, "optimizer": optimizer, "P(best), k = 1": f"{part['probability'].iloc[0]:.2f}",
                     f"P(best), k = {int(part['k'].iloc[-1])}": f"{part['probability'].iloc[-1]:.2f}"})
    return pd.DataFrame(rows)


def edge_text(edges, units):
    """(sentence, table) of the units whose chosen value lies in the outer tenth of a dimension's range."""
    if not _usable(edges):
        return f"None of the {units} units chose a value in the outer tenth of any dimension's range.", None
    flagged = edges[list(UNIT)].drop_duplicates()
    shown = edges.assign(value=edges["value"].map(_value), position=edges["position"].map(lambda v: f"{v:.2f}"))
    return (f"{len(flagged)} of {units} units chose a value in the outer tenth of a dimension's range (on its scale): "
            f"the search space may be too narrow there.", shown[["dataset", "initializer", "regularizer", "optimizer",
                                                                 "dimension", "value", "position", "side"]])


def protocol_sentences_sensitivity(flips, ranks):
    """Per factor: how many verdicts changed between the protocols, and whether the level order did."""
    name_a = flips["protocol_a"].iloc[0] if "protocol_a" in flips else "a"
    name_b = flips["protocol_b"].iloc[0] if "protocol_b" in flips else "b"
    sentences = []
    for factor, part in flips.groupby("factor", sort=False):
        overall = part[part["scope"] == "all"]
        text = (f"{factor}: {int(part['changed'].sum())} of {len(part)} verdicts differ between {name_a} and "
                f"{name_b} ({int(overall['changed'].sum())} of {len(overall)} across datasets)")
        order = ranks[ranks["factor"] == factor] if _usable(ranks) else ranks
        if _usable(order):
            first = order.iloc[0]
            text += ("; the ranking of its levels changes, from " if first["ranking_changed"] else
                     "; the ranking of its levels holds: ")
            text += (f"{first['order_a']} to {first['order_b']}" if first["ranking_changed"] else first["order_a"])
            text += f" (mean ranks over {int(first['datasets'])} datasets)"
        sentences.append(text + ".")
    return sentences, name_a, name_b


def _flip_table(flips, name_a, name_b):
    changed = flips[flips["changed"]]
    if not len(changed):
        return None

    def interval(prefix):
        return [("–" if pd.isna(e) else f"{e:+.3f} [{lo:+.3f}, {hi:+.3f}]")
                for e, lo, hi in zip(changed[f"estimate_{prefix}"], changed[f"ci_low_{prefix}"],
                                     changed[f"ci_high_{prefix}"])]

    return pd.DataFrame({"factor": changed["factor"], "a": changed["level_a"], "b": changed["level_b"],
                         "scope": changed["scope"], f"a − b, {name_a}": interval("a"),
                         f"verdict, {name_a}": changed["verdict_a"].fillna("–"), f"a − b, {name_b}": interval("b"),
                         f"verdict, {name_b}": changed["verdict_b"].fillna("–")})


def section_html(frames, figures_dir, table_html):
    """The Tuning ``<section>``, or None when the study has no tuning tables.

    frames : {name: frame or None}, read from results/tables/. figures_dir :
    where the section's figures are saved. table_html : the page's
    frame-to-HTML function.
    """
    trials, chosen = frames.get("tuning_trials"), frames.get("tuning_chosen")
    if not (_usable(trials) and _usable(chosen)):
        return None
    # matplotlib only when there is something to draw, as for the page's other figures.
    from nnstudy.report import tuning_figures

    esc = html.escape
    parts = ['<section id="tuning">', "<h2>Tuning</h2>"]
    parts += [f"<p>{esc(s)}</p>" for s in protocol_sentences(trials, chosen)]
    parts.append("<details><summary>The search space of each optimizer and regularizer</summary>"
                 + table_html(search_space_table(trials), table_id="table-search_space") + "</details>")
    datasets = list(dict.fromkeys(trials["dataset"]))
    summary, probability = frames.get("budget_summary"), frames.get("best_optimizer_probability")
    if _usable(summary) and _usable(probability):
        parts.append("<h3>What the budget buys</h3>")
        parts.append('<ul class="points">' + "".join(f"<li>{esc(s)}</li>"
                                                     for s in budget_sentences(summary, probability)) + "</ul>")
        for dataset in datasets:
            if (summary["dataset"] == dataset).any():
                parts.append(_figure_html(tuning_figures.draw(
                    lambda d=dataset: tuning_figures.budget_figure(summary, d), figures_dir,
                    f"tuning_budget-{dataset}", f"Budget curves, {dataset}"), _runs(trials, dataset)))
        parts.append(_figure_html(tuning_figures.draw(
            lambda: tuning_figures.probability_figure(probability), figures_dir, "tuning_best_optimizer",
            "Probability of the best optimizer"), len(trials)))
        parts.append(table_html(probability_table(probability), table_id="table-best_optimizer_probability"))
    edges = frames.get("tuning_edges")
    if edges is not None:
        sentence, table = edge_text(edges, len(chosen))
        parts.append("<h3>Chosen values at the edge of the search space</h3>")
        parts.append(f"<p>{esc(sentence)}</p>")
        if table is not None:
            parts.append(table_html(table, table_id="table-tuning_edges"))
    parts.append("<h3>Hyperparameters against dev accuracy</h3>")
    for dataset in datasets:
        if not tuning_figures.searched_dimensions(trials[trials["dataset"] == dataset]):
            continue
        parts.append(_figure_html(tuning_figures.draw(
            lambda d=dataset: tuning_figures.hyperparameter_figure(trials, chosen, d), figures_dir,
            f"tuning_hyperparameters-{dataset}", f"Hyperparameters, {dataset}"), _runs(trials, dataset)))
    flips, ranks = frames.get("protocol_sensitivity"), frames.get("protocol_ranks")
    if _usable(flips):
        sentences, name_a, name_b = protocol_sentences_sensitivity(flips, ranks)
        parts.append("<h3>Protocol sensitivity</h3>")
        parts.append(f"<p>The same data analysed under two tuning protocols, {esc(str(name_a))} and "
                     f"{esc(str(name_b))}: each verdict of the comparison machinery under both.</p>")
        parts.append('<ul class="points">' + "".join(f"<li>{esc(s)}</li>" for s in sentences) + "</ul>")
        changed = _flip_table(flips, name_a, name_b)
        if changed is not None:
            parts.append(table_html(changed, table_id="table-protocol_flips"))
        if _usable(ranks):
            shown = ranks[["factor", "level", "mean_rank_a", "mean_rank_b"]].rename(
                columns={"mean_rank_a": f"mean rank, {name_a}", "mean_rank_b": f"mean rank, {name_b}"})
            parts.append("<details><summary>Mean ranks of the levels under each protocol</summary>"
                         + table_html(shown.round(2), table_id="table-protocol_ranks") + "</details>")
    parts.append('<p class="files files-list">Tables: results/tables/tuning_trials.csv, tuning_chosen.csv, budget_curves.csv, '
                 "budget_summary.csv, best_optimizer_probability.csv, tuning_edges.csv"
                 + (", protocol_sensitivity.csv, protocol_ranks.csv" if _usable(flips) else "") + ".</p>")
    parts.append("</section>")
    return "\n".join(parts)
