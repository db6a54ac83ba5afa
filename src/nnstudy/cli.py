"""The ``nnstudy`` command line: try one combination, replicate the course, or analyze a runs table."""

import argparse
import os
import sys
from pathlib import Path

from nnstudy import __version__, paths
from nnstudy.config import CLI_DEFAULTS as DEFAULTS
from nnstudy.errors import ConfigError, DataError, invalid


# Models trained by one `nnstudy train` call (one per seed), all held in memory
# as one batch: a typo such as --seeds 0-100000 would otherwise try to allocate
# them all. Larger studies belong in the workflow, which splits them into jobs.
MAX_MODELS_PER_CALL = 1024


def parse_seeds(text):
    """"0-31" -> [0, ..., 31]; "1,5,9" -> [1, 5, 9]; "7" -> [7].

    At most :data:`MAX_MODELS_PER_CALL` seeds, counted before any range is
    expanded.
    """
    parts = []
    try:
        for part in text.split(","):
            if "-" in part.strip()[1:]:
                low, high = part.split("-", 1)
                parts.append(range(int(low), int(high) + 1))
            else:
                parts.append([int(part)])
    except ValueError:
        raise invalid("--seeds", text, "a range like 0-31 or a list like 1,5,9") from None
    count = sum(len(part) for part in parts)
    if count > MAX_MODELS_PER_CALL:
        raise invalid(
            "--seeds",
            text,
            f"at most {MAX_MODELS_PER_CALL} seeds (one model each) per call, not {count}: "
            "split the seeds over several calls, or run a study with the workflow",
        )
    seeds = [seed for part in parts for seed in part]
    if not seeds or len(set(seeds)) != len(seeds) or min(seeds) < 0:
        raise invalid("--seeds", text, "distinct non-negative seeds")
    return seeds


def parse_layers(text):
    """"10,5" -> [10, 5]; "" -> [] (logistic regression); "10,,5" is refused."""
    allowed = "comma-separated positive sizes like 10,5 (empty for none)"
    if not text.strip():
        return []
    try:
        layers = [int(n) for n in text.split(",")]
    except ValueError:
        raise invalid("--layers", text, allowed) from None
    if any(n < 1 for n in layers):
        raise invalid("--layers", text, allowed)
    return layers


def check_output_path(option, path):
    """Refuse an output ``path`` that cannot be written, before any work is done.

    The file is written under a temporary name in its folder and renamed, so
    the folder (or, if it does not exist yet, the nearest existing parent
    folder, where it will be created) must accept a new file. Trying that is
    the only check that also holds for root and read-only file systems.
    """
    import tempfile

    path = Path(path)
    if path.is_dir():
        raise invalid(option, str(path), "a file name, not a folder")
    folder = path.parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        raise invalid(option, str(path), f"a path inside a folder ({folder} is not a folder)")
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise invalid(option, str(path), f"a writable location ({folder}: {err.strerror})") from None


def load_splits(dataset, data_seed, dev_fraction, test_fraction):
    """A dataset from a generator name, a .mat file, a cat/non-cat folder or an nnstudy .h5."""
    from nnstudy import io
    from nnstudy.data import datasets

    path = Path(dataset)
    if dataset in datasets.GENERATORS:
        return datasets.make_dataset(dataset, data_seed, None, dev_fraction, test_fraction)
    if path.suffix == ".mat":
        return datasets.make_dataset("mat", data_seed, None, dev_fraction, path=path)
    if path.is_dir():
        return datasets.make_dataset("cat", data_seed, None, dev_fraction, path=path)
    if path.suffix in (".h5", ".hdf5"):
        return io.read_dataset(path)
    raise invalid(
        "--dataset",
        dataset,
        "a generator (" + ", ".join(datasets.GENERATORS) + "), a .mat file, "
        "a folder with the cat/non-cat files, or an nnstudy dataset .h5",
    )


def command_train(args):
    import numpy as np

    from nnstudy import io
    from nnstudy.study.experiment import ModelSpec, architecture_for, run_batch
    from nnstudy.core.regularizers import regularizer_settings
    from nnstudy.core.training import TrainConfig

    seeds = parse_seeds(args.seeds)
    layers = parse_layers(args.layers)
    if args.out:
        check_output_path("--out", args.out)
    splits = load_splits(args.dataset, args.data_seed, args.dev_fraction, args.test_fraction)
    arch = architecture_for(splits, layers, args.activation)
    settings = regularizer_settings(
        args.regularizer, lambd=args.lambd, keep_prob=args.keep_prob, patience=args.patience
    )
    specs = [
        ModelSpec(args.init, seed, args.learning_rate, args.scale, **settings) for seed in seeds
    ]
    config = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        schedule=args.decay,
        decay_rate=args.decay_rate,
        decay_interval=args.decay_interval,
        eval_every=args.eval_every,
    )
    optimizer_params = {
        "beta": args.beta,
        "beta1": args.beta1,
        "beta2": args.beta2,
        "epsilon": args.epsilon,
    }
    outcome = run_batch(splits, arch, args.optimizer, optimizer_params, config, specs, engine=args.engine)

    columns = ("seed", "status", "train_accuracy", "dev_accuracy", "test_accuracy", "final_cost")
    print(" ".join(f"{c:>14}" for c in columns))
    for row in outcome.rows():
        print(" ".join(f"{row[c]:>14.4f}" if isinstance(row[c], float) else f"{row[c]:>14}" for c in columns))
    for key in ("train_accuracy", "dev_accuracy", "test_accuracy"):
        values = outcome.metrics[key]
        print(f"{key}: mean {np.nanmean(values):.4f}, std {np.nanstd(values):.4f} over {len(seeds)} seeds")
    print(f"trained {len(seeds)} models x {outcome.result.steps} steps in {outcome.result.wall_time:.2f} s")
    if args.out:
        metadata = {
            "command": "train",
            "arguments": {k: v for k, v in vars(args).items() if k != "func"},
            "architecture": list(arch.layer_sizes),
            "output": arch.output,
            "dataset": splits.metadata,
        }
        io.write_run(args.out, outcome, metadata)
        print(f"wrote {args.out}")


def command_replicate(args):
    from nnstudy import io
    from nnstudy.study.replication import run_all

    experiments = args.experiments.split(",") if args.experiments else None
    check_output_path("--out", args.out)
    table, skipped = run_all(args.data_dir, experiments)
    for experiment, reason in skipped:
        print(f"skipped {experiment}: {reason}", file=sys.stderr)
    io.write_table(table, args.out, {"command": "replicate", "skipped": skipped})
    print(table.to_string(index=False))
    print(f"wrote {args.out}")


def command_analyze(args):
    import pandas as pd

    from nnstudy.analysis import analyze as analysis, verdicts

    runs = pd.read_csv(args.runs)
    missing = sorted({"dataset", "seed", "status", "test_accuracy", "train_accuracy", *verdicts.FACTORS}
                     - set(runs.columns))
    if missing:
        raise invalid("RUNS", args.runs, f"a runs table with the columns of {paths.table('runs')} "
                      f"(missing: {', '.join(missing)})")
    chance = pd.read_csv(args.datasets).set_index("dataset")[["chance_train", "chance_test", "n_train"]] \
        if args.datasets else None
    # Levels in the order the table lists them (runs.csv follows the configuration).
    levels = {f: list(dict.fromkeys(runs[f])) for f in verdicts.FACTORS}
    tables = analysis.analysis_tables(verdicts.prepare_runs(runs, chance), levels, rope=args.rope,
                                      target=args.target_effect)
    for path in analysis.write_analysis(tables, args.out):
        print(f"wrote {path}")
    counts = tables["verdicts"]["verdict"].value_counts()
    print("verdicts: " + ", ".join(f"{counts.get(v, 0)} {v}" for v in verdicts.VERDICTS))


def build_parser():
    from nnstudy.core.engines import ENGINES
    from nnstudy.core.initializers import INITIALIZERS
    from nnstudy.core.network import ACTIVATIONS
    from nnstudy.core.optimizers import OPTIMIZERS
    from nnstudy.core.regularizers import REGULARIZERS
    from nnstudy.core.schedules import SCHEDULES

    parser = argparse.ArgumentParser(
        prog="nnstudy",
        description="Train small fully-connected networks, many seeds at once, "
        "and replicate the course experiments.",
    )
    parser.add_argument("--version", action="version", version=f"nnstudy {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser(
        "train",
        help="train one combination over a range of seeds (one batch)",
        description="Train one initializer x regularizer x optimizer combination on one "
        "dataset over a range of seeds, all seeds as one batch; print per-seed and "
        "summary accuracies and optionally write the run to HDF5.",
    )
    data = train.add_argument_group("data")
    data.add_argument("--dataset", required=True,
                      help="generator name (circles, moons, spirals, football, breast_cancer, "
                      "digits), a .mat file, a folder with the cat/non-cat .h5 files, or an "
                      "nnstudy dataset .h5")
    data.add_argument("--data-seed", type=int, default=DEFAULTS["data_seed"], help="seed of data generation and splits (default %(default)s)")
    data.add_argument("--dev-fraction", type=float, default=DEFAULTS["dev_fraction"], help="share of the pool for the dev split (default %(default)s)")
    data.add_argument("--test-fraction", type=float, default=DEFAULTS["test_fraction"], help="share of the pool for the test split (default %(default)s)")
    model = train.add_argument_group("model")
    model.add_argument("--layers", default="10,5", help="hidden layer sizes, comma-separated (default 10,5; empty for logistic regression)")
    model.add_argument("--activation", default=DEFAULTS["activation"], choices=sorted(ACTIVATIONS), help="hidden activation (default %(default)s)")
    model.add_argument("--init", default="he", choices=list(INITIALIZERS), help="weight initializer (default he)")
    model.add_argument("--scale", type=float, default=None, help="std of 'random' / 'small' weights (defaults 10 and 0.01)")
    reg = train.add_argument_group("regularization")
    reg.add_argument("--regularizer", default="none", choices=list(REGULARIZERS), help="regularizer (default none)")
    reg.add_argument("--lambd", type=float, default=DEFAULTS["lambd"], help="L2 strength lambda for l2 / l2_dropout (default %(default)s)")
    reg.add_argument("--keep-prob", type=float, default=DEFAULTS["keep_prob"], help="dropout keep probability (default %(default)s)")
    reg.add_argument("--patience", type=int, default=DEFAULTS["patience"], help="early stopping: records without dev improvement (default %(default)s)")
    opt = train.add_argument_group("optimization")
    opt.add_argument("--optimizer", default="gd", choices=list(OPTIMIZERS), help="optimizer (default gd; gd with --batch-size is mini-batch SGD)")
    opt.add_argument("--learning-rate", type=float, default=0.01, help="learning rate (default 0.01)")
    opt.add_argument("--epochs", type=int, default=1000, help="passes over the training set (default 1000)")
    opt.add_argument("--batch-size", type=int, default=None, help="mini-batch size (default: full batch)")
    opt.add_argument("--beta", type=float, default=DEFAULTS["beta"], help="momentum coefficient (default %(default)s)")
    opt.add_argument("--beta1", type=float, default=DEFAULTS["beta1"], help="Adam first-moment decay (default %(default)s)")
    opt.add_argument("--beta2", type=float, default=DEFAULTS["beta2"], help="RMSprop / Adam second-moment decay (default %(default)s)")
    opt.add_argument("--epsilon", type=float, default=DEFAULTS["epsilon"], help="RMSprop / Adam epsilon, added after the square root (default %(default)s)")
    opt.add_argument("--decay", default="constant", choices=list(SCHEDULES), help="learning-rate schedule per epoch (default constant)")
    opt.add_argument("--decay-rate", type=float, default=0.0, help="decay rate of the schedule (default 0)")
    opt.add_argument("--decay-interval", type=int, default=1, help="epochs per step of the 'step' schedule (default 1)")
    run = train.add_argument_group("run")
    run.add_argument("--seeds", default="0", help=f"seeds, e.g. 0-31 or 1,5,9 (default 0; at most {MAX_MODELS_PER_CALL}); trained as one batch")
    run.add_argument("--engine", default="auto", choices=["auto", *ENGINES],
                     help="training engine (default auto: the fastest that supports the run, logged)")
    run.add_argument("--eval-every", type=int, default=100, help="steps between history records (default 100)")
    run.add_argument("--out", default=None, help="write the run (parameters, history, config) to this HDF5 file "
                     "(checked to be writable before training)")
    train.set_defaults(func=command_train)

    replicate = sub.add_parser(
        "replicate",
        help="rerun the course experiments and write their numbers",
        description="Rerun the course experiments (initialization, optimization, "
        "regularization, gradient checking, logistic regression) under the course's "
        "seeding protocol and write a tidy table: experiment, variant, metric, value.",
    )
    replicate.add_argument("--out", required=True, help="CSV file to write")
    replicate.add_argument("--data-dir", default=None,
                           help="folder with data.mat and the cat/non-cat .h5 files "
                           "(default: $NNSTUDY_DATA_DIR); experiments whose files are "
                           "missing are skipped with a message")
    replicate.add_argument("--experiments", default=None,
                           help="comma-separated subset of initialization, optimization, "
                           "regularization, gradient_check, logistic_regression (default: all)")
    replicate.set_defaults(func=command_replicate)

    analyze = sub.add_parser(
        "analyze",
        help="compute every statistics table and the verdicts from a runs table",
        description="Compare the levels of each factor (initializer, regularizer, optimizer) "
        f"in a runs table with the columns of {paths.table('runs')}: verdicts per pair and "
        "scope (DIR/verdicts.csv), interaction tests, IQM / mean / median with stratified "
        "bootstrap intervals, probabilities of improvement, critical-difference tables and "
        "diagrams, and a power panel.",
    )
    analyze.add_argument("runs", metavar="RUNS", help=f"runs table (CSV), e.g. {paths.table('runs')}")
    analyze.add_argument("--out", required=True, metavar="DIR", help="folder for the tables and figures")
    analyze.add_argument("--datasets", default=None,
                         help="the report's datasets table (dataset, chance_train, chance_test, n_train): "
                         "diverged runs then score the test chance rate and runs at chance count as "
                         "failures; without it only divergence counts")
    analyze.add_argument("--rope", type=float, default=DEFAULTS["rope"],
                         help="region of practical equivalence, in accuracy (default %(default)s)")
    analyze.add_argument("--target-effect", type=float, default=DEFAULTS["target_effect"],
                         help="effect the power panel sizes the design for (default %(default)s)")
    analyze.set_defaults(func=command_analyze)
    return parser


def single_threaded_blas():
    """One BLAS thread unless the user chose otherwise (before numpy loads).

    The networks are small: a BLAS call on them is over before a second
    thread has started, and handing work to threads made full-batch steps
    many times slower here. Parallelism comes from running jobs side by side.
    """
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")


def main(argv=None):
    single_threaded_blas()
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (ConfigError, DataError) as err:
        print(f"nnstudy {args.command}: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
