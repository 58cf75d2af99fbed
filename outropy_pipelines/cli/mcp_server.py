"""`outropy mcp --user U`: a read-only Model Context Protocol server over stdio for one reader.

Four tools (`ReaderTools` in `mcp_tools` answers them), each under the briefings' access control
for the reader the server was started for: `my_briefing`, `open_for_me`, `channel_decisions`,
`search_items`. The reader must be in the directory of the DuckDB file, or the server does not
start (one `outropy:` line, exit 2). stdout carries the protocol; anything else goes to stderr.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from outropy_pipelines.cli.common import CliError, command, load_settings

if TYPE_CHECKING:
    from mcp.server import MCPServer

    from outropy_pipelines.cli.mcp_tools import ReaderTools

SERVER_NAME = "outropy"


def build_server(tools: ReaderTools) -> MCPServer:
    """The MCP server exposing `tools` (read-only tools, annotated as such)."""
    from mcp.server import MCPServer
    from mcp.types import ToolAnnotations

    server: MCPServer = MCPServer(
        SERVER_NAME,
        instructions=(
            f"Read-only access to the Slack briefings of {tools.user_id}: their daily briefing, what is "
            "open for them, decisions per channel, and a search of item titles. Only what this reader "
            "may see in Slack is ever returned. Days are YYYY-MM-DD, today or yesterday."
        ),
        log_level="WARNING",
    )
    read_only = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True)

    @server.tool(annotations=read_only)
    def my_briefing(day: str | None = None) -> str:
        """My briefing for a day, as Markdown (the stored one, exactly as delivered). `day`:
        YYYY-MM-DD, today or yesterday; default: my last briefing."""
        return tools.my_briefing(day)

    @server.tool(annotations=read_only)
    def open_for_me(as_of: str | None = None) -> dict[str, Any]:
        """What is open for me: open action items, questions, blockers and incidents I own or asked,
        oldest first, with their age in days and links to the Slack messages. `as_of`: the day
        (default: the last day processed)."""
        return tools.open_for_me(as_of)

    @server.tool(annotations=read_only)
    def channel_decisions(channel: str, start: str | None = None, end: str | None = None) -> dict[str, Any]:
        """The decisions of one channel over a date range, newest first, with links. `channel`: its
        name (with or without #) or id; `start`/`end`: days (default: the 7 days up to the last day
        with items). A channel I cannot see is answered as unknown."""
        return tools.channel_decisions(channel, start, end)

    @server.tool(annotations=read_only)
    def search_items(
        query: str, kind: str | None = None, start: str | None = None, end: str | None = None, limit: int = 20
    ) -> dict[str, Any]:
        """Search item titles (decisions, action items, questions, blockers, incidents,
        announcements, status updates) for every word of `query`, any case, among what I may see;
        newest first. `kind`: one item kind; `start`/`end`: days; `limit`: at most 50."""
        return tools.search_items(query, kind, start, end, limit)

    return server


def cmd_mcp(args: argparse.Namespace) -> int:
    from outropy_pipelines.cli.mcp_tools import ReaderTools
    from outropy_pipelines.store import DuckDBStore
    from outropy_pipelines.store.briefings import find_user

    settings = load_settings()
    if settings.store_backend != "duckdb":
        raise CliError(
            "outropy mcp reads the DuckDB file (OUTROPY_DUCKDB_PATH); "
            f"OUTROPY_STORE_BACKEND={settings.store_backend} is not supported"
        )
    if not settings.duckdb_path.exists():
        raise CliError(f"no DuckDB file at {settings.duckdb_path}: run `{command('run')}` first")
    store = DuckDBStore(settings.duckdb_path, memory_limit=settings.duckdb_memory_limit, read_only=True)
    found = find_user(store, args.user)
    if found is None:
        raise CliError(
            f"unknown user {args.user!r}: no user id, name or real name like it in the directory in "
            f"{settings.duckdb_path}; the server answers for one reader of the directory"
        )
    tools = ReaderTools(store, found["user_id"], settings.workspace_url, settings.timezone)
    build_server(tools).run("stdio")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "mcp",
        help="serve one reader's briefings to an MCP client (stdio, read-only)",
        description=(
            "A read-only Model Context Protocol server on stdin/stdout for one reader: their briefing "
            "of a day, what is open for them, a channel's decisions, a search of item titles; all "
            "under the briefings' access control. Reads OUTROPY_DUCKDB_PATH."
        ),
    )
    p.add_argument("--user", required=True, help="the reader: a user id, or a name or real name")
    p.set_defaults(func=cmd_mcp)
