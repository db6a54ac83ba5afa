"""Mean-field signal propagation: theory over a grid, the critical line, and random networks beside it."""

from common import start_log

log = start_log(snakemake)

from nnstudy.lectures import signal_propagation, write_tables

config = snakemake.params.config
tables = signal_propagation.stage(config)
for name, n_rows in write_tables(tables, dict(snakemake.output.items()), {"config": config}).items():
    log.info("%s: %d rows", name, n_rows)
