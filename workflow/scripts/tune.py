"""Train the learning-rate grid for one (dataset, optimizer); write the curve and the rate chosen."""

import time

from common import start_log

log = start_log(snakemake)

from nnstudy import io, records
from nnstudy.study import tuning

start = time.perf_counter()
config = snakemake.params.config
dataset, optimizer = snakemake.wildcards.dataset, snakemake.wildcards.optimizer
pool = io.read_pool(snakemake.input.data)
rows = tuning.tune(config, dataset, optimizer, pool)
io.write_rows(snakemake.output.curve, rows)
chosen = tuning.choose_learning_rate(rows)
records.write_chosen_rate(snakemake.output.chosen, dataset, optimizer, chosen)
log.info("%s / %s: chose learning rate %g", dataset, optimizer, chosen)
io.write_timing(
    snakemake.output.timing,
    stage="tune",
    dataset=dataset,
    optimizer=optimizer,
    models=len(rows),
    seconds=time.perf_counter() - start,
)
