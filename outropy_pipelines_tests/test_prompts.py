"""The classification prompt's material: kind definitions from the domain."""

from __future__ import annotations

from typing import get_args

from outropy_pipelines.domain.item_kinds import GENERAL_RULES, KIND_DEFINITIONS, kind_definition_lines
from outropy_pipelines.domain.models import ITEM_KINDS, ItemKind

# --- the kind definitions ----------------------------------------------------------------------


def test_every_kind_has_a_short_definition() -> None:
    assert get_args(ItemKind) == ITEM_KINDS, "one list of kind names"
    assert tuple(KIND_DEFINITIONS) == ITEM_KINDS, "one definition per kind, in ITEM_KINDS order"
    for kind, definition in KIND_DEFINITIONS.items():
        assert definition.strip() == definition and 20 < len(definition) <= 300, kind
    assert [line.split(":")[0] for line in kind_definition_lines()] == list(ITEM_KINDS)
    assert GENERAL_RULES and all(rule.strip() for rule in GENERAL_RULES)
