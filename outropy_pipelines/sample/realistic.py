"""The realistic sample committed under `data/sample_export`: one week, ~30 people, eleven
conversations, and an answer key of the items planted in it."""

from __future__ import annotations

from pathlib import Path

from outropy_pipelines.sample.directory import build_directory, plant_people_events
from outropy_pipelines.sample.edits import choose_edits_and_deletions
from outropy_pipelines.sample.export_files import write_export
from outropy_pipelines.sample.filler import add_filler
from outropy_pipelines.sample.finishing import finish
from outropy_pipelines.sample.incidents import plant_incidents
from outropy_pipelines.sample.planted_items import plant_interleaving, plant_secret, plant_templated
from outropy_pipelines.sample.workspace import SampleWorkspace


def generate_sample_workspace(out_dir: Path, seed: int = 7) -> dict:
    """Write the realistic one-week sample export into `out_dir` and return its answer key."""
    ws = SampleWorkspace(seed)
    build_directory(ws)
    plant_interleaving(ws)  # first: reserves its window in #engineering
    plant_people_events(ws)
    plant_incidents(ws)
    plant_secret(ws)
    plant_templated(ws)
    add_filler(ws)
    choose_edits_and_deletions(ws)
    finish(ws)
    return write_export(ws, Path(out_dir))
