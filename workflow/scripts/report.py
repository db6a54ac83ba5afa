"""Render the comparison report from the tables and run files (no training)."""

from common import start_log

log = start_log(snakemake)

from nnstudy import provenance
from nnstudy.report import page as report
from nnstudy.report.table_names import BUDGET_TABLES, PROTOCOL_TABLES, TUNING_TABLES
from nnstudy.study.grid import model_seed

inputs = {
    name: getattr(snakemake.input, name) or None
    for name in (
        "runs", "summary", "curves", "learning_rates", "gradcheck", "timings", "replication", "vectorization",
        "variance_decomposition",
    )
}
# The tuning tables are inputs only of a study that tunes over a search space.
inputs.update({name: getattr(snakemake.input, name, None) or None
               for name in (*TUNING_TABLES, *BUDGET_TABLES, *PROTOCOL_TABLES)})
config = snakemake.params.config
data_files = dict(zip(config["datasets"], snakemake.input.data))
# The run files store each model's own seed; the report's tables name seed numbers.
seed_numbers = {(d, model_seed(d, s)): s for d in config["datasets"] for s in config["seeds"]}
counts = report.build(
    inputs,
    snakemake.input.run_files,
    data_files,
    config,
    table_outputs=[*snakemake.output.tables, *snakemake.output.text],
    figures_dir=snakemake.output.figures,
    html_path=snakemake.output.html,
    config_copy=snakemake.output.config,
    benchmarks_dir=snakemake.params.benchmarks,
    repo_dir=snakemake.params.repo,
    commit=provenance.git_state(snakemake.params.repo),
    seed_numbers=seed_numbers,
    workers=snakemake.threads,
)
log.info("report: %d tables, %d figures -> %s", counts["tables"], counts["figures"], snakemake.output.html)
