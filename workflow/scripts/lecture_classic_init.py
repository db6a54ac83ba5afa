"""The classic initialization experiments: Glorot and Bengio's histograms, He et al.'s deep ReLU network, Saxe et al.'s deep linear networks."""

from common import start_log

log = start_log(snakemake)

from nnstudy import io
from nnstudy.lectures import classic_init, write_tables

config = snakemake.params.config
splits = io.read_dataset(snakemake.input.data[0])
tables = classic_init.stage(config, splits)
for name, n_rows in write_tables(tables, dict(snakemake.output.items()), {"config": config}).items():
    log.info("%s: %d rows", name, n_rows)
