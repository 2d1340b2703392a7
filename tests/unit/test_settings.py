"""Settings: environment and .env, and a token that never leaks into a repr."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import SHIPPED_CATALOG, Settings


def test_defaults_and_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DISCORD_TOKEN", "abc.def.ghi")
    monkeypatch.setenv("DEV_GUILD_ID", "1234")
    monkeypatch.setenv("DISCORD_API_BASE_URL", "http://127.0.0.1:9999/api/v10")
    settings = Settings()
    assert settings.dev_guild_id == 1234
    assert settings.catalog_path == SHIPPED_CATALOG
    assert settings.database_path == Path("filmclub.db")
    assert settings.sync_commands is False
    assert str(settings.discord_api_base_url) == "http://127.0.0.1:9999/api/v10"


def test_token_is_secret(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("DISCORD_TOKEN=from-dotenv-secret\n")
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    settings = Settings()
    assert settings.discord_token is not None
    assert settings.discord_token.get_secret_value() == "from-dotenv-secret"
    assert "from-dotenv-secret" not in repr(settings)
    assert "from-dotenv-secret" not in str(settings.model_dump())


def test_env_example_lists_every_setting() -> None:
    example = (Path(__file__).resolve().parents[2] / ".env.example").read_text()
    for name in Settings.model_fields:
        assert name.upper() in example, f"{name.upper()} is missing from .env.example"


def test_readme_configuration_table_mirrors_the_settings() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for name in Settings.model_fields:
        assert f"| `{name.upper()}` |" in readme, f"{name.upper()} is missing from the README's configuration table"


def test_the_web_server_is_off_until_a_port_is_set(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    off = Settings()
    assert off.web_port is None and off.web_host == "127.0.0.1" and off.web_rate_limit == 120
    assert off.web_url() is None
    monkeypatch.setenv("WEB_PORT", "")  # empty, as a commented-out choice or the e2e harness says it: still off
    monkeypatch.setenv("WEB_BASE_URL", " ")
    assert Settings().web_url() is None
    monkeypatch.setenv("WEB_PORT", "8080")
    assert Settings().web_url() == "http://127.0.0.1:8080"
    monkeypatch.setenv("WEB_HOST", "::1")
    assert Settings().web_url() == "http://[::1]:8080"
    monkeypatch.setenv("WEB_BASE_URL", "https://films.example.org/")
    assert Settings().web_url() == "https://films.example.org"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WEB_PORT", "0"),
        ("WEB_PORT", "65536"),
        ("WEB_PORT", "http"),
        ("WEB_BASE_URL", "films.example.org"),
        ("WEB_RATE_LIMIT", "-1"),
        ("WEB_HOST", ""),
    ],
)
def test_bad_web_settings_are_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, value: str) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=name.lower()):
        Settings()
