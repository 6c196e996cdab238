import pytest

from bot.platform.settings import ConfigError, Settings, load_settings


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)


def test_defaults_need_no_environment() -> None:
    settings = load_settings(env_file=None)
    assert settings.port == 3000
    assert settings.baton_timezone == "UTC"
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.database_url.startswith("sqlite:///")
    assert not settings.socket_mode


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("PORT", "abc", "PORT expects a whole number from 1 to 65535 (got 'abc')."),
        ("PORT", "70000", "PORT expects a whole number from 1 to 65535"),
        ("BATON_TIMEZONE", "Mars/Olympus", "BATON_TIMEZONE expects an IANA time zone"),
        ("SLACK_API_URL", "slack.com/api", "SLACK_API_URL expects an http(s) URL"),
        ("DATABASE_URL", "mysql://x/y", "DATABASE_URL expects a sqlite:///path or postgresql"),
        ("SLACK_BOT_TOKEN", "xoxp-user-token", "SLACK_BOT_TOKEN expects a bot token"),
        ("SLACK_APP_TOKEN", "xoxb-not-app", "SLACK_APP_TOKEN expects an app-level token"),
        ("BATON_CHANNEL_PRIVATE", "maybe", "BATON_CHANNEL_PRIVATE expects true or false"),
        ("BATON_ARR_THRESHOLD", "lots", "BATON_ARR_THRESHOLD expects an annual amount"),
        ("BATON_MANAGERS", "maya,U1", "BATON_MANAGERS expects comma-separated Slack user ids"),
    ],
)
def test_malformed_setting_is_one_sentence_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as raised:
        load_settings(env_file=None)
    message = str(raised.value)
    assert message.startswith(expected)
    assert message.endswith(".") and "\n" not in message


def test_secrets_are_never_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxp-super-secret-value")
    with pytest.raises(ConfigError) as raised:
        load_settings(env_file=None)
    assert "super-secret" not in str(raised.value)


def test_missing_required_setting_names_it() -> None:
    settings = load_settings(env_file=None)
    with pytest.raises(ConfigError, match=r"^SLACK_BOT_TOKEN is not set: .*\.$"):
        settings.require("slack_bot_token")


def test_normalisations(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9/api")
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/db")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "   ")
    settings = load_settings(env_file=None)
    assert settings.slack_api_url == "http://127.0.0.1:9/api/"
    assert settings.database_url == "postgresql+psycopg://u@h/db"
    assert settings.socket_mode
    assert settings.slack_signing_secret is None


def test_dotenv_file_is_read(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PORT", "BATON_TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    env = tmp_path / ".env"
    env.write_text("PORT=4123\nBATON_TIMEZONE=Europe/Berlin\n")
    settings = load_settings(env_file=env)
    assert settings.port == 4123
    assert str(settings.timezone) == "Europe/Berlin"


def test_handoff_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BATON_CHANNEL_PRIVATE", "false")
    monkeypatch.setenv("BATON_ARR_THRESHOLD", "100_000")
    monkeypatch.setenv("BATON_MANAGERS", " U0MAYA1, W0BOSS2 ")
    settings = load_settings(env_file=None)
    assert settings.baton_channel_private is False
    assert settings.baton_arr_threshold == 100000
    assert settings.managers == {"U0MAYA1", "W0BOSS2"}
    assert settings.baton_marketing_required is True and settings.marketing_users == set()


def test_holidays_come_from_the_configured_country() -> None:
    from datetime import date

    from bot.platform.settings import load_settings

    assert date(2027, 12, 25) not in load_settings(None).holidays  # weekends only by default
    german = load_settings(None, baton_holidays_country="de", baton_holidays_subdivision="by")
    assert date(2027, 1, 6) in german.holidays  # Epiphany: Bavaria, not all of Germany
    assert date(2027, 1, 6) not in load_settings(None, baton_holidays_country="DE").holidays


def test_a_bad_holiday_setting_is_one_sentence() -> None:
    import pytest

    from bot.platform.settings import ConfigError, load_settings

    with pytest.raises(ConfigError, match="is not a country"):
        load_settings(None, baton_holidays_country="XX")
    with pytest.raises(ConfigError, match="needs BATON_HOLIDAYS_COUNTRY"):
        load_settings(None, baton_holidays_subdivision="CA")
