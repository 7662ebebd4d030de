"""Configuration: one TOML file, overridden by the old system's environment variables.

Every key is an attrs field carrying its environment names and its documentation, so
the loader, the validation messages and the test that keeps ``config.example.toml``
complete all read the same declaration.  A bad value raises :class:`ConfigError`
whose text is the one line the CLI prints before exiting with status 2.
"""

import ipaddress
import os
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import attrs
from email_validator import EmailNotValidError, validate_email

T = TypeVar("T")


class ConfigError(Exception):
    """A configuration problem, phrased as one line naming the key."""


def key(default: Any, *env: str, doc: str = "") -> Any:
    """Declare a config key: its default, the environment variables that override it."""
    return attrs.field(default=default, metadata={"env": env, "doc": doc})


def parse_port_range(text: str) -> list[int]:
    """``"5443"`` or ``"5443-5447"`` to the list of ports (inclusive); empty is none.

    Empty is how duo.workers tells a worker without a share of the range to serve HTTP only.
    """
    if not text.strip():
        return []
    first, _, last = text.strip().partition("-")
    try:
        low = int(first)
        high = int(last) if last else low
    except ValueError:
        raise ValueError(f"expected a port or a range such as 5443-5447, got {text!r}") from None
    if not (0 < low <= high <= 65535):
        raise ValueError(f"expected ports between 1 and 65535 with low <= high, got {text!r}")
    return list(range(low, high + 1))


def parse_report_email(text: str) -> list[tuple[str, int]]:
    """``"a@x 20 b@y"`` to ``[("a@x", 20), ("b@y", 1)]``; a weight follows its address."""
    pairs: list[tuple[str, int]] = []
    for token in text.replace(",", " ").split():
        if token.isdigit():
            if not pairs:
                raise ValueError(f"weight {token} before any address")
            pairs[-1] = (pairs[-1][0], int(token))
            continue
        try:
            address = validate_email(token, check_deliverability=False).normalized
        except EmailNotValidError as e:
            raise ValueError(f"unparsable address {token!r}: {e}") from None
        pairs.append((address, 1))
    return pairs


@attrs.frozen
class HttpConfig:
    host: str = key("0.0.0.0", "DUO_HTTP_HOST", doc="address the HTTP API listens on")
    port: int = key(5000, "DUO_HTTP_PORT", "PORT", doc="port of the HTTP API")
    cors_origins: str = key("*", "DUO_CORS_ORIGINS", doc="allowed CORS origins, comma-separated, or *")
    trusted_proxies: list[str] = key(
        [], "DUO_TRUSTED_PROXIES", doc="CIDRs whose X-Forwarded-For is believed (comma-separated in the env)"
    )
    status_port: int = key(0, "DUO_STATUS_PORT", doc="extra port serving only GET /status; 0 = off")
    public_url: str = key(
        "", "DUO_PUBLIC_URL", doc="URL clients reach this API at; default http://localhost:<port>"
    )
    maintenance: bool = key(False, "DUO_MAINTENANCE", doc="answer 503 and report 'down for maintenance'")
    access_log: bool = key(False, "DUO_ACCESS_LOG", doc="log every request (off for speed)")
    workers: int = key(
        0, "DUO_HTTP_WORKERS", doc="processes sharing the HTTP port (duo serve --workers); 0 = one per core in prod, 1 in dev"
    )


@attrs.frozen
class ChatConfig:
    ports: str = key("5443", "DUO_CHAT_PORTS", doc="chat WebSocket port or inclusive range, e.g. 5443-5447")
    host: str = key("0.0.0.0", "DUO_CHAT_HOST", doc="address the chat listeners bind")
    notification_api_url: str = key(
        "https://exp.host/--/api/v2/push/send", "DUO_NOTIFICATION_API_URL", doc="Expo push API (push/send) URL"
    )
    compression: bool = key(
        False, "DUO_CHAT_COMPRESSION", doc="accept per-message deflate when a chat client offers it"
    )
    allowed_origins: list[str] = key(
        [], "DUO_CHAT_ALLOWED_ORIGINS", doc="Origin headers a chat WebSocket may carry (comma-separated); empty = any"
    )


@attrs.frozen
class DatabaseConfig:
    host: str = key("", "DUO_DB_HOST", doc="host, address or unix-socket directory; empty = embedded PostgreSQL")
    port: int = key(5432, "DUO_DB_PORT", doc="PostgreSQL port")
    user: str = key("postgres", "DUO_DB_USER", doc="PostgreSQL user")
    password: str = key("", "DUO_DB_PASS", doc="PostgreSQL password (may be empty)")
    name: str = key("duo_api", "DUO_DB_API_NAME", doc="database name")


@attrs.frozen
class RedisConfig:
    url: str = key("", "DUO_REDIS_URL", doc="redis://host:port/db for multi-process routing; empty = in-process")


@attrs.frozen
class SmtpConfig:
    host: str = key("", "DUO_SMTP_HOST", doc="SMTP server; empty = append mail to the mail log in the state dir")
    port: int = key(587, "DUO_SMTP_PORT", doc="SMTP port")
    user: str = key("", "DUO_SMTP_USER", doc="SMTP login (empty = no login)")
    password: str = key("", "DUO_SMTP_PASS", doc="SMTP password")
    tls: str = key(
        "auto",
        "DUO_SMTP_TLS",
        doc="auto (STARTTLS when offered) | starttls (required) | ssl (TLS from connect) | none",
    )
    ca_file: str = key("", "DUO_SMTP_CA_FILE", doc="PEM file of CAs trusted for SMTP TLS; empty = system CAs")
    sender: str = key("Duolicious <noreply-otp@duolicious.app>", "DUO_SMTP_SENDER", doc="From: of OTP mail")


@attrs.frozen
class StorageConfig:
    r2_acct_id: str = key("", "DUO_R2_ACCT_ID", doc="Cloudflare R2 account id")
    access_key_id: str = key("", "DUO_R2_ACCESS_KEY_ID", doc="S3/R2 access key id")
    access_key_secret: str = key("", "DUO_R2_ACCESS_KEY_SECRET", doc="S3/R2 secret")
    bucket_name: str = key("", "DUO_R2_BUCKET_NAME", doc="photo bucket; empty = local media directory")
    audio_bucket_name: str = key("", "DUO_R2_AUDIO_BUCKET_NAME", doc="audio bucket")
    endpoint_url: str = key(
        "", "DUO_BOTO_ENDPOINT_URL", doc="S3 endpoint; default https://{acct}.r2.cloudflarestorage.com"
    )
    media_url: str = key("", "DUO_MEDIA_URL", doc="public base URL of the media; default <public_url>/media")


@attrs.frozen
class SafetyConfig:
    email_domain_policy: str = key(
        "allow_list", "DUO_EMAIL_DOMAIN_POLICY", doc="allow_list (only listed good domains) | block_list"
    )
    report_email: str = key(
        "",
        "DUO_REPORT_EMAIL",
        doc="moderators receiving reports: 'a@x 20 b@y 0' (address, optional weight); required in prod",
    )
    ip_blocklist_urls: list[str] = key(
        [
            "https://iplists.firehol.org/files/firehol_anonymous.netset",
            "https://iplists.firehol.org/files/firehol_abusers_30d.netset",
        ],
        "DUO_IP_BLOCKLIST_URLS",
        doc="FireHOL netsets refused at sign-in (460); fetched in prod only (dev reads cached copies in <state_dir>/firehol); empty = none",
    )
    ip_blocklist_refresh_seconds: int = key(14400, "DUO_IP_BLOCKLIST_REFRESH_SECONDS", doc="refresh period, s")
    disable_ip_rate_limit: bool = key(False, "DUO_DISABLE_IP_RATE_LIMIT", doc="test switch: no IP-keyed limits")
    disable_account_rate_limit: bool = key(
        False, "DUO_DISABLE_ACCOUNT_RATE_LIMIT", doc="test switch: no account-keyed limits"
    )


@attrs.frozen
class OpenAiConfig:
    api_key: str = key("", "OPENAI_API_KEY", doc="OpenAI key for selfie verification; empty = off")
    base_url: str = key("", "OPENAI_BASE_URL", doc="OpenAI API base URL override")
    nsfw_model: str = key("", "DUO_NSFW_MODEL", doc="ONNX model file for NSFW scoring; empty = job off")
    model: str = key("gpt-4.1-2025-04-14", "DUO_OPENAI_MODEL", doc="chat model that checks verification selfies")
    timeout_seconds: int = key(45, "DUO_OPENAI_TIMEOUT_SECONDS", doc="give up on one verification answer after, s")


@attrs.frozen
class CronConfig:
    max_random_start_delay: int = key(15, "DUO_CRON_MAX_RANDOM_START_DELAY", doc="start jitter bound, s")
    email_poll_seconds: int = key(10, "DUO_CRON_EMAIL_POLL_SECONDS", doc="notification digests poll, s")
    disable_mobile_notifications: bool = key(
        False,
        "DUO_CRON_DISABLE_MOBILE_NOTIFICATIONS",
        doc="dev/test: push digests are recorded and logged, not sent (the reference's flag file)",
    )
    autodeactivate2_poll_seconds: int = key(600, "DUO_CRON_AUTODEACTIVATE2_POLL_SECONDS", doc="poll, s")
    autodeactivate2_dry_run: bool = key(True, "DUO_CRON_AUTODEACTIVATE2_DRY_RUN", doc="dry run")
    garbage_records_poll_seconds: int = key(10, "DUO_CRON_GARBAGE_RECORDS_POLL_SECONDS", doc="poll, s")
    photo_cleaner_poll_seconds: int = key(60, "DUO_CRON_PHOTO_CLEANER_POLL_SECONDS", doc="poll, s")
    photo_cleaner_dry_run: bool = key(True, "DUO_CRON_PHOTO_CLEANER_DRY_RUN", doc="dry run")
    audio_cleaner_poll_seconds: int = key(60, "DUO_CRON_AUDIO_CLEANER_POLL_SECONDS", doc="poll, s")
    audio_cleaner_dry_run: bool = key(True, "DUO_CRON_AUDIO_CLEANER_DRY_RUN", doc="dry run")
    nsfw_photo_runner_poll_seconds: int = key(1, "DUO_CRON_NSFW_PHOTO_RUNNER_POLL_SECONDS", doc="poll, s")
    verification_poll_seconds: int = key(1, "DUO_CRON_VERIFICATION_POLL_SECONDS", doc="poll, s")
    profile_reporter_poll_seconds: int = key(600, "DUO_CRON_PROFILE_REPORTER_POLL_SECONDS", doc="poll, s")
    check_photos_poll_seconds: int = key(1, "DUO_CRON_CHECK_PHOTOS_POLL_SECONDS", doc="poll, s")
    check_photos_dry_run: bool = key(True, "DUO_CRON_CHECK_PHOTOS_DRY_RUN", doc="dry run")
    verification_requeue_seconds: int = key(
        300, "DUO_CRON_VERIFICATION_REQUEUE_SECONDS", doc="a verification job running this long is queued again, s"
    )
    leader_poll_seconds: int = key(
        5, "DUO_CRON_LEADER_POLL_SECONDS", doc="how often a process that is not the job leader tries to become it, s"
    )
    enabled: bool = key(True, "DUO_CRON_ENABLED", doc="run the scheduled jobs in this process (one leader at a time)")
    verification_image_base_url: str = key(
        "", "DUO_VERIFICATION_IMAGE_BASE_URL", doc="development: fetch <base>/450-<uuid>.jpg and send images inline"
    )
    verification_mock_response_file: str = key(
        "", "DUO_VERIFICATION_MOCK_RESPONSE_FILE", doc="development: this file's content replaces the model's answer"
    )


@attrs.frozen
class Config:
    env: str = key("dev", "DUO_ENV", doc="dev (OTP 000000 for @example.com) | prod")
    state_dir: str = key(".duo-state", "DUO_STATE_DIR", doc="embedded PostgreSQL, media and mail log live here")
    log_level: str = key("INFO", "DUO_LOG_LEVEL", doc="DEBUG | INFO | WARNING | ERROR")
    http: HttpConfig = attrs.field(factory=HttpConfig)
    chat: ChatConfig = attrs.field(factory=ChatConfig)
    database: DatabaseConfig = attrs.field(factory=DatabaseConfig)
    redis: RedisConfig = attrs.field(factory=RedisConfig)
    smtp: SmtpConfig = attrs.field(factory=SmtpConfig)
    storage: StorageConfig = attrs.field(factory=StorageConfig)
    safety: SafetyConfig = attrs.field(factory=SafetyConfig)
    openai: OpenAiConfig = attrs.field(factory=OpenAiConfig)
    cron: CronConfig = attrs.field(factory=CronConfig)

    @property
    def state_path(self) -> Path:
        return Path(self.state_dir).expanduser().resolve()

    @property
    def chat_ports(self) -> list[int]:
        return parse_port_range(self.chat.ports)

    @property
    def public_url(self) -> str:
        return (self.http.public_url or f"http://localhost:{self.http.port}").rstrip("/")

    @property
    def media_url(self) -> str:
        return (self.storage.media_url or f"{self.public_url}/media").rstrip("/")

    @property
    def report_recipients(self) -> list[tuple[str, int]]:
        """(address, weight) pairs of ``DUO_REPORT_EMAIL``; the first address is the sender."""
        return parse_report_email(self.safety.report_email)


def _is_section(cls: type) -> bool:
    return attrs.has(cls)


def _coerce(name: str, kind: Any, value: Any, from_env: bool) -> Any:
    """Turn a TOML or environment value into the declared type, or explain why not."""
    def bad(expected: str) -> ConfigError:
        return ConfigError(f"config key {name}: expected {expected}, got {value!r}")

    if kind is bool:
        if isinstance(value, bool):
            return value
        if from_env and isinstance(value, str) and value.strip().lower() in _BOOL_WORDS:
            return _BOOL_WORDS[value.strip().lower()]
        raise bad("a boolean (true/false)")
    if kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if from_env and isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                raise bad("an integer") from None
        raise bad("an integer")
    if kind is str:
        if isinstance(value, str):
            return value
        raise bad("a string")
    if kind == list[str]:
        if from_env and isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
        raise bad("a list of strings")
    raise AssertionError(f"unsupported config type {kind}")


_BOOL_WORDS = {
    "1": True, "true": True, "t": True, "yes": True, "on": True,
    "0": False, "false": False, "f": False, "no": False, "off": False,
}


def _build(cls: type[T], table: Mapping[str, Any], env: Mapping[str, str], prefix: str) -> T:
    unknown = set(table) - {f.name for f in attrs.fields(cls)}  # type: ignore[arg-type]
    if unknown:
        raise ConfigError(f"config key {prefix}{sorted(unknown)[0]}: unknown key")
    values: dict[str, Any] = {}
    for field in attrs.fields(cls):  # type: ignore[arg-type]
        name = f"{prefix}{field.name}"
        if isinstance(field.type, type) and _is_section(field.type):
            sub = table.get(field.name, {})
            if not isinstance(sub, dict):
                raise ConfigError(f"config key {name}: expected a table")
            values[field.name] = _build(field.type, sub, env, f"{name}.")
            continue
        env_name = next((e for e in field.metadata.get("env", ()) if e in env), None)
        if env_name is not None:
            values[field.name] = _coerce(f"{name} (from {env_name})", field.type, env[env_name], True)
        elif field.name in table:
            values[field.name] = _coerce(name, field.type, table[field.name], False)
    return cls(**values)


_CHECKS: list[tuple[str, Callable[[Config], object]]] = []


def _check(name: str) -> Callable[[Callable[[Config], object]], Callable[[Config], object]]:
    def register(fn: Callable[[Config], object]) -> Callable[[Config], object]:
        _CHECKS.append((name, fn))
        return fn

    return register


@_check("env")
def _check_env(config: Config) -> None:
    if config.env not in ("dev", "prod"):
        raise ValueError(f"expected dev or prod, got {config.env!r}")


@_check("chat.ports")
def _check_chat_ports(config: Config) -> None:
    parse_port_range(config.chat.ports)


@_check("http.workers")
def _check_workers(config: Config) -> None:
    if config.http.workers < 0:
        raise ValueError(f"expected 0 (automatic) or a positive count, got {config.http.workers}")


@_check("http.port")
def _check_http_port(config: Config) -> None:
    for port in (config.http.port, config.database.port, config.smtp.port):
        if not 0 <= port <= 65535:
            raise ValueError(f"port out of range: {port}")


@_check("http.trusted_proxies")
def _check_proxies(config: Config) -> None:
    for cidr in config.http.trusted_proxies:
        ipaddress.ip_network(cidr, strict=False)


@_check("smtp.ca_file")
def _check_ca_file(config: Config) -> None:
    if config.smtp.ca_file and not Path(config.smtp.ca_file).is_file():
        raise ValueError(f"no such file: {config.smtp.ca_file}")


@_check("smtp.tls")
def _check_tls(config: Config) -> None:
    if config.smtp.tls not in ("auto", "starttls", "ssl", "none"):
        raise ValueError(f"expected auto, starttls, ssl or none, got {config.smtp.tls!r}")


@_check("safety.email_domain_policy")
def _check_policy(config: Config) -> None:
    if config.safety.email_domain_policy not in ("allow_list", "block_list"):
        raise ValueError(f"expected allow_list or block_list, got {config.safety.email_domain_policy!r}")


@_check("safety.report_email")
def _check_report_email(config: Config) -> None:
    recipients = config.report_recipients
    if config.env == "prod" and not recipients:
        raise ValueError("required in prod (moderators receive the reports)")
    if recipients and not any(weight for _, weight in recipients):
        raise ValueError("every weight is 0: no one would receive reports")


@_check("log_level")
def _check_log_level(config: Config) -> None:
    if config.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ValueError(f"expected DEBUG, INFO, WARNING or ERROR, got {config.log_level!r}")


def load_config(path: Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Read ``path`` (optional), apply environment overrides and validate everything."""
    env = os.environ if env is None else env
    table: dict[str, Any] = {}
    if path is not None:
        try:
            table = tomllib.loads(Path(path).read_text("utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config file {path}: not found") from None
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"config file {path}: not valid TOML: {e}") from None
    config = _build(Config, table, env, "")
    for name, check in _CHECKS:
        try:
            check(config)
        except ValueError as e:
            raise ConfigError(f"config key {name}: {e}") from None
    return config


def documented_keys() -> list[tuple[str, tuple[str, ...], Any, str]]:
    """(dotted key, env names, default, doc) of every key: what the example file must show."""
    out: list[tuple[str, tuple[str, ...], Any, str]] = []

    def walk(cls: type, prefix: str) -> None:
        for field in attrs.fields(cls):
            if isinstance(field.type, type) and _is_section(field.type):
                walk(field.type, f"{prefix}{field.name}.")
            else:
                default = field.default
                if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
                    default = default.factory()
                out.append((f"{prefix}{field.name}", field.metadata.get("env", ()), default, field.metadata.get("doc", "")))

    walk(Config, "")
    return out
