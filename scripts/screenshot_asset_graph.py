"""Take the README's pictures of the Dagster UI from a running webserver.

    uv run negotiation-pipeline dev &                      # or any running webserver
    uv run python scripts/screenshot_asset_graph.py [--url http://127.0.0.1:3000]

Drives Debian's headless Chromium (`apt-get install chromium`) over the DevTools protocol:
opens the global asset lineage, presses the UI's "expand all groups" shortcut (Alt+E) so every
asset shows inside its group, and saves a PNG (default docs/asset_graph.png).

Any other page: `--path` (e.g. "/assets/negotiation_snapshots?partition=86b1aa001"), and
`--click TEXT` (repeatable) to press, in order, the first button or link whose text contains
TEXT before the picture is taken (e.g. "Show table" to open a metadata table).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "docs" / "asset_graph.png"
LINEAGE_PATH = "/asset-groups"  # Dagster's global asset lineage view
ALT_MODIFIER = 1  # DevTools Input.dispatchKeyEvent modifier bit for Alt


def chromium_binary() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise SystemExit("no Chromium found: apt-get install chromium")


class DevTools:
    """The few DevTools calls this needs, over one page's websocket."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.ids = itertools.count(1)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(self.ids)
        await self.socket.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(await self.socket.recv())
            if message.get("id") == call_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result

    async def press_alt_key(self, letter: str) -> None:
        for kind in ("keyDown", "keyUp"):
            await self.call(
                "Input.dispatchKeyEvent",
                type=kind,
                modifiers=ALT_MODIFIER,
                key=letter,
                code=f"Key{letter.upper()}",
                windowsVirtualKeyCode=ord(letter.upper()),
            )


def _page_websocket(port: int) -> str:
    targets = httpx.get(f"http://127.0.0.1:{port}/json", timeout=10).json()
    pages = [t for t in targets if t.get("type") == "page"]
    if not pages:
        raise SystemExit("Chromium opened no page")
    return str(pages[0]["webSocketDebuggerUrl"])


def _debugging_port(profile: Path, process: subprocess.Popen[bytes]) -> int:
    marker = profile / "DevToolsActivePort"
    deadline = time.monotonic() + 30
    while not marker.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("Chromium did not start its DevTools endpoint")
        time.sleep(0.2)
    return int(marker.read_text().splitlines()[0])


# Clicks the first visible button or link whose text contains the given text; says if it did.
_CLICK_JS = """
(() => {
  const wanted = %s.toLowerCase();
  const found = [...document.querySelectorAll('button, a, [role=button]')].find(
    (el) => el.offsetParent !== null && el.textContent.toLowerCase().includes(wanted));
  if (!found) return false;
  found.click();
  return true;
})()
"""


async def _capture(
    page_ws: str, url: str, render_s: float, *, expand: bool, clicks: list[str]
) -> bytes:
    async with connect(page_ws, max_size=64 * 1024 * 1024) as socket:
        tools = DevTools(socket)
        await tools.call("Page.enable")
        await tools.call("Page.navigate", url=url)
        await asyncio.sleep(render_s)
        if expand:
            await tools.press_alt_key("e")  # expand every asset group
            await asyncio.sleep(render_s / 2)
        for text in clicks:
            result = await tools.call(
                "Runtime.evaluate", expression=_CLICK_JS % json.dumps(text), returnByValue=True
            )
            if not result.get("result", {}).get("value"):
                raise SystemExit(f"nothing to click with the text {text!r} on {url}")
            await asyncio.sleep(render_s / 2)
        shot = await tools.call("Page.captureScreenshot", format="png")
        return base64.b64decode(shot["data"])


def screenshot(
    url: str,
    out: Path,
    width: int,
    height: int,
    render_s: float,
    *,
    path: str = LINEAGE_PATH,
    clicks: list[str] | None = None,
) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile_dir:
        profile = Path(profile_dir)
        process = subprocess.Popen(
            [
                chromium_binary(),
                "--headless=new",
                "--no-sandbox",  # CI and containers run as root
                "--disable-gpu",
                "--hide-scrollbars",
                "--remote-debugging-port=0",
                f"--user-data-dir={profile}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            page_ws = _page_websocket(_debugging_port(profile, process))
            png = asyncio.run(
                _capture(
                    page_ws,
                    url.rstrip("/") + path,
                    render_s,
                    expand=path == LINEAGE_PATH,
                    clicks=clicks or [],
                )
            )
        finally:
            process.terminate()
            process.wait(timeout=30)
    out.write_bytes(png)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:3000", help="Dagster webserver")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--width", type=int, default=1800)
    parser.add_argument("--height", type=int, default=1000)
    parser.add_argument("--render-seconds", type=float, default=8.0)
    parser.add_argument("--path", default=LINEAGE_PATH, help="UI page (default: asset lineage)")
    parser.add_argument("--click", action="append", default=[], help="text to click, in order")
    args = parser.parse_args()
    screenshot(
        args.url,
        args.out,
        args.width,
        args.height,
        args.render_seconds,
        path=args.path,
        clicks=args.click,
    )
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
