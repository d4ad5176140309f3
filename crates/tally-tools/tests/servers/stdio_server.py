"""A stdio MCP server built with the official `mcp` Python SDK, for faults Tally must survive.

Its tools: `sleep` (seconds), `crash` (the process exits mid-call, after a line on stderr),
`words` (that many words of text: a result too long for a model's window).
With `--child` it first starts a grandchild (`sleep 600`) that would outlive it unless its
whole process group is stopped.
"""

import asyncio
import os
import subprocess
import sys

from mcp.server.mcpserver import MCPServer

server = MCPServer(name="tally-test-stdio")


@server.tool()
async def sleep(seconds: float) -> str:
    """Waits, then says how long it waited."""
    await asyncio.sleep(seconds)
    return f"slept {seconds} s"


@server.tool()
def words(count: int) -> str:
    """Returns `count` words of filler text."""
    return " ".join(f"word{i % 1000}" for i in range(count))


@server.tool()
def crash() -> str:
    """Exits the server in the middle of the call."""
    print("fatal: the test asked me to crash", file=sys.stderr, flush=True)
    os._exit(7)


if __name__ == "__main__":
    if "--child" in sys.argv:
        subprocess.Popen(["sleep", "600"])
    print("tally-test-stdio starting", file=sys.stderr, flush=True)
    server.run("stdio")
