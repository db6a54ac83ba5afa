"""Train one dataset's variance decomposition: one source of randomness varied at a time."""

from common import start_log

log = start_log(snakemake)

from nnstudy import io
from nnstudy.study import tuning, variance

config = snakemake.params.config
dataset = snakemake.wildcards.dataset
section = config["variance_decomposition"]
pool = io.read_pool(snakemake.input.data)
# The combination trains with what training gives it: its unit's choice.
values = tuning.study_hyperparameters(
    config, section["optimizer"], section["regularizer"], snakemake.input.chosen or None
)[section["initializer"]]
rows = variance.train_decomposition(config, dataset, pool, values)
io.write_rows(snakemake.output[0], rows)
log.info("%s: %d models with %s", dataset, len(rows), values)
