from pathlib import Path

import pytest

from duo.config import ConfigError, documented_keys, load_config, parse_port_range
from tools.config_example import render

ROOT = Path(__file__).resolve().parent.parent


def test_defaults_are_embedded() -> None:
    config = load_config(env={})
    assert config.env == "dev" and config.database.host == "" and config.storage.bucket_name == ""
    assert config.http.port == 5000 and config.chat_ports == [5443]
    assert config.smtp.tls == "auto"  # STARTTLS when the relay offers it, plain otherwise


def test_environment_overrides_file(tmp_path: Path) -> None:
    path = tmp_path / "duo.toml"
    path.write_text('env = "prod"\n[http]\nport = 6000\n[database]\nhost = "db.internal"\n')
    config = load_config(path, env={"DUO_DB_HOST": "/var/run/postgresql", "DUO_DB_PASS": "", "DUO_REPORT_EMAIL": "mods@example.com", "DUO_CHAT_PORTS": "5443-5447"})
    assert config.env == "prod" and config.http.port == 6000
    assert config.database.host == "/var/run/postgresql" and config.database.password == ""
    assert config.chat_ports == [5443, 5444, 5445, 5446, 5447]
    assert load_config(env={"DUO_CRON_PHOTO_CLEANER_DRY_RUN": "false"}).cron.photo_cleaner_dry_run is False
    assert load_config(env={"DUO_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.1"}).http.trusted_proxies == ["10.0.0.0/8", "192.168.1.1"]


@pytest.mark.parametrize(
    ("toml", "env", "named"),
    [
        ("bogus = 1\n", {}, "bogus"),
        ("[http]\nprot = 1\n", {}, "http.prot"),
        ("[http]\nport = \"x\"\n", {}, "http.port"),
        ("", {"DUO_HTTP_PORT": "eighty"}, "http.port"),
        ("", {"DUO_CHAT_PORTS": "5447-5443"}, "chat.ports"),
        ("", {"DUO_CHAT_PORTS": "abc"}, "chat.ports"),
        ("", {"DUO_REPORT_EMAIL": "not an address"}, "safety.report_email"),
        ("", {"DUO_ENV": "staging"}, "env"),
        ("", {"DUO_CRON_EMAIL_DRY_RUN": "x", "DUO_CRON_PHOTO_CLEANER_DRY_RUN": "maybe"}, "cron.photo_cleaner_dry_run"),
        ("", {"DUO_TRUSTED_PROXIES": "10.0.0.0/33"}, "http.trusted_proxies"),
        ("", {"DUO_SMTP_TLS": "tls"}, "smtp.tls"),
        ("", {"DUO_SMTP_CA_FILE": "/nonexistent/ca.pem"}, "smtp.ca_file"),
        ("[http\n", {}, "not valid TOML"),
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, toml: str, env: dict[str, str], named: str) -> None:
    path = tmp_path / "duo.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError) as e:
        load_config(path, env=env)
    assert named in str(e.value) and "\n" not in str(e.value)


def test_port_ranges() -> None:
    assert parse_port_range("5443") == [5443]
    assert parse_port_range("1-3") == [1, 2, 3]
    assert parse_port_range("") == []  # a worker of duo serve --workers without chat ports
    for bad in ("0", "70000", "3-1", "1-2-3", "-"):
        with pytest.raises(ValueError):
            parse_port_range(bad)


def test_example_file_documents_every_key_with_its_default() -> None:
    text = (ROOT / "config.example.toml").read_text()
    assert text == render(), "regenerate with: .venv/bin/python -m tools.config_example"
    assert load_config(ROOT / "config.example.toml", env={}) == load_config(env={})
    for dotted, env, _default, _doc in documented_keys():
        assert f"{dotted.rsplit('.', 1)[-1]} = " in text, dotted
        for name in env:
            assert name in text, name


def test_report_email_weights_and_requirement() -> None:
    config = load_config(env={"DUO_REPORT_EMAIL": "Mods@Example.com 20 a@example.com 0 b@example.com"})
    assert config.report_recipients == [("Mods@example.com", 20), ("a@example.com", 0), ("b@example.com", 1)]
    with pytest.raises(ConfigError, match="safety.report_email"):
        load_config(env={"DUO_ENV": "prod", "DUO_REPORT_EMAIL": ""})
    with pytest.raises(ConfigError, match="every weight is 0"):
        load_config(env={"DUO_REPORT_EMAIL": "a@example.com 0"})
    with pytest.raises(ConfigError, match="weight 3 before any address"):
        load_config(env={"DUO_REPORT_EMAIL": "3 a@example.com"})
