"""The basic recipe's bias / variance reading of every combination of the grid."""

from common import start_log

log = start_log(snakemake)

import pandas as pd

from nnstudy.lectures import bias_variance, write_tables

config = snakemake.params.config
tables = bias_variance.reading_stage(config, pd.read_csv(snakemake.input.runs))
log.info("readings: %s", tables["bias_variance"]["reading"].value_counts().to_dict())
write_tables(tables, dict(snakemake.output.items()), {"config": config})
