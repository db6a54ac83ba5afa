"""Tune one (dataset, optimizer)'s cells: each regularizer's units, every trial x tuning seed as one batch."""

import time

from common import name_cell, start_log

log = start_log(snakemake)

from nnstudy import io
from nnstudy.study import tuning

config = snakemake.params.config
dataset = snakemake.wildcards.dataset
optimizer = snakemake.wildcards.optimizer
pool = io.read_pool(snakemake.input.data)
trial_rows = io.read_rows(snakemake.input.trials)

for k, regularizer in enumerate(snakemake.params.regularizers):
    start = time.perf_counter()
    name_cell(snakemake, regularizer)
    trials = tuning.trials_from_rows(config, trial_rows, optimizer, regularizer)
    outcome, rows = tuning.search_cell(config, dataset, optimizer, regularizer, pool, trials)
    io.write_rows(snakemake.output.trials[k], rows)
    chosen = tuning.choose(config, rows)
    io.write_rows(snakemake.output.chosen[k], chosen)
    for row in chosen:
        log.info(
            "%s / %s / %s / %s: trial %d, dev accuracy %.4f%s",
            dataset, row["initializer"], regularizer, optimizer, row["trial"], row["dev_accuracy"],
            f", at the edge of {row['edges']}" if row["edges"] else "",
        )
    io.write_timing(
        snakemake.output.timing[k],
        stage="search",
        dataset=dataset,
        optimizer=optimizer,
        regularizer=regularizer,
        models=len(rows),
        steps=outcome.result.steps,
        training_seconds=outcome.result.wall_time,
        seconds=time.perf_counter() - start,
    )
