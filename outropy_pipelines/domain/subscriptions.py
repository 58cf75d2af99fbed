"""Who gets a briefing, and where.

Default: every human, non-deleted member of the workspace, by Slack DM. A subscriptions file
(YAML: OUTROPY_SUBSCRIPTIONS_FILE, else data/subscriptions.yaml when present; an example is
data/subscriptions.example.yaml) overrides per person:

    defaults: {delivery: slack}                # optional; applies to everyone not listed
    include_everyone: true                     # false: only the people listed below
    users:
      U0123ABCD: {delivery: both, email_address: ana@example.com}
      U0789IJKL: {delivery: none}              # still briefed (Markdown, UI), never sent
      U0456EFGH: {active: false}               # unsubscribed
      U0999ZZZZ: {delivery_hour: 7, quiet_hours: "22-06", weekend: monday}

`delivery` is `slack`, `email`, `both` or `none`; it is shorthand for the booleans `slack` and
`email`, which may be given instead. `email_address` defaults to the address in the directory
(users.json / users.info). Unknown keys are errors, so a typo never silently changes delivery.

When it is delivered (in the reader's own time zone, the directory's `tz`): `delivery_hour`
(0-23), `quiet_hours` ("21-07", or "off") and `weekend` (deliver | monday | skip), in `defaults`
or per person; unset, the OUTROPY_DELIVERY_LOCAL_HOUR / OUTROPY_QUIET_HOURS /
OUTROPY_WEEKEND_DELIVERY settings apply (`domain/delivery_plan.ReaderSchedule`).

What the briefing shows (`domain/reader_preferences.py` has the rules), in `defaults` or per person:
`mute_channels`, `watch_people`, `watch_keywords`, `sections` and `max_lines`. Channels and people
are resolved against the directory here (a name matching nothing, or several, is an error); a
person's key replaces the default's, except `sections`, merged section by section.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from outropy_pipelines.domain.models import Directory, Subscription
from outropy_pipelines.domain.reader_preferences import PREFERENCE_KEYS, merged, resolve_preferences


class SubscriptionsFileError(ValueError):
    pass


def default_subscriptions(directory: Directory) -> list[Subscription]:
    return [
        Subscription(user_id=u.user_id, slack=True, email=False, email_address=u.email, active=True)
        for u in sorted(directory.users, key=lambda u: u.user_id)
        if not u.is_bot and not u.deleted
    ]


DELIVERY_CHOICES: dict[str, dict[str, bool]] = {
    "slack": {"slack": True, "email": False},
    "email": {"slack": False, "email": True},
    "both": {"slack": True, "email": True},
    "none": {"slack": False, "email": False},
}
_WHEN_KEYS = frozenset({"delivery_hour", "quiet_hours", "weekend"})
_DEFAULT_KEYS = frozenset({"slack", "email", "delivery"}) | _WHEN_KEYS | PREFERENCE_KEYS
_USER_KEYS = (
    frozenset({"slack", "email", "delivery", "email_address", "active"}) | _WHEN_KEYS | PREFERENCE_KEYS
)


def _prefs(path: Path, where: str, prefs: Any, allowed: frozenset[str]) -> dict[str, Any]:
    """A preferences mapping checked for unknown keys, with `delivery:` expanded to slack/email."""
    if prefs is None:
        return {}
    if not isinstance(prefs, dict):
        raise SubscriptionsFileError(f"subscriptions file {path}: {where} must be a mapping")
    unknown = sorted(set(map(str, prefs)) - allowed)
    if unknown:
        raise SubscriptionsFileError(
            f"subscriptions file {path}: {where}: unknown key(s) {unknown}; allowed: {sorted(allowed)}"
        )
    out = dict(prefs)
    if "delivery" in out:
        choice = str(out.pop("delivery")).strip().lower()
        if choice not in DELIVERY_CHOICES:
            raise SubscriptionsFileError(
                f"subscriptions file {path}: {where}: delivery must be one of {sorted(DELIVERY_CHOICES)}"
            )
        out = {**DELIVERY_CHOICES[choice], **{k: v for k, v in out.items() if k not in ("slack", "email")}}
    return out


def load_subscriptions_file(
    path: Path, directory: Directory, defaults: list[Subscription]
) -> list[Subscription]:
    try:
        data: Any = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise SubscriptionsFileError(f"cannot read subscriptions file {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise SubscriptionsFileError(f"subscriptions file {path} must be a mapping")
    unknown = sorted(set(map(str, data)) - {"defaults", "include_everyone", "users"})
    if unknown:
        raise SubscriptionsFileError(f"subscriptions file {path}: unknown top-level key(s) {unknown}")
    base = _prefs(path, "defaults", data.get("defaults"), _DEFAULT_KEYS)
    base_shows = _shows(path, "defaults", base, directory)
    users = {u.user_id: u for u in directory.users}
    out: dict[str, Subscription] = {}
    if data.get("include_everyone", True):
        for s in defaults:
            out[s.user_id] = _updated(path, s, base, base_shows)
    for uid, prefs in (data.get("users") or {}).items():
        uid = str(uid)
        if uid not in users:
            raise SubscriptionsFileError(f"subscriptions file {path}: unknown user id {uid}")
        prefs = _prefs(path, f"entry for {uid}", prefs, _USER_KEYS)
        shows = _shows(path, f"entry for {uid}", prefs, directory)
        current = out.get(uid) or _updated(
            path, Subscription(user_id=uid, email_address=users[uid].email), base, base_shows
        )
        out[uid] = _updated(path, current, prefs, shows)
    return sorted(out.values(), key=lambda s: s.user_id)


def _shows(path: Path, where: str, prefs: dict[str, Any], directory: Directory) -> dict[str, Any]:
    """The preference keys of `prefs` (taken out of it), resolved against the directory."""
    raw = {k: prefs.pop(k) for k in sorted(PREFERENCE_KEYS & set(prefs))}
    try:
        return resolve_preferences(raw, directory)
    except ValueError as exc:
        raise SubscriptionsFileError(f"subscriptions file {path}: {where}: {exc}") from exc


def _updated(
    path: Path, sub: Subscription, prefs: dict[str, Any], shows: dict[str, Any] | None = None
) -> Subscription:
    try:
        values = {**sub.model_dump(), **prefs}
        if shows:
            values["preferences"] = merged(sub.preferences, shows)
        return Subscription.model_validate(values)
    except ValueError as exc:
        raise SubscriptionsFileError(f"subscriptions file {path}: entry for {sub.user_id}: {exc}") from exc
