"""Generate (or read) one dataset, split and standardized, into HDF5."""

from common import start_log

log = start_log(snakemake)

from nnstudy import io, study

name = snakemake.wildcards.dataset
splits = study.build_dataset(snakemake.params.config, name)
io.write_dataset(snakemake.output[0], splits)
log.info(
    "%s: %d features, %d classes, train/dev/test %d/%d/%d",
    name,
    splits.n_features,
    splits.n_classes,
    splits.X_train.shape[1],
    splits.X_dev.shape[1],
    splits.X_test.shape[1],
)
