"""Dagster code location entry point (`dagster dev`, workspace.yaml): `defs` from the environment."""

from outropy_pipelines.config import load_settings
from outropy_pipelines.dagster_defs.definitions import build_definitions

defs = build_definitions(load_settings())
