"""Which verdicts and level rankings change when the same grid is tuned by the other protocol."""

from common import start_log

log = start_log(snakemake)

from nnstudy import io
from nnstudy.analysis import derived, protocols, tables, verdicts

config = snakemake.params.config
data_files = dict(zip(config["datasets"], snakemake.input.data))
# The chance rates of the report's datasets table, as the report's verdicts use them.
chance = derived.dataset_table(data_files, config).set_index("dataset")[["chance_train", "chance_test", "n_train"]]
levels = {factor: list(config[f"{factor}s"]) for factor in verdicts.FACTORS}
found = []
for files in (snakemake.input.study, snakemake.input.other):
    runs = verdicts.prepare_runs(tables.runs_table(files, config), chance)
    found.append(verdicts.analyze_runs(runs, levels, rope=config["analysis"]["rope"])[0])
flips, ranks = protocols.protocol_sensitivity(*found, names=snakemake.params.protocols)
for name, frame in zip(snakemake.output.keys(), (flips, ranks)):
    io.write_table(frame, snakemake.output[name], {"config": config})
log.info(
    "%d of %d verdicts change between protocols %s",
    int(flips["changed"].sum()), len(flips), " and ".join(snakemake.params.protocols),
)
