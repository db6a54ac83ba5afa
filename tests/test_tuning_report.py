"""The report's Tuning section, drawn from synthetic tuning, budget and protocol tables."""

import re

import pandas as pd
import pytest

from nnstudy.analysis import budget, protocols
from nnstudy.report import tuning_sections
from nnstudy.report.page import html_table
from test_budget import CHANCE, chosen_table, frame, unit_rows

UNITS = [(d, i, "none", o) for d in ("moons", "circles") for i in ("he", "xavier") for o in ("gd", "adam")]


@pytest.fixture(scope="module")
def tables():
    parts = []
    for n, unit in enumerate(UNITS):
        dev = [0.6 + 0.05 * ((t * (n + 3)) % 7) + 0.02 * (unit[3] == "adam") for t in range(6)]
        parts.append(unit_rows(unit, dev, diverged=(5,) if unit[3] == "gd" else (), seed=n))
    trials = frame(*parts)
    trials["beta1"] = trials["learning_rate"].where(trials["optimizer"] == "adam") * 10
    trials["position_beta1"] = trials["position_learning_rate"].where(trials["optimizer"] == "adam")
    chosen = chosen_table(trials)
    chosen["edges"] = ["learning_rate" if p > 0.9 else "" for p in chosen["position_learning_rate"]]
    out = {"tuning_trials": trials, "tuning_chosen": chosen}
    out.update(budget.budget_tables(trials, chosen, CHANCE, samples=50))
    return out


def verdict_rows(estimate):
    rows = []
    for scope in ("all", "dataset=moons", "dataset=circles"):
        rows.append({"factor": "optimizer", "level_a": "gd", "level_b": "adam", "scope": scope, "estimate": estimate,
                     "ci_low": estimate - 0.01, "ci_high": estimate + 0.01, "p_holm": 0.001,
                     "p_a_better": 0.0, "p_equivalent": 0.0, "p_b_better": 1.0,
                     "verdict": "a better" if estimate > 0 else "b better"})
    return pd.DataFrame(rows)


def test_no_tuning_tables_no_section(tmp_path):
    assert tuning_sections.section_html({}, tmp_path, html_table) is None
    assert tuning_sections.section_html({"tuning_trials": None, "tuning_chosen": None}, tmp_path, html_table) is None
    assert not list(tmp_path.iterdir())


def test_the_section_states_the_protocol_and_embeds_one_figure_per_dataset_and_kind(tables, tmp_path):
    text = tuning_sections.section_html(tables, tmp_path, html_table)
    assert '<section id="tuning">' in text
    assert "Each of the 8 tuning units" in text and "trained 6 trials" in text and "2 tuning seeds (0, 1)" in text
    diverged = int((tables["tuning_trials"]["status"] == "diverged").sum())
    assert f"of which {diverged} diverged" in text
    assert sorted(p.name for p in tmp_path.glob("*.png")) == [
        "tuning_best_optimizer.png", "tuning_budget-circles.png", "tuning_budget-moons.png",
        "tuning_hyperparameters-circles.png", "tuning_hyperparameters-moons.png"]
    assert text.count("<img ") == 5
    assert "Protocol sensitivity" not in text


def test_budget_sentences_read_the_summary_and_probability_tables(tables):
    sentences = tuning_sections.budget_sentences(tables["budget_summary"], tables["best_optimizer_probability"])
    assert len(sentences) == 2
    summary = tables["budget_summary"]
    full = summary[(summary["dataset"] == "moons") & (summary["regularizer"] == "all") & (summary["k"] == 6)]
    best = full.sort_values("dev_accuracy").iloc[-1]
    assert f"to {best['dev_accuracy']:.3f} ({best['optimizer']}, test {best['test_accuracy']:.3f})" in sentences[0]
    probability = tables["best_optimizer_probability"]
    lead = probability.query("dataset == 'moons' and k == 6").sort_values("probability").iloc[-1]
    assert f"{lead['optimizer']} is the best optimizer with probability {lead['probability']:.2f}" in sentences[0]


def test_every_edge_unit_is_listed_with_its_dimension_and_value(tables, tmp_path):
    edges = tables["tuning_edges"]
    assert len(edges) > 0
    text = tuning_sections.section_html(tables, tmp_path, html_table)
    units = len(edges[list(budget.UNIT)].drop_duplicates())
    assert f"{units} of 8 units chose a value in the outer tenth" in text
    shown = re.search(r'<table[^>]*id="table-tuning_edges".*?</table>', text, re.S).group(0)
    assert shown.count("<tr>") == len(edges) + 1
    assert "learning_rate" in shown and "high" in shown
    no_edges = {**tables, "tuning_edges": edges.iloc[:0]}
    assert "None of the 8 units" in tuning_sections.section_html(no_edges, tmp_path, html_table)


def test_the_protocol_subsection_lists_the_flips_and_the_rank_change(tables, tmp_path):
    flips, ranks = protocols.protocol_sensitivity(verdict_rows(-0.05), verdict_rows(0.04), names=("lr_grid", "search"))
    text = tuning_sections.section_html({**tables, "protocol_sensitivity": flips, "protocol_ranks": ranks}, tmp_path,
                                        html_table)
    assert "Protocol sensitivity" in text
    assert "optimizer: 3 of 3 verdicts differ between lr_grid and search (1 of 1 across datasets)" in text
    assert "the ranking of its levels changes, from adam &gt; gd to gd &gt; adam" in text
    flipped = re.search(r'<table[^>]*id="table-protocol_flips".*?</table>', text, re.S).group(0)
    assert flipped.count("<tr>") == 4 and "+0.040 [+0.030, +0.050]" in flipped


def test_a_dataset_without_searched_dimensions_gets_no_hyperparameter_figure(tables, tmp_path):
    trials = tables["tuning_trials"].copy()
    positions = [c for c in trials.columns if c.startswith("position_")]
    trials.loc[trials["dataset"] == "circles", positions] = float("nan")
    text = tuning_sections.section_html({**tables, "tuning_trials": trials}, tmp_path, html_table)
    assert "tuning_hyperparameters-moons" in text and "tuning_hyperparameters-circles" not in text


def test_one_tuning_seed_and_integer_hyperparameters_read_naturally(tables):
    trials = tables["tuning_trials"]
    one = trials[trials["seed"] == 0].assign(patience=lambda f: f["trial"] + 2.0)
    (sentence, _), space = tuning_sections.protocol_sentences(one, tables["tuning_chosen"]), \
        tuning_sections.search_space_table(one)
    assert "on tuning seed 0:" in sentence
    assert "patience 2–7" in space["searched (trials' range)"].iloc[0]
