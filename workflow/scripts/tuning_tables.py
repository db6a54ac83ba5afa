"""Collect the search tuning jobs' trials and choices into two tables."""

from common import start_log

log = start_log(snakemake)

from nnstudy import io
from nnstudy.analysis import tables

config = snakemake.params.config
for name in ("trials", "chosen"):
    frame = tables.tuning_table(snakemake.input[name], config)
    io.write_table(frame, snakemake.output[name], {"config": config})
    log.info("tuning_%s: %d rows", name, len(frame))
