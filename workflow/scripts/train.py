"""Train one (dataset, optimizer)'s cells: each regularizer's every initializer x seed as one batch."""

import time

from common import name_cell, start_log

log = start_log(snakemake)

import nnstudy
from nnstudy import io
from nnstudy.study import grid as study, tuning

config = snakemake.params.config
dataset = snakemake.wildcards.dataset
optimizer = snakemake.wildcards.optimizer
regularizers = snakemake.params.regularizers
pool = io.read_pool(snakemake.input.data)
grid = study.boundary_probe(pool)
# One chosen table per cell (search protocol), one rate for all (grid), or none (fixed rates).
chosen = list(snakemake.input.chosen)

for k, regularizer in enumerate(regularizers):
    start = time.perf_counter()
    name_cell(snakemake, regularizer)
    chosen_file = chosen[k] if len(chosen) == len(regularizers) else (chosen[0] if chosen else None)
    hyperparameters = tuning.study_hyperparameters(config, optimizer, regularizer, chosen_file)
    for initializer, values in hyperparameters.items():
        log.info("%s / %s / %s / %s: %s", dataset, initializer, optimizer, regularizer, values)

    outcome, rows = study.train_cell(config, dataset, optimizer, regularizer, pool, hyperparameters)
    io.write_run(
        snakemake.output.run[k],
        outcome,
        {"config": config, "cell": [dataset, optimizer, regularizer], "dataset": pool.metadata,
         "boundary_axes": None if grid is None else grid[0]},
    )
    io.write_rows(snakemake.output.rows[k], rows)
    statuses = {s: sum(r["status"] == s for r in rows) for s in {r["status"] for r in rows}}
    log.info("trained %d models for %d steps: %s", len(rows), outcome.result.steps, statuses)
    io.write_timing(
        snakemake.output.timing[k],
        stage="train",
        dataset=dataset,
        optimizer=optimizer,
        regularizer=regularizer,
        models=len(rows),
        steps=outcome.result.steps,
        training_seconds=outcome.result.wall_time,
        seconds=time.perf_counter() - start,
        nnstudy_version=nnstudy.__version__,
    )
