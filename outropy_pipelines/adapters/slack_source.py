"""SlackSource: where Slack data comes from, as the assets see it.

Two implementations produce the same rows for the same workspace:

- `SlackExportReader` (`adapters/slack_export_reader.py`): a workspace export (directory or .zip);
- `SlackWebAPIReader` (`adapters/slack_web_api_reader.py`): the live Web API through slack-sdk.

Both take a record only through the same boundary (`slack_records.accept_message`, the model of
`domain/slack_message.py`), and `read_day` returns raw message rows built by `slack_records.raw_row`
(the record kept verbatim as JSON plus typed columns), so `raw_slack_messages` and everything
downstream cannot tell them apart.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol, runtime_checkable

from outropy_pipelines.adapters.slack_records import DayRead
from outropy_pipelines.domain.models import Directory, QuarantineRecord


@runtime_checkable
class SlackSource(Protocol):
    """Users, conversations and messages of one workspace."""

    #: short name recorded with quarantine rows and in Dagster metadata ("export" | "slack_api")
    name: str
    #: what reading the directory could only guess (e.g. an export without users.json), for people
    warnings: list[str]

    def read_directory(self) -> tuple[Directory, list[QuarantineRecord]]:
        """Users and conversations (with members), and what could not be read."""
        ...

    def read_day(self, day: str | dt.date, timezone: str = "UTC") -> DayRead:
        """Every message whose ts falls in `day` (calendar day in `timezone`), from every
        conversation the source can see, including thread replies to older parents."""
        ...

    def workspace_url(self) -> str | None:
        """Base URL of the workspace (`https://acme.slack.com`) if the source knows it."""
        ...
