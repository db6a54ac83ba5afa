"""Cross-check every cell's results, then collect every job's rows into the study's tables."""

from common import start_log

log = start_log(snakemake)

from nnstudy.analysis import tables
from nnstudy.study.integrity import ResultError, check_cells

try:
    # Nothing is written from results that disagree with the configuration.
    check_cells(snakemake.input.rows, snakemake.input.runs, snakemake.params.config)
except ResultError as error:
    # One message naming the file and the remedy, not a traceback.
    log.error(error)
    raise SystemExit(str(error))
written = tables.write_all(
    runs=snakemake.input.rows,
    run_files=snakemake.input.runs,
    tuning=snakemake.input.tuning,
    chosen=snakemake.input.chosen,
    gradcheck=snakemake.input.gradcheck,
    timings=snakemake.input.timings,
    outputs=dict(snakemake.output.items()),
    config=snakemake.params.config,
)
for name, n_rows in written.items():
    log.info("%s: %d rows", name, n_rows)
