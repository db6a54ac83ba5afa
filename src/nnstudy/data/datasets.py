"""Datasets: one entry point over the sources, the files and the splits.

Every source ends in the package layout: ``X`` of shape ``(n_features, m)``
(float64, samples on the last axis) and labels ``y`` of shape ``(m,)``
(int64, classes ``0..K-1``). :func:`make_dataset` is the one entry point;
the pieces it chains (generate or load, :func:`validate_arrays`,
:func:`split`, :func:`standardize`) are public so that each can be tested
on its own.

Only NumPy is imported here; scikit-learn, SciPy and h5py are imported
inside the functions that need them, so ``import nnstudy.data.datasets`` stays
cheap for code that only reads finished dataset files.

The pieces live in :mod:`nnstudy.data.generators` (built-in sources),
:mod:`nnstudy.data.files` (the course's files) and :mod:`nnstudy.data.splits`
(checking, splitting, standardization); their public names are re-exported
here.
"""

from pathlib import Path

from nnstudy.data.files import (  # noqa: F401
    CAT_TEST_FILE,
    CAT_TRAIN_FILE,
    FILE_SOURCES,
    MAT_FILE,
    FileData,
    file_origin,
    file_sha256,
    load_cat_h5,
    load_mat,
    source_files,
)
from nnstudy.data.generators import (  # noqa: F401
    GENERATORS,
    PACKAGE_SPLITS,
    PACKAGED,
    PARAMETER_CHECKS,
    breast_cancer,
    circles,
    classification,
    digits,
    football,
    gaussian_quantiles,
    generator_origin,
    generator_params,
    iris,
    mnist1d,
    moons,
    spirals,
    wine,
    xor,
)
from nnstudy.data.splits import (  # noqa: F401
    MAX_FEATURE_MAGNITUDE,
    MAX_TERMS,
    PARTS,
    STD_FLOOR,
    Pool,
    Splits,
    _check_seed,
    _child_seeds,
    one_hot_targets,
    output_layer,
    split,
    split_pool,
    standardize,
    validate_arrays,
)
from nnstudy.errors import check_choice, invalid

# Every source name a dataset may have.
SOURCES = tuple(GENERATORS) + tuple(PACKAGE_SPLITS) + FILE_SOURCES


def make_pool(name, seed, params=None, dev_fraction=0.2, test_fraction=0.2, standardize=True, path=None):
    """Generate (or read) the samples of one dataset description, unsplit.

    Arguments as for :func:`make_dataset`; ``seed`` seeds the generator's
    data stream. Returns a :class:`Pool`.
    """
    check_choice("dataset", name, SOURCES)
    seed = _check_seed(seed)
    data_seed, _ = _child_seeds(seed)
    metadata = {"dataset": name, "seed": seed, "data_seed": data_seed}
    if name in GENERATORS:
        if path is not None:
            raise invalid("path", path, f"None for the generated dataset {name!r}")
        resolved = generator_params(name, params)
        X, y = GENERATORS[name](data_seed, **resolved)
        X, y = validate_arrays(X, y, f"generator {name!r}")
        metadata.update(params=resolved, dev_fraction=dev_fraction, test_fraction=test_fraction,
                        origin=generator_origin(name, resolved, data_seed))
        return Pool(X, y, int(y.max()) + 1, dev_fraction, test_fraction, bool(standardize),
                    metadata=metadata)
    if params:
        raise invalid("params", params, f"no parameters for the dataset {name!r}")
    if name in PACKAGE_SPLITS:
        if path is not None:
            raise invalid("path", path, f"None for the generated dataset {name!r}")
        data = PACKAGE_SPLITS[name]()
        origin = generator_origin(name, {}, None)
    elif path is None:
        raise invalid("path", path, f"a path for the file dataset {name!r}")
    else:
        path = Path(path)
        data = load_mat(path) if name == "mat" else load_cat_h5(*source_files(name, path))
        origin = file_origin(source_files(name, path))
    metadata.update(
        params={},
        path=None if path is None else str(path),
        origin=origin,
        class_names=data.class_names,
        dev_fraction=dev_fraction,
        test_fraction=None,
    )
    return Pool(data.X_train, data.y_train, data.n_classes, dev_fraction, 0.0, bool(standardize),
                data.X_test, data.y_test, metadata)


def make_dataset(
    name,
    seed,
    params=None,
    dev_fraction=0.2,
    test_fraction=0.2,
    standardize=True,
    path=None,
):
    """Build a split, optionally standardized dataset from one description.

    ``name`` is a key of :data:`GENERATORS` (with ``params`` for it), of
    :data:`PACKAGE_SPLITS` (``"mnist1d"``), or ``"mat"`` (``path`` to a .mat
    file, see :func:`load_mat`) or ``"cat"`` (``path`` to a folder holding
    the two files of :func:`load_cat_h5`). For generators the whole pool is
    split by ``dev_fraction`` and ``test_fraction``; for files and package
    splits their own test set is the test part,
    the training pool is split into train and dev, and ``test_fraction`` is
    not used (recorded as ``None``). ``seed`` seeds both the data and the
    split, through two independent child seeds.

    Returns :class:`Splits` whose ``metadata`` records the source, the
    resolved parameters, the seeds, the fractions, the class counts of every
    part and whether the data were standardized (the statistics themselves
    are in ``splits.stats``).
    """
    pool = make_pool(name, seed, params, dev_fraction, test_fraction, standardize, path)
    _, split_seed = _child_seeds(pool.metadata["seed"])
    return split_pool(pool, split_seed)
