"""Train one dataset's variance decomposition: one source of randomness varied at a time."""

from common import start_log

log = start_log(snakemake)

from nnstudy import io, records
from nnstudy.study import variance

config = snakemake.params.config
dataset = snakemake.wildcards.dataset
optimizer = config["variance_decomposition"]["optimizer"]
pool = io.read_pool(snakemake.input.data)
learning_rate = records.study_rate(config, optimizer, snakemake.input.chosen or None)
rows = variance.train_decomposition(config, dataset, pool, learning_rate)
io.write_rows(snakemake.output[0], rows)
log.info("%s: %d models at learning rate %g", dataset, len(rows), learning_rate)
