"""Install duo as an operator does and prove it runs: the CI smoke check.

A clean venv gets a plain ``pip install .`` (no extras, as the Dockerfile does), so a module
imported at run time but declared only as a test dependency fails here. Then ``duo serve``
starts on its embedded defaults with a plain SMTP relay (aiosmtpd, no STARTTLS) and a user
signs in with the OTP that the relay received; SIGTERM must stop it with status 0.

Run from the project's test venv: ``.venv/bin/python -m tools.smoke``.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import venv
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parent.parent
EMAIL = "duo.smoke.check@gmail.com"


class Relay:
    """Collects the mail a plain relay accepts."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.arrived = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, email.message.EmailMessage)
        self.messages.append(message)
        self.arrived.set()
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def step(text: str) -> None:
    print(f"smoke: {text}", flush=True)


def clean_copy(target: Path) -> Path:
    """The checkout's files as a clone has them (no stale ``build/``, venvs or state)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, check=True, capture_output=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def install(target: Path, source: Path) -> Path:
    """A fresh venv with ``pip install .`` of ``source``; returns its ``duo`` script."""
    venv.create(target, with_pip=True)
    python = target / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
    subprocess.run([python, "-m", "pip", "install", "-q", "."], cwd=source, check=True)
    return target / "bin" / "duo"


def call(base: str, path: str, body: dict[str, Any] | None = None, token: str | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method="GET" if data is None else "POST")
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read().decode()
    return json.loads(text) if text.strip().startswith(("{", "[")) else text


def wait_healthy(base: str, proc: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"smoke: duo serve exited with status {proc.returncode} before serving")
        try:
            call(base, "/health")
            return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.5)
    raise SystemExit("smoke: duo serve did not answer /health within the deadline")


def sign_in(base: str, relay: Relay) -> None:
    token = call(base, "/request-otp", {"email": EMAIL})["session_token"]
    if not relay.arrived.wait(60):
        raise SystemExit("smoke: no OTP mail reached the plain relay")
    (mail,) = relay.messages
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    match = re.search(r"\b(\d{6})\b", body.get_content())
    if not match or mail["To"] != EMAIL:
        raise SystemExit(f"smoke: unexpected OTP mail to {mail['To']}")
    checked = call(base, "/check-otp", {"otp": match.group(1)}, token)
    if checked.get("onboarded") is not False:
        raise SystemExit(f"smoke: /check-otp answered {checked}")
    call(base, "/check-session-token", {}, token)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="duo-smoke-") as tmp:
        step("pip install . into a clean venv")
        duo = install(Path(tmp) / "venv", clean_copy(Path(tmp) / "src"))
        relay = Relay()
        smtp_port, http_port = free_port(), free_port()
        controller = Controller(relay, hostname="127.0.0.1", port=smtp_port)
        controller.start()
        env = {k: v for k, v in os.environ.items() if not k.startswith("DUO_")}
        env |= {
            "DUO_STATE_DIR": str(Path(tmp) / "state"),
            "DUO_HTTP_HOST": "127.0.0.1",
            "DUO_HTTP_PORT": str(http_port),
            "DUO_CHAT_PORTS": str(free_port()),
            "DUO_SMTP_HOST": "127.0.0.1",
            "DUO_SMTP_PORT": str(smtp_port),
            "DUO_IP_BLOCKLIST_URLS": "",
        }
        step("duo serve on embedded defaults, mail through a relay without STARTTLS")
        log_path = Path(tmp) / "serve.log"
        log_file = log_path.open("wb")
        proc = subprocess.Popen([str(duo), "serve"], env=env, cwd=tmp, stderr=log_file, stdout=log_file)
        try:
            base = f"http://127.0.0.1:{http_port}"
            wait_healthy(base, proc, time.monotonic() + 180)
            step("/health answers; signing in with the mailed OTP")
            sign_in(base, relay)
            step("signed in; SIGTERM")
            proc.send_signal(signal.SIGTERM)
            status = proc.wait(60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            controller.stop()
            log_file.close()
            if sys.exc_info()[0] is not None:
                sys.stderr.write(log_path.read_text(errors="replace")[-4000:])
        if status != 0:
            raise SystemExit(f"smoke: duo serve exited with status {status} after SIGTERM")
        step("ok")


if __name__ == "__main__":
    sys.exit(main())
