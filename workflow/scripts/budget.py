"""What the tuning budget buys: the budget tables from the tuning job's trials and choices."""

from common import start_log

log = start_log(snakemake)

import pandas as pd

from nnstudy import io
from nnstudy.analysis import budget, derived

trials = pd.read_csv(snakemake.input.trials)
chosen = pd.read_csv(snakemake.input.chosen)
data_files = dict(zip(snakemake.params.config["datasets"], snakemake.input.data))
# The chance rates of the report's datasets table: one definition of chance.
chance = derived.dataset_table(data_files, snakemake.params.config).set_index("dataset")
tables = budget.budget_tables(trials, chosen, chance)
for name, frame in tables.items():
    io.write_table(frame, snakemake.output[name], {"config": snakemake.params.config})
log.info("budget tables from %d trial rows of %d units", len(trials), len(chosen))
