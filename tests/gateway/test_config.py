"""Settings: defaults, TOML file, GUICHET_* environment overrides, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import ConfigError, load_settings

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def test_environment_overrides_file(tmp_path: Path) -> None:
    f = tmp_path / "g.toml"
    f.write_text('[server]\nport = 9000\nhost = "127.0.0.1"\n[bot]\nanswer_threshold = 0.7\n')
    s = load_settings(f, environ={"GUICHET_SERVER_PORT": "9100", "GUICHET_WEBCHAT_ALLOWED_ORIGINS": "a, b"})
    assert s.server.port == 9100
    assert s.bot.answer_threshold == 0.7
    assert s.webchat.allowed_origins == ["a", "b"]


def test_config_file_from_environment(tmp_path: Path) -> None:
    f = tmp_path / "g.toml"
    f.write_text("[handoff]\nfirst_response_minutes = 90\n")
    assert load_settings(environ={"GUICHET_CONFIG": str(f)}).handoff.first_response_minutes == 90


@pytest.mark.parametrize(
    ("content", "env", "message"),
    [
        ("[server]\nprot = 1\n", {}, "unknown setting server.prot"),
        ("[nope]\nx = 1\n", {}, "unknown section [nope]"),
        ("[email]\nreopen_days = 14\n", {}, "email.reopen_days is now tickets.reopen_days"),
        ("[server]\nport = 'eighty'\n", {}, "server.port: expected int"),
        ("[server\n", {}, "g.toml"),
        ("", {"GUICHET_BOT_ENABLED": "maybe"}, "bot.enabled: expected bool"),
    ],
)
def test_bad_settings_are_named(tmp_path: Path, content: str, env: dict[str, str], message: str) -> None:
    f = tmp_path / "g.toml"
    f.write_text(content)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_settings(f, environ=env)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "absent.toml", environ={})


def test_example_config_is_complete_and_valid() -> None:
    """config.example.toml sets every setting, so it documents every one."""
    import dataclasses
    import tomllib

    from gateway.config import Settings

    data = tomllib.loads(EXAMPLE.read_text())
    load_settings(EXAMPLE, environ={})
    for section in dataclasses.fields(Settings):
        keys = {f.name for f in dataclasses.fields(getattr(Settings(), section.name))}
        assert set(data.get(section.name, {})) == keys, section.name
