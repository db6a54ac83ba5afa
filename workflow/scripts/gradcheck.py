"""Gradient-check every regularizer variant of one dataset's network through every engine; fail loudly."""

from common import start_log

log = start_log(snakemake)

from nnstudy import io
from nnstudy.study import grid as study

splits = io.read_dataset(snakemake.input.data)
rows, threshold = study.gradcheck_cell(snakemake.params.config, snakemake.wildcards.dataset, splits)
for row in rows:
    if row["block"] == "all":
        log.info(
            "%s %s %s: difference %.3g (tolerance %.3g)", row["architecture"], row["regularizer"],
            row["engine"], row["difference"], row["tolerance"],
        )
failure = study.gradcheck_failures(rows, threshold)
if failure:
    log.error(failure)
    raise SystemExit(failure)
io.write_rows(snakemake.output[0], rows)
