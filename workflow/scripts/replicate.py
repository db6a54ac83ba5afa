"""Rerun the course experiments under their own seeding protocol."""

from common import start_log

log = start_log(snakemake)

from nnstudy import io
from nnstudy.study.replication import run_all

table, skipped = run_all(snakemake.params.data_dir, snakemake.params.experiments)
for experiment, reason in skipped:
    log.warning("skipped %s: %s", experiment, reason)
io.write_table(table, snakemake.output[0], {"skipped": skipped, "data_dir": snakemake.params.data_dir})
log.info("%d numbers written", len(table))
