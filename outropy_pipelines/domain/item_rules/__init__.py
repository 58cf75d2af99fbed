"""English rules that turn a thread into typed items, and an entity's items into a summary, without
a model: what the offline `local` LLM provider (`llm/local_provider.py`) runs.

- `thread_classifier.classify_thread`: rule-based extraction of typed items. Cue patterns per kind
  (`action_cues`, `event_cues`, built from `cue_syntax`) run over each message, each behind a cheap
  word/substring gate (`cue_gates`), so a call costs a few regex scans per message; asks and
  commitments are matched with their filters in `action_matching`. Messages are normalised and
  split into sentences by `message_text`, a thread's people, day and channel are `thread_context`,
  the items found so far `thread_drafts`; `titles`, `due_dates` and `project_names` fill in the
  items.
- `summaries.summarize_entity`: an extractive summary of today's items and what is still open;
  `summaries.briefing_intro`: one counting sentence.

Pure Python: no model, no network, nothing but the domain's contracts. Everything is compiled at
import time. Titles depend only on the source message(s) and the messages before them, never on
later ones, so a thread re-classified on a later day yields the same titles (and item ids); later
messages only add sources and change status.
"""
