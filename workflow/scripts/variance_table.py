"""Collect every dataset's decomposition runs into the variance decomposition table."""

from common import start_log

log = start_log(snakemake)

import pandas as pd

from nnstudy import io
from nnstudy.study import variance

runs = [row for path in snakemake.input for row in io.read_rows(path)]
table = pd.DataFrame(variance.decomposition_rows(runs))
io.write_table(table, snakemake.output[0], {"config": snakemake.params.config})
log.info("variance decomposition: %d rows from %d runs", len(table), len(runs))
