"""Where a run's steps execute (`OUTROPY_EXECUTOR`), on the Dagster ecosystem's own executors.

- `multiprocess` (default): Dagster's default executor, one process per step on the run worker.
- `celery`: dagster-celery; steps are Celery tasks on workers of any host (`dagster-celery worker
  start -A dagster_celery.app`). Broker and backend URLs come from `DAGSTER_CELERY_BROKER_URL` and
  `DAGSTER_CELERY_BACKEND_URL`, read by Dagster when the run starts (like an `EnvVar`: run config
  shows the variable's name, never the URL or its password).
- `k8s`: dagster-k8s `k8s_job_executor`, one Kubernetes Job per step.
- `docker`: dagster-docker `docker_executor`, one container per step.

The three integration libraries are the optional extra `scale` (`pip install -e '.[scale]'`): they
are imported only when selected, so the default install does not need them.
"""

from __future__ import annotations

from dagster import ExecutorDefinition

CELERY_BROKER_ENV = "DAGSTER_CELERY_BROKER_URL"
CELERY_BACKEND_ENV = "DAGSTER_CELERY_BACKEND_URL"


def _missing(name: str, package: str) -> ImportError:
    return ImportError(
        f"OUTROPY_EXECUTOR={name} needs {package}: install the scale extra (pip install -e '.[scale]')"
    )


def build_executor(name: str) -> ExecutorDefinition | None:
    """The executor of every job for `OUTROPY_EXECUTOR`; None keeps Dagster's default."""
    if name == "multiprocess":
        return None
    if name == "celery":
        try:
            from dagster_celery import celery_executor
        except ImportError as exc:
            raise _missing(name, "dagster-celery") from exc
        return celery_executor.configured(
            {"broker": {"env": CELERY_BROKER_ENV}, "backend": {"env": CELERY_BACKEND_ENV}},
            name="celery",
        )
    if name == "k8s":
        try:
            from dagster_k8s import k8s_job_executor
        except ImportError as exc:
            raise _missing(name, "dagster-k8s") from exc
        return k8s_job_executor
    if name == "docker":
        try:
            from dagster_docker import docker_executor
        except ImportError as exc:
            raise _missing(name, "dagster-docker") from exc
        return docker_executor
    raise ValueError(f"OUTROPY_EXECUTOR must be multiprocess, celery, k8s or docker, not {name!r}")
