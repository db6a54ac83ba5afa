"""The trainability phase diagram: test accuracy over weight variance and depth, beside 6 xi_c."""

from common import start_log

log = start_log(snakemake)

from nnstudy import io
from nnstudy.lectures import trainability, write_tables

config = snakemake.params.config
splits = io.read_dataset(snakemake.input.data[0])
tables = trainability.stage(config, splits)
for name, n_rows in write_tables(tables, dict(snakemake.output.items()), {"config": config, "split": trainability.SPLIT}).items():
    log.info("%s: %d rows", name, n_rows)
