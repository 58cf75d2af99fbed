"""Who gets a briefing, and where.

Default: every human, non-deleted member of the workspace, by Slack DM. A subscriptions file
(YAML, OUTROPY_SUBSCRIPTIONS_FILE) overrides per person:

    defaults: {slack: true, email: false}      # optional; applies to everyone not listed
    include_everyone: true                     # false: only the people listed below
    users:
      U0123ABCD: {slack: true, email: true, email_address: ana@example.com}
      U0456EFGH: {active: false}               # unsubscribed
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from outropy_pipelines.domain.models import Directory, Subscription


class SubscriptionsFileError(ValueError):
    pass


def default_subscriptions(directory: Directory) -> list[Subscription]:
    return [
        Subscription(user_id=u.user_id, slack=True, email=False, email_address=u.email, active=True)
        for u in sorted(directory.users, key=lambda u: u.user_id)
        if not u.is_bot and not u.deleted
    ]


def load_subscriptions_file(path: Path, directory: Directory, defaults: list[Subscription]) -> list[Subscription]:
    try:
        data: Any = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise SubscriptionsFileError(f"cannot read subscriptions file {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise SubscriptionsFileError(f"subscriptions file {path} must be a mapping")
    base = data.get("defaults") or {}
    users = {u.user_id: u for u in directory.users}
    out: dict[str, Subscription] = {}
    if data.get("include_everyone", True):
        for s in defaults:
            out[s.user_id] = s.model_copy(update={k: v for k, v in base.items() if k in ("slack", "email")})
    for uid, prefs in (data.get("users") or {}).items():
        uid = str(uid)
        if uid not in users:
            raise SubscriptionsFileError(f"subscriptions file {path}: unknown user id {uid}")
        prefs = prefs or {}
        if not isinstance(prefs, dict):
            raise SubscriptionsFileError(f"subscriptions file {path}: entry for {uid} must be a mapping")
        current = out.get(uid) or Subscription(user_id=uid, email_address=users[uid].email)
        out[uid] = current.model_copy(update={k: prefs[k] for k in prefs if k in Subscription.model_fields})
    return sorted(out.values(), key=lambda s: s.user_id)
