"""Seeded generators of Slack workspace exports.

`generate_sample_workspace` writes the small, realistic sample committed under `data/sample_export`
(one week, ~30 people, eleven conversations) together with an answer key of the items planted in it.
`generate_scaled_workspace` writes a large synthetic export for benchmarks, streaming one
channel-day file at a time.

Both follow the layout of a real Slack export (see `slack_records`). Everything is derived from
`random.Random(seed)` and fixed base timestamps, so one seed always gives byte-identical files.
"""

from outropy_pipelines.sample.export_files import ANSWER_KEY_FILE
from outropy_pipelines.sample.realistic import generate_sample_workspace
from outropy_pipelines.sample.scaled import generate_scaled_workspace
from outropy_pipelines.sample.workspace import SAMPLE_DAYS, SAMPLE_START_DATE

__all__ = [
    "ANSWER_KEY_FILE",
    "SAMPLE_DAYS",
    "SAMPLE_START_DATE",
    "generate_sample_workspace",
    "generate_scaled_workspace",
]
