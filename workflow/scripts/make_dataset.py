"""Generate (or read) one dataset: its pool and the split of the first seed, into HDF5."""

from common import start_log

log = start_log(snakemake)

from nnstudy import io
from nnstudy.study import grid as study

config = snakemake.params.config
name = snakemake.wildcards.dataset
pool = study.build_pool(config, name)
splits = study.reference_split(config, name, pool)
io.write_dataset(snakemake.output[0], splits, pool=pool)
log.info(
    "%s: %d features, %d classes, train/dev/test %d/%d/%d per seed",
    name,
    splits.n_features,
    splits.n_classes,
    splits.X_train.shape[1],
    splits.X_dev.shape[1],
    splits.X_test.shape[1],
)
