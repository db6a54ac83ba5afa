"""Input normalization: raw against standardized features, rates, steps, cost surface."""

from common import start_log

log = start_log(snakemake)

from nnstudy.lectures import normalization, write_tables
from nnstudy.lectures.summaries import with_summaries

config = snakemake.params.config
tables = with_summaries("normalization", normalization.stage(config))
for row in tables["normalization"]:
    log.info("%s", row)
for name, n_rows in write_tables(tables, dict(snakemake.output.items()), {"config": config}).items():
    log.info("%s: %d rows", name, n_rows)
