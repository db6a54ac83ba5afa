"""One BLAS thread while a batch of models trains, unless the user chose a number.

The networks are small: a BLAS call on one model's matrices is over before a
second thread has started, and on a machine whose cores are busy the
threads wait for each other. Measured on the 2-core development machine under
load: one training step of 30 cat / non-cat models (12,288 inputs, a batch
of 64) took 17-20 s with OpenBLAS's default threads and 2 s with one; the
workflow's jobs (Snakemake sets ``OPENBLAS_NUM_THREADS`` to a job's threads)
and the command line (``nnstudy.cli.single_threaded_blas``) already ran with
one, but a study function called from Python, a notebook or the tests did
not. Parallelism comes from running jobs side by side.
"""

import contextlib
import os

# The variables a user sets to choose the BLAS threads; any of them set means
# the choice is theirs.
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


@contextlib.contextmanager
def one_blas_thread():
    """Run the block with one BLAS thread, unless a :data:`THREAD_VARIABLES` is set."""
    if any(os.environ.get(name) for name in THREAD_VARIABLES):
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield
