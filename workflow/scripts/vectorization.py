"""Time explicit Python loops against their vectorized NumPy forms."""

from common import start_log

log = start_log(snakemake)

from nnstudy import io
from nnstudy.lectures.vectorization import measure

rows = measure()
io.write_rows(snakemake.output[0], rows)
for row in rows:
    log.info("%s at %d: %.0fx faster vectorized", row["operation"], row["size"], row["speedup"])
