"""A Streamable HTTP MCP server built with the official `mcp` Python SDK, for Tally's tests.

Binds 127.0.0.1 on a free port and prints `listening http://127.0.0.1:PORT/mcp` once it
accepts connections. With `--token T` every request must carry `Authorization: Bearer T`
(anything else is answered 401). Its tools: `add` (two numbers), `shout` (a text upper-cased)
and `sleep` (seconds, to test timeouts).
"""

import argparse
import asyncio
import socket
import sys

import uvicorn
from mcp.server.mcpserver import MCPServer

server = MCPServer(name="tally-test-http")


@server.tool()
def add(a: float, b: float) -> float:
    """Adds two numbers."""
    return a + b


@server.tool()
def shout(text: str) -> str:
    """Returns the text in capitals."""
    return text.upper()


@server.tool()
async def sleep(seconds: float) -> str:
    """Waits, then says how long it waited."""
    await asyncio.sleep(seconds)
    return f"slept {seconds} s"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--token")
    args = parser.parse_args()
    app = server.streamable_http_app()
    if args.token:
        inner = app
        expected = f"Bearer {args.token}".encode()

        async def app(scope, receive, send):  # noqa: F811 - a guard around the SDK's app
            if scope["type"] == "http" and dict(scope["headers"]).get(b"authorization") != expected:
                await send({
                    "type": "http.response.start",
                    "status": 401,
                    "headers": [(b"www-authenticate", b'Bearer realm="tally-test"')],
                })
                await send({"type": "http.response.body", "body": b"unauthorized"})
                return
            await inner(scope, receive, send)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    uv = uvicorn.Server(config)

    async def serve() -> None:
        task = asyncio.create_task(uv.serve(sockets=[sock]))
        while not uv.started:
            if task.done():
                task.result()
                return
            await asyncio.sleep(0.01)
        print(f"listening http://127.0.0.1:{port}/mcp", flush=True)
        await task

    asyncio.run(serve())


if __name__ == "__main__":
    sys.exit(main())
