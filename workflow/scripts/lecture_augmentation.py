"""Data augmentation against L2, dropout and early stopping on the digits."""

from common import start_log

log = start_log(snakemake)

from nnstudy.lectures import augmentation, write_tables
from nnstudy.lectures.summaries import with_summaries
from nnstudy.records import study_rate

config = snakemake.params.config
section = config["lectures"]["augmentation"]
chosen = snakemake.input.chosen[0] if snakemake.input.chosen else None
rate = study_rate(config, section["optimizer"], chosen)
log.info("%s / %s: learning rate %g", section["dataset"], section["optimizer"], rate)
tables = with_summaries("augmentation", augmentation.stage(config, rate))
for row in augmentation.summary(tables["augmentation"]):
    log.info("%s", row)
write_tables(tables, dict(snakemake.output.items()), {"config": config, "split": augmentation.SPLIT})
