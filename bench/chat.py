"""Chat figures for duo with the shared yardstick (``shared/bench/chat.py``), end to end.

Starts ``duo serve`` on a fresh (or reused) embedded state with the rate limits that a
single load generator would hit switched off, creates accounts through the HTTP API with
the yardstick's ``accounts`` step (resumable: a reused state keeps them), runs its ``run``
step against the chat port with the server's pid (idle RSS/CPU per session, p50/p99
delivery at the given rates, ceiling), prints its report and stops duo with SIGTERM.

    .venv/bin/python bench/chat.py --python /path/to/venv-with-websockets/bin/python \\
        --accounts 400 --sessions 400 --pairs 200 --rates 100,400,1000 --duration 20

Only loopback addresses are used; every step is bounded in count and time.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def find_yardstick() -> Path | None:
    """``shared/bench/chat.py`` beside this checkout or one of its parents."""
    for parent in REPO.parents:
        candidate = parent / "shared" / "bench" / "chat.py"
        if candidate.exists():
            return candidate
    return None


def start_duo(state: Path, http_port: int, chat_port: int) -> subprocess.Popen[bytes]:
    """``duo serve`` on ``state``, returned once it serves; its log goes to ``state/duo.log``."""
    env = dict(
        os.environ,
        DUO_ENV="dev",
        DUO_STATE_DIR=str(state),
        DUO_HTTP_HOST="127.0.0.1",
        DUO_HTTP_PORT=str(http_port),
        DUO_CHAT_HOST="127.0.0.1",
        DUO_CHAT_PORTS=str(chat_port),
        DUO_IP_BLOCKLIST_URLS="",
        DUO_DISABLE_IP_RATE_LIMIT="1",
        DUO_DISABLE_ACCOUNT_RATE_LIMIT="1",
    )
    env.pop("DUO_DB_HOST", None)
    log = state / "duo.log"  # a file, not a pipe: nobody drains a pipe during the run
    with log.open("ab") as out:
        start = out.tell()  # a reused state keeps the log of earlier runs
        proc = subprocess.Popen([sys.executable, "-m", "duo", "serve"], env=env, stderr=out)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if b"duo is serving HTTP" in log.read_bytes()[start:]:
            return proc
        time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"duo did not start; see {log}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--yardstick", type=Path, default=find_yardstick(), help="shared/bench/chat.py")
    parser.add_argument("--python", default=sys.executable, help="a Python with websockets installed")
    parser.add_argument("--state", type=Path, default=None, help="duo state dir (default: a new temporary one)")
    parser.add_argument("--http-port", type=int, default=5010)
    parser.add_argument("--chat-port", type=int, default=5453)
    parser.add_argument("--accounts", type=int, default=400)
    parser.add_argument("--sessions", type=int, default=400)
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--rates", default="100,400")
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--target-p99-ms", type=float, default=0.0)
    parser.add_argument("--json-out", default="")
    args = parser.parse_args()
    if args.yardstick is None:
        raise SystemExit("shared/bench/chat.py not found: pass --yardstick")
    state = args.state or Path(tempfile.mkdtemp(prefix="duo-chat-bench-"))
    state.mkdir(parents=True, exist_ok=True)
    accounts = state / "chat-accounts.jsonl"
    duo = start_duo(state, args.http_port, args.chat_port)
    try:
        subprocess.run(
            [args.python, str(args.yardstick), "accounts", "--api", f"http://127.0.0.1:{args.http_port}",
             "--count", str(args.accounts), "--out", str(accounts), "--concurrency", "8"],
            check=True, timeout=1800,
        )
        run = [args.python, str(args.yardstick), "run", "--url", f"ws://127.0.0.1:{args.chat_port}/",
               "--accounts", str(accounts), "--sessions", str(args.sessions), "--pairs", str(args.pairs),
               "--rates", args.rates, "--duration", str(args.duration), "--pid", str(duo.pid), "--label", "duo"]
        if args.target_p99_ms:
            run += ["--target-p99-ms", str(args.target_p99_ms)]
        if args.json_out:
            run += ["--json-out", args.json_out]
        subprocess.run(run, check=True, timeout=3600)
    finally:
        duo.send_signal(signal.SIGTERM)
        try:
            duo.wait(60)
        except subprocess.TimeoutExpired:
            duo.kill()


if __name__ == "__main__":
    main()
