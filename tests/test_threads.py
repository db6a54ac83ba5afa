"""BLAS threads while a batch trains: one, unless the user chose (nnstudy.study.threads)."""

import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from nnstudy.core.training import TrainConfig
from nnstudy.data.datasets import make_dataset
from nnstudy.study import experiment, threads
from nnstudy.study.experiment import ModelSpec, architecture_for, run_batch


def blas_threads():
    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


def threads_during_training(monkeypatch):
    """The BLAS thread counts seen inside the training loop of a small batch, run with 2 threads outside."""
    seen = []
    real_train = experiment.train

    def recording_train(*args, **kwargs):
        seen.append(blas_threads())
        return real_train(*args, **kwargs)

    monkeypatch.setattr(experiment, "train", recording_train)
    splits = make_dataset("moons", 0, {"n_samples": 60})
    with threadpool_limits(limits=2, user_api="blas"):
        run_batch(splits, architecture_for(splits, [4]), "adam", {}, TrainConfig(2, 16, eval_every=2),
                  [ModelSpec("he", 1, 0.05)])
        after = blas_threads()
    return seen, after


@pytest.fixture
def no_thread_choice(monkeypatch):
    for name in threads.THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_a_batch_trains_with_one_blas_thread_and_restores_the_count(monkeypatch, no_thread_choice):
    if not blas_threads():
        pytest.skip("NumPy's BLAS is not visible to threadpoolctl here")
    seen, after = threads_during_training(monkeypatch)
    assert seen == [{1}]
    assert after == {2}


def test_a_users_thread_choice_is_left_alone(monkeypatch, no_thread_choice):
    if not blas_threads():
        pytest.skip("NumPy's BLAS is not visible to threadpoolctl here")
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    seen, _ = threads_during_training(monkeypatch)
    assert seen == [{2}]
