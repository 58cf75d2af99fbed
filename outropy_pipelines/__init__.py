"""outropy-pipelines: daily personal briefings from Slack, as a Dagster + DuckDB batch pipeline."""

import os as _os

# numpy's BLAS would spread the small matrix products of conversation reconstruction over every
# core, which on a busy 2-core machine is slower than one thread (4k vs 9k messages/s measured).
# Dagster runs steps in parallel processes anyway. Set before anything imports numpy; an explicit
# setting in the environment wins.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    _os.environ.setdefault(_var, "1")
