"""The lecture stages: each claim shown on a small case whose answer is known."""

import copy
import functools
import math

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import REPO, snakemake
from nnstudy import lectures
from nnstudy.core import initializers, network
from nnstudy.data import datasets
from nnstudy.config import validated
from nnstudy.data.datasets import Splits, one_hot_targets
from nnstudy.errors import ConfigError
from nnstudy.core.gradcheck import gradient_check
from nnstudy.analysis import bias_variance as recipe
from nnstudy.lectures import augmentation, bias_variance, depth, gradcheck_practice, normalization

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
SCHEMA_DOC = yaml.safe_load(SCHEMA.read_text())
LECTURES = SCHEMA_DOC["properties"]["lectures"]["properties"]
SMOKE = yaml.safe_load((REPO / "config" / "smoke.yaml").read_text())
DEFAULT = yaml.safe_load((REPO / "config" / "config.yaml").read_text())


def moons(n_samples=300):
    return datasets.make_dataset("moons", 3, {"n_samples": n_samples, "noise": 0.2})


# ---------------------------------------------------------------------------
# Depth: signals grow or shrink by a constant factor per layer


@pytest.mark.parametrize("gain", [1.5, 0.5])
def test_a_30_layer_linear_net_scales_its_input_by_gain_to_the_depth(gain):
    # Every weight matrix is gain * I and every bias 0, so layer l outputs
    # gain**l * X exactly: the RMS grows (or shrinks) like gain**l.
    n, L = 4, 30
    arch = network.Architecture((n,) * (L + 1), "linear", "softmax")
    params = {}
    for l in range(1, L + 1):
        params[f"W{l}"] = gain * np.eye(n)[None]
        params[f"b{l}"] = np.zeros((1, n, 1))
    X = np.random.default_rng(0).standard_normal((n, 50))
    Y = one_hot_targets(np.arange(50) % n, n)
    rms, gradient = depth.layer_norms(params, X, Y, arch)
    x_rms = np.sqrt(np.mean(X**2))
    np.testing.assert_allclose(rms[0], x_rms * gain ** np.arange(1, L + 1), rtol=1e-10)
    assert rms[0, -1] / x_rms == pytest.approx(gain**L, rel=1e-10)
    assert depth.per_layer_factor(rms[0]) == pytest.approx(gain, rel=1e-10)
    assert np.all(np.isfinite(gradient)) and gradient.shape == (1, L)


def wide_gaussian_splits(n_features=256, m=200, seed=0):
    gen = np.random.default_rng(seed)
    X = gen.standard_normal((n_features, m))
    y = (X[0] > 0).astype(np.int64)
    empty = np.zeros((n_features, 0))
    return Splits(X, y, empty, np.zeros(0, np.int64), empty, np.zeros(0, np.int64), n_classes=2)


@functools.cache
def wide_growth(activation):
    splits = wide_gaussian_splits()
    variant_list = depth.variants({"xavier": {}, "he": {}}, activation, [0.8, 1.25])
    return depth.norms_at_initialization(splits, [12], 256, activation, variant_list, [0, 1])[1]


@pytest.mark.parametrize(
    "activation, label, expected",
    [
        ("relu", "he", 1.0),
        ("relu", "xavier", math.sqrt(0.5)),
        ("relu", "he_x0.8", 0.8),
        ("relu", "he_x1.25", 1.25),
        ("linear", "xavier", 1.0),
        ("linear", "he", math.sqrt(2.0)),
        ("linear", "xavier_x1.25", 1.25),
    ],
)
def test_the_per_layer_factor_is_the_predicted_one(activation, label, expected):
    # Width 256: the measured factor of the hidden activations' RMS is close
    # to sqrt(n s^2 g) (g = 1/2 for ReLU, 1 for linear units).
    row = next(g for g in wide_growth(activation) if g["initializer"] == label)
    assert row["predicted_factor"] == pytest.approx(expected, rel=1e-12)
    assert row["activation_factor"] == pytest.approx(expected, rel=0.06)


def test_deep_relu_trains_with_he_but_not_with_xavier_and_zeros_never_move():
    variant_list = depth.variants({"zeros": {}, "xavier": {}, "he": {}}, "relu")
    rows = depth.trainability(
        moons(), [30], 32, "relu", variant_list, [0, 1], samples=64, steps=100,
        learning_rate=0.05, target_accuracy=0.8, eval_every=10,
    )
    by = {(r["initializer"], r["seed"]): r for r in rows}
    for seed in (0, 1):
        assert by["he", seed]["succeeded"]
        assert not by["xavier", seed]["succeeded"]
        assert by["xavier", seed]["weight_change"] < 0.1 * by["he", seed]["weight_change"]
        # Zero weights give zero hidden activations and zero weight gradients.
        assert by["zeros", seed]["weight_change"] == 0.0
        assert not by["zeros", seed]["succeeded"]


def test_variants_add_gains_to_the_matched_initializer():
    names = [v.label for v in depth.variants({"zeros": {}, "random": {"scale": 10.0}}, "tanh", [0.5])]
    assert names == ["zeros", "random", "xavier_x0.5"]
    arch = network.Architecture((3, 5, 1))
    variant_list = depth.variants({"he": {}}, "relu", [2.0])
    params = depth.initial_params(arch, variant_list, [7])
    np.testing.assert_allclose(params["W1"][1], 2.0 * params["W1"][0])  # same draws, rescaled


# ---------------------------------------------------------------------------
# Input normalization


@pytest.fixture(scope="module")
def scales_pair():
    # Every key the schema fills in, as config.validated hands it over.
    entry = {"source": "scales", "seed": 5, "params": {"n_samples": 300}, "dev_fraction": 0.2, "test_fraction": 0.2,
             "hidden_layers": [], "hidden_activation": "relu", "initializer": "he", "target_accuracy": 0.75}
    return entry, normalization.both_scalings(entry)


def test_scales_has_features_three_orders_apart_and_standardizing_uses_training_statistics(scales_pair):
    _, pair = scales_pair
    raw, standardized = pair["raw"], pair["standardized"]
    assert raw.X_train[0].min() >= 1.0 and raw.X_train[0].max() <= 1000.0
    assert raw.X_train[1].min() >= 0.0 and raw.X_train[1].max() <= 1.0
    np.testing.assert_allclose(standardized.X_train.mean(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(standardized.X_train.std(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(standardized.X_dev, (raw.X_dev - standardized.stats["mean"]) / standardized.stats["std"])


def test_the_raw_cost_surface_is_a_narrow_valley_and_the_standardized_one_round(scales_pair):
    _, pair = scales_pair
    grid, curvature = normalization.surface("scales", pair, points=5, radius=1.0)
    by = {row["scaling"]: row for row in curvature}
    # The same classifier on both scalings: the same minimum.
    assert by["raw"]["optimum_cost"] == pytest.approx(by["standardized"]["optimum_cost"], rel=1e-9)
    assert by["raw"]["condition"] > 1e5
    assert by["standardized"]["condition"] < 10
    assert len(grid) == 2 * 25
    centre = [g for g in grid if g["d1"] == 0 and g["d2"] == 0]
    assert all(g["cost"] == pytest.approx(by[g["scaling"]]["optimum_cost"]) for g in centre)


def test_standardized_features_allow_rates_orders_of_magnitude_larger(scales_pair):
    entry, pair = scales_pair
    rates = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0]
    rows = []
    for scaling in normalization.SCALINGS:
        rows += normalization.rate_sweep("scales", pair[scaling], scaling, {**entry, "initializer": "zeros"},
                                         rates, [0], steps=60)
    summary = {s["scaling"]: s for s in normalization.summarize(rows)}
    assert summary["raw"]["largest_stable_rate"] <= 1e-4
    assert summary["standardized"]["largest_stable_rate"] >= 1.0
    # Raw, no stable rate reaches the target in the budget; standardized, one does quickly.
    assert math.isnan(summary["raw"]["best_rate"])
    assert summary["standardized"]["steps_to_target"] <= 10
    _, curvature = normalization.surface("scales", pair, points=3, radius=1.0)
    bound = next(c["rate_bound"] for c in curvature if c["scaling"] == "raw")
    assert summary["raw"]["largest_stable_rate"] <= 10 * bound


def test_summary_picks_the_fastest_stable_rate_and_the_largest_stable_one():
    def row(rate, seed, stable, steps):
        return {"problem": "p", "scaling": "raw", "learning_rate": rate, "seed": seed, "stable": stable,
                "steps_to_target": steps, "final_dev_accuracy": 0.9}

    rows = [row(0.1, 0, True, 40.0), row(0.1, 1, True, 60.0), row(1.0, 0, True, 10.0), row(1.0, 1, True, math.nan),
            row(3.0, 0, True, 5.0), row(3.0, 1, False, 5.0)]
    (summary,) = normalization.summarize(rows)
    assert summary["largest_stable_rate"] == 1.0  # 3.0 is unstable for one seed
    assert summary["best_rate"] == 0.1  # 1.0 misses the target for one seed
    assert summary["steps_to_target"] == 50.0


def test_problem_parameters_are_checked():
    normalization.check_problem("p", {"source": "scales", "params": {"n_samples": 10}})
    with pytest.raises(ConfigError, match="sharpnes"):
        normalization.check_problem("p", {"source": "scales", "params": {"sharpnes": 2}})
    with pytest.raises(ConfigError, match="bogus"):
        normalization.check_problem("p", {"source": "bogus"})


# ---------------------------------------------------------------------------
# Bias and variance


@pytest.mark.parametrize(
    "bias, variance, reading",
    [
        (0.01, 0.01, "neither"),
        (0.15, 0.01, "high bias"),
        (0.01, 0.10, "high variance"),
        (0.15, 0.10, "high bias and high variance"),
        (math.nan, 0.0, "diverged"),
    ],
)
def test_the_basic_recipe(bias, variance, reading):
    assert recipe.read(bias, variance, 0.05, 0.05) == reading
    assert reading in recipe.RECIPE


def test_reading_table_uses_the_bayes_proxy_and_skips_diverged_seeds():
    def run(dataset, regularizer, seed, train, dev, status="ok"):
        return {"dataset": dataset, "initializer": "he", "regularizer": regularizer, "optimizer": "adam",
                "seed": seed, "status": status, "train_accuracy": train, "dev_accuracy": dev}

    runs = pd.DataFrame([
        # 1% train error, 11% dev error: variance.
        run("a", "none", 0, 0.99, 0.89), run("a", "none", 1, 0.99, 0.89),
        # 12% train error: bias, unless the Bayes error is about 10%.
        run("b", "none", 0, 0.88, 0.87), run("b", "none", 1, math.nan, math.nan, "diverged"),
        run("c", "l2", 0, 0.88, 0.87),
    ])
    table = bias_variance.reading_table(runs, {"b": 0.10}, 0.05, 0.05)
    readings = dict(zip(table["dataset"], table["reading"]))
    assert readings == {"a": "high variance", "b": "neither", "c": "high bias"}
    b = table[table["dataset"] == "b"].iloc[0]
    assert b["diverged"] == 1 and b["runs"] == 2
    assert b["avoidable_bias"] == pytest.approx(0.02)


def test_learning_curves_train_every_size_for_the_same_number_of_steps():
    config = validated(copy.deepcopy(SMOKE), SCHEMA)
    from nnstudy.study import grid as study

    splits = study.build_dataset(config, "circles")
    rows = bias_variance.learning_curves(config, "circles", {0: splits}, "adam", ["none"], [0], [0.25, 1.0], 0.01)
    sizes = sorted({r["train_size"] for r in rows})
    assert sizes == [round(0.25 * splits.X_train.shape[1]), splits.X_train.shape[1]]
    steps = [r["steps"] for r in rows]
    assert max(steps) - min(steps) < 3  # rounded up to whole epochs
    small = bias_variance.prefix(splits, 10)
    np.testing.assert_array_equal(small.X_train, splits.X_train[:, :10])
    assert small.X_dev is splits.X_dev


def test_learning_curves_train_each_seed_on_its_own_split(monkeypatch):
    config = validated(copy.deepcopy(SMOKE), SCHEMA)
    from nnstudy.study import grid as study

    pool = study.build_pool(config, "circles")
    seeds = [0, 1]
    splits = dict(zip(seeds, study.replicate_splits(pool, "circles", seeds)))
    assert not np.array_equal(splits[0].X_train, splits[1].X_train)
    seen = []
    real = bias_variance.run_batch

    def spy(parts, *args):
        seen.append(parts)
        return real(parts, *args)

    monkeypatch.setattr(bias_variance, "run_batch", spy)
    rows = bias_variance.learning_curves(config, "circles", splits, "adam", ["none", "l2"], seeds, [0.5], 0.01)
    assert [(r["regularizer"], r["seed"]) for r in rows] == [("none", 0), ("none", 1), ("l2", 0), ("l2", 1)]
    size = rows[0]["train_size"]
    for part, (_, seed) in zip(seen[0], [("none", 0), ("none", 1), ("l2", 0), ("l2", 1)]):
        np.testing.assert_array_equal(part.X_train, splits[seed].X_train[:, :size])
        np.testing.assert_array_equal(part.X_dev, splits[seed].X_dev)


# ---------------------------------------------------------------------------
# Augmentation


def test_shift_moves_pixels_and_fills_with_zeros():
    image = np.arange(1, 10, dtype=float).reshape(1, 3, 3)
    down_right = augmentation.shift(image, 1, 1)[0]
    np.testing.assert_array_equal(down_right, [[0, 0, 0], [0, 1, 2], [0, 4, 5]])
    up = augmentation.shift(image, -1, 0)[0]
    np.testing.assert_array_equal(up, [[4, 5, 6], [7, 8, 9], [0, 0, 0]])
    np.testing.assert_array_equal(augmentation.shift(image, 0, 0), image)


def test_augment_keeps_the_originals_and_adds_shifted_copies_with_their_labels():
    gen = np.random.default_rng(0)
    X = gen.integers(0, 17, size=(64, 20)).astype(float)
    y = np.arange(20) % 10
    X_aug, y_aug = augmentation.augment(X, y, np.random.default_rng(1), copies=2, max_shift=1)
    assert X_aug.shape == (64, 60)
    np.testing.assert_array_equal(X_aug[:, :20], X)
    np.testing.assert_array_equal(y_aug, np.tile(y, 3))
    images = X.T.reshape(20, 8, 8)
    for k in range(20, 60):
        copy_image = X_aug[:, k].reshape(8, 8)
        original = images[k % 20][None]
        matches = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0)
                   and np.array_equal(augmentation.shift(original, dy, dx)[0], copy_image)]
        assert matches, f"copy {k} is not a one-pixel shift of its original"


def test_rotation_by_zero_degrees_changes_nothing_and_rotations_keep_the_ink_centred():
    images = np.zeros((2, 8, 8))
    images[:, 2:6, 3:5] = 16.0
    np.testing.assert_allclose(augmentation.rotate(images, [0.0, 0.0]), images, atol=1e-12)
    turned = augmentation.rotate(images, [90.0, -90.0])
    assert turned[0, 3:5, 2:6].min() > 8.0  # the vertical bar is now horizontal


def test_pixel_statistics_are_shared_by_every_pixel():
    X = np.arange(12, dtype=float).reshape(3, 4)
    stats = augmentation.pixel_statistics(X)
    assert stats["mean"].shape == (3, 1) and np.all(stats["mean"] == X.mean())
    assert np.all(stats["std"] == X.std())


def test_augmentation_trains_each_seed_on_the_study_split_of_that_seed(monkeypatch):
    config = validated(copy.deepcopy(SMOKE), SCHEMA)
    config["datasets"]["digits"]["epochs"] = 1
    from nnstudy.study import grid as study

    study_splits = dict(zip([0, 1], study.replicate_splits(study.build_pool(config, "digits"), "digits", [0, 1])))
    seen = []
    real = augmentation.run_batch

    def spy(parts, *args):
        seen.append(parts)
        return real(parts, *args)

    monkeypatch.setattr(augmentation, "run_batch", spy)
    shift = {"shift": {"copies": 1, "max_shift": 1, "max_rotation": 0}}  # with the schema's defaults
    rows = augmentation.compare(config, "digits", "adam", ["none"], shift, [0, 1], 0.01)
    assert [(r["method"], r["seed"]) for r in rows] == [("none", 0), ("none", 1), ("shift", 0), ("shift", 1)]
    regularized, augmented = seen
    for seed in (0, 1):
        own = study_splits[seed]
        # Same samples as the study's split of that seed (pixels scaled differently, see pixel_statistics).
        np.testing.assert_array_equal(regularized[seed].y_train, own.y_train)
        np.testing.assert_array_equal(regularized[seed].y_dev, own.y_dev)
        np.testing.assert_array_equal(augmented[seed].y_train[: own.y_train.size], own.y_train)
        np.testing.assert_array_equal(augmented[seed].y_test, own.y_test)
    assert not np.array_equal(regularized[0].y_dev, regularized[1].y_dev)


# ---------------------------------------------------------------------------
# Gradient checking in practice


def tanh_case(weight_scale, seed=0):
    splits = moons(200)
    arch = network.Architecture((2, 6, 4, 1), "tanh")
    params = initializers.initialize(arch.layer_sizes, "xavier", [seed])
    params = {k: (v * weight_scale if k[0] == "W" else v) for k, v in params.items()}
    gen = np.random.default_rng(seed)
    params = {k: (gen.normal(0, 0.5, v.shape) if k[0] == "b" else v) for k, v in params.items()}
    X, Y = splits.X_train[:, :20], one_hot_targets(splits.y_train[:20], 2)
    return params, X, Y, arch


def test_the_textbook_backward_pass_is_the_network_backward_pass():
    params, X, Y, arch = tanh_case(1.0)
    logits, cache = network.forward(params, X, arch)
    lambd = network.per_model(0.3, 1)
    ours = gradcheck_practice.textbook_backward(X)(params, cache, logits, Y, arch, lambd)
    reference = network.backward(params, cache, logits, Y, arch, lambd)
    for name in params:
        np.testing.assert_allclose(ours[name], reference[name], rtol=1e-12, atol=1e-15)


def test_a_planted_bug_is_reported_with_the_block_it_breaks(monkeypatch):
    def planted(X):
        def backward(params, cache, logits, Y, arch, lambd=None, keep_prob=None):
            grads = dict(network.backward(params, cache, logits, Y, arch, lambd, keep_prob))
            grads["W2"] = grads["W2"] * 1.05  # 5% too large, in one block only
            return grads

        return backward

    monkeypatch.setitem(gradcheck_practice.BUGS, "planted", planted)
    params, X, Y, arch = tanh_case(1.0)
    rows = gradcheck_practice.check_rows(params, X, Y, arch, ["none", "planted"], lambd=0.1, epsilon=1e-6,
                                         threshold=1e-5, moment="test")
    overall = {r["bug"]: r for r in rows if r["block"] == "all"}
    assert overall["none"]["passed"]
    assert not overall["planted"]["passed"]
    assert overall["planted"]["worst_block"] == "W2"
    failing = {r["block"] for r in rows if r["bug"] == "planted" and r["block"] != "all" and not r["passed"]}
    assert failing == {"W2"}


def test_block_shares_add_up_to_the_overall_difference():
    params, X, Y, arch = tanh_case(1.0)
    check = gradient_check(params, X, Y, arch, 0.1, epsilon=1e-6,
                           backward=gradcheck_practice.BUGS["output_bias_doubled"](X))
    shares = gradcheck_practice.block_shares(check, arch)
    assert math.sqrt(sum(v**2 for v in shares.values())) == pytest.approx(check.difference[0], rel=1e-9)
    assert max(shares, key=shares.get) == "b3"


def test_the_tanh_derivative_written_in_z_passes_near_zero_and_fails_once_weights_grow():
    bug = ["tanh_derivative_of_z"]
    near_zero = tanh_case(0.01)
    near_zero = ({k: (v if k[0] == "W" else 0.0 * v) for k, v in near_zero[0].items()}, *near_zero[1:])
    grown = tanh_case(3.0)
    small = gradcheck_practice.check_rows(*near_zero, bug, lambd=0.0, epsilon=1e-6, threshold=1e-5, moment="small")
    large = gradcheck_practice.check_rows(*grown, bug, lambd=0.0, epsilon=1e-6, threshold=1e-5, moment="large")
    assert small[0]["block"] == "all" and small[0]["passed"]
    assert large[0]["block"] == "all" and not large[0]["passed"]
    assert large[0]["worst_block"] in {"W1", "b1", "W2", "b2"}  # the hidden layers' blocks
    assert large[0]["difference"] > 1e3 * small[0]["difference"]


def test_the_l2_bug_grows_with_the_weights():
    bug = ["l2_half"]
    small = gradcheck_practice.check_rows(*tanh_case(0.01), bug, lambd=0.5, epsilon=1e-6, threshold=1e-5,
                                          moment="small")
    large = gradcheck_practice.check_rows(*tanh_case(3.0), bug, lambd=0.5, epsilon=1e-6, threshold=1e-5,
                                          moment="large")
    assert large[0]["difference"] > 10 * small[0]["difference"]


def test_practice_checks_at_initialization_and_after_training():
    splits = datasets.make_dataset("circles", 1, {"n_samples": 300, "noise": 0.05})
    rows = gradcheck_practice.practice(
        splits, hidden_layers=[10, 5], hidden_activation="tanh", initializer="small", scale=0.01, seed=0,
        bugs=["none", "tanh_derivative_of_z"], lambd=0.05, samples=16, epsilon=1e-6, threshold=1e-5,
        steps=300, learning_rate=0.01,
    )
    overall = {(r["bug"], r["moment"]): r for r in rows if r["block"] == "all"}
    assert overall["none", "initialization"]["passed"] and overall["none", "trained"]["passed"]
    assert overall["tanh_derivative_of_z", "initialization"]["passed"]
    assert not overall["tanh_derivative_of_z", "trained"]["passed"]
    assert overall["none", "trained"]["weight_rms"] > 10 * overall["none", "initialization"]["weight_rms"]


# ---------------------------------------------------------------------------
# Configuration and workflow


def test_schema_enums_equal_the_lecture_registries():
    assert set(LECTURES["gradcheck"]["properties"]["bugs"]["items"]["enum"]) == set(gradcheck_practice.BUGS)
    problem = LECTURES["normalization"]["properties"]["problems"]["additionalProperties"]["properties"]
    assert set(problem["source"]["enum"]) == set(normalization.SOURCES) | set(datasets.GENERATORS)
    assert set(problem["initializer"]["enum"]) == set(initializers.INITIALIZERS)
    assert set(problem["hidden_activation"]["enum"]) == set(network.ACTIVATIONS)
    assert set(LECTURES["depth"]["properties"]["activations"]["items"]["enum"]) == set(network.ACTIVATIONS)
    assert set(LECTURES["depth"]["properties"]["activations"]["items"]["enum"]) == set(depth.MATCHED)
    assert set(LECTURES) == set(lectures.STAGES)


@pytest.mark.parametrize("config", [SMOKE, DEFAULT], ids=["smoke", "default"])
def test_shipped_configs_enable_every_stage_and_pass_the_cross_checks(config):
    resolved = lectures.check_lectures(validated(copy.deepcopy(config), SCHEMA))
    assert lectures.enabled(resolved) == list(lectures.STAGES)
    outputs = lectures.outputs(resolved)
    assert "results/tables/lectures/depth_norms.csv" in outputs
    assert "results/lectures/figures/gradcheck.svg" in outputs


@pytest.mark.parametrize(
    "path, value, words",
    [
        (("depth", "dataset"), "nowhere", ["lectures.depth.dataset", "nowhere"]),
        (("learning_curves", "optimizer"), "sgdx", ["learning_curves.optimizer", "sgdx"]),
        (("augmentation", "dataset"), "circles", ["augmentation.dataset", "digits"]),
        (("augmentation", "augmentations"), {"l2": {"copies": 1}}, ["augmentations", "l2"]),
        (("gradcheck", "hidden_activation"), "relu", ["tanh_derivative_of_z", "relu"]),
        (("trainability", "dataset"), "nowhere", ["lectures.trainability.dataset", "nowhere"]),
        (("init_failures", "dataset"), "nowhere", ["lectures.init_failures.dataset", "nowhere"]),
        (("classic_init", "dataset"), "nowhere", ["lectures.classic_init.dataset", "nowhere"]),
    ],
)
def test_bad_cross_references_are_refused_naming_the_key(path, value, words):
    config = validated(copy.deepcopy(SMOKE), SCHEMA)
    config["lectures"][path[0]][path[1]] = value
    with pytest.raises(ConfigError) as excinfo:
        lectures.check_lectures(config)
    for word in words:
        assert word in str(excinfo.value)


def test_no_lectures_section_means_no_lecture_outputs():
    config = copy.deepcopy(SMOKE)
    del config["lectures"]
    assert lectures.outputs(validated(config, SCHEMA)) == []


def test_the_schema_refuses_a_misspelt_lecture_key():
    config = copy.deepcopy(SMOKE)
    config["lectures"]["depth"]["widht"] = 3
    with pytest.raises(ConfigError, match="widht"):
        validated(config, SCHEMA)


def test_dry_run_of_the_default_study_lists_every_lecture_job(shipped_dry_run):
    result = shipped_dry_run("config.yaml")
    assert result.returncode == 0, result.stderr
    jobs = " ".join(result.stdout.split())
    for rule in ("lecture_depth", "lecture_normalization", "lecture_bias_variance", "lecture_learning_curves",
                 "lecture_augmentation", "lecture_gradcheck", "lecture_signal_propagation", "lecture_trainability",
                 "lecture_init_failures", "lecture_classic_init", "lecture_figures"):
        assert f"{rule} 1" in jobs


def test_a_study_without_lectures_has_no_lecture_jobs(tmp_path):
    config = copy.deepcopy(SMOKE)
    del config["lectures"]
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    result = snakemake("-n", "--configfile", str(path), workdir=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "lecture_" not in result.stdout


def test_smoke_study_writes_every_lecture_table_and_figure(smoke_study):
    workdir, config = smoke_study
    for path in lectures.outputs(validated(config, SCHEMA)):
        assert (workdir / path).is_file(), path
        if path.endswith(".csv"):
            assert (workdir / (path + ".meta.json")).is_file()
            assert len(pd.read_csv(workdir / path)) > 0, path
    practice = pd.read_csv(workdir / "results/tables/lectures/gradcheck_practice.csv")
    overall = practice[practice["block"] == "all"].set_index(["bug", "moment"])
    assert overall.loc[("output_bias_doubled", "initialization"), "worst_block"] == "b3"
    assert overall.loc[("none", "initialization"), "passed"]


def test_report_sections_render_every_stage_from_the_smoke_study(smoke_study):
    from nnstudy.report import lecture_sections as report_sections

    workdir, config = smoke_study
    resolved = validated(config, SCHEMA)
    records = report_sections.sections(resolved, root=workdir)
    assert [r["id"] for r in records] == [f"lecture-{stage}" for stage in lectures.STAGES]
    assert all(r["findings"] and r["figure"]["caption"] for r in records)
    page = report_sections.html(resolved, root=workdir)
    assert page.count("<section") == len(lectures.STAGES)
    assert page.count("data:image/png;base64,") == len(lectures.STAGES)
