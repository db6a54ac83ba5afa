"""Draw the search protocol's trials of every (optimizer, regularizer) once for the study."""

from common import start_log

log = start_log(snakemake)

from nnstudy import io
from nnstudy.study import tuning

rows = tuning.trial_rows(snakemake.params.config)
io.write_rows(snakemake.output[0], rows)
log.info("%d trials of %d units", len(rows), len({(r["optimizer"], r["regularizer"]) for r in rows}))
