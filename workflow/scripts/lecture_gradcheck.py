"""Gradient checks at initialization and after training, with deliberately broken backward passes."""

from common import start_log

log = start_log(snakemake)

from nnstudy import io
from nnstudy.lectures import gradcheck_practice, write_tables

config = snakemake.params.config
splits = io.read_dataset(snakemake.input.data[0])
tables = gradcheck_practice.stage(config, splits)
for row in tables["gradcheck_practice"]:
    if row["block"] == "all":
        log.info("%s at %s: difference %.3g, worst block %s", row["bug"], row["moment"], row["difference"],
                 row["worst_block"])
write_tables(tables, dict(snakemake.output.items()), {"config": config, "split": gradcheck_practice.SPLIT})
