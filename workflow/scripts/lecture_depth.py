"""Depth sweep: per-layer norms at initialization and trainability, every initializer."""

from common import start_log

log = start_log(snakemake)

from nnstudy import io
from nnstudy.lectures import depth, write_tables
from nnstudy.lectures.summaries import with_summaries

config = snakemake.params.config
splits = io.read_dataset(snakemake.input.data[0])
tables = with_summaries("depth", depth.stage(config, splits))
for name, n_rows in write_tables(tables, dict(snakemake.output.items()), {"config": config, "split": depth.SPLIT}).items():
    log.info("%s: %d rows", name, n_rows)
