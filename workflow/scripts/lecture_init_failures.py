"""Why zeros, a constant and x10 weights fail: dead units, symmetry and saturated probabilities, measured."""

from common import start_log

log = start_log(snakemake)

from nnstudy import io
from nnstudy.lectures import init_failures, write_tables

config = snakemake.params.config
splits = io.read_dataset(snakemake.input.data[0])
tables = init_failures.stage(config, splits)
for name, n_rows in write_tables(tables, dict(snakemake.output.items()), {"config": config, "split": init_failures.SPLIT}).items():
    log.info("%s: %d rows", name, n_rows)
