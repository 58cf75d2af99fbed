"""Dagster code location entry point (`dagster dev`, workspace.yaml): `defs` from the environment."""

from outropy_pipelines.defs.definitions import build_definitions
from outropy_pipelines.settings import get_settings

defs = build_definitions(get_settings())
