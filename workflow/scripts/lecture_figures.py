"""Draw every enabled lecture stage's figure from its tables."""

from pathlib import Path

from common import start_log

log = start_log(snakemake)

from nnstudy.report import lecture_figures as figures

folder = Path(snakemake.output[0]).parent
captions = figures.draw_all(snakemake.params.config, dict(snakemake.input.items()), folder)
for stage, caption in captions.items():
    log.info("%s: %s", stage, caption)
