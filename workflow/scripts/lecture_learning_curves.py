"""Learning curves: training-set size against train and dev error."""

from common import start_log

log = start_log(snakemake)

from nnstudy import io
from nnstudy.lectures import bias_variance, write_tables
from nnstudy.lectures.summaries import with_summaries
from nnstudy.records import study_rate
from nnstudy.study.grid import replicate_splits

config = snakemake.params.config
section = config["lectures"]["learning_curves"]
splits, rates = {}, {}
for i, name in enumerate(section["datasets"]):
    pool = io.read_pool(snakemake.input.data[i])
    splits[name] = dict(zip(section["seeds"], replicate_splits(pool, name, section["seeds"])))
    chosen = snakemake.input.chosen[i] if snakemake.input.chosen else None
    rates[name] = study_rate(config, section["optimizer"], chosen)
    log.info("%s / %s: learning rate %g", name, section["optimizer"], rates[name])
tables = with_summaries("learning_curves", bias_variance.curves_stage(config, splits, rates))
for name, n_rows in write_tables(tables, dict(snakemake.output.items()), {"config": config, "split": bias_variance.SPLIT}).items():
    log.info("%s: %d rows", name, n_rows)
