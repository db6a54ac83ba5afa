"""Train one (dataset, optimizer, regularizer) cell: every initializer x seed as one batch."""

import time

from common import start_log

log = start_log(snakemake)

import nnstudy
from nnstudy import io
from nnstudy.study import grid as study, tuning

start = time.perf_counter()
config = snakemake.params.config
dataset = snakemake.wildcards.dataset
optimizer = snakemake.wildcards.optimizer
regularizer = snakemake.wildcards.regularizer

pool = io.read_pool(snakemake.input.data)
chosen = snakemake.input.chosen or None
hyperparameters = tuning.study_hyperparameters(config, optimizer, regularizer, chosen)
for initializer, values in hyperparameters.items():
    log.info("%s / %s / %s / %s: %s", dataset, initializer, optimizer, regularizer, values)

outcome, rows = study.train_cell(config, dataset, optimizer, regularizer, pool, hyperparameters)
grid = study.boundary_probe(pool)
io.write_run(
    snakemake.output.run,
    outcome,
    {"config": config, "cell": [dataset, optimizer, regularizer], "dataset": pool.metadata,
     "boundary_axes": None if grid is None else grid[0]},
)
io.write_rows(snakemake.output.rows, rows)
statuses = {s: sum(r["status"] == s for r in rows) for s in {r["status"] for r in rows}}
log.info("trained %d models for %d steps: %s", len(rows), outcome.result.steps, statuses)
io.write_timing(
    snakemake.output.timing,
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
