"""manifest.yml is valid for Slack and grants exactly what the code needs."""

import ast
import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from slack_sdk.web.async_client import AsyncWebClient

from bot.platform.scopes import FEATURE_SCOPES, MANIFEST, METHOD_SCOPES, manifest_bot_scopes
from bot.sandbox.state import SandboxWorkspace

ROOT = Path(__file__).resolve().parent.parent
# Slack's published schema (slackapi/manifest-schema, MIT), vendored so a bare clone can
# test; when the workplace's shared copy is beside the repo, the two must match.
SCHEMA = Path(__file__).resolve().parent / "slack" / "manifest.schema.1.0.0.json"
SHARED_SCHEMA = ROOT.parent / "shared" / "slack" / "manifest.schema.1.0.0.json"
PRODUCT_SOURCES = [
    p for p in (ROOT / "bot").rglob("*.py") if "sandbox" not in p.relative_to(ROOT).parts
]


def manifest() -> dict:
    return yaml.safe_load(MANIFEST.read_text())


def called_methods() -> set[str]:
    """Web API methods the product calls: client.<method>() on any slack_sdk client."""
    methods = set()
    for path in PRODUCT_SOURCES:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                name = node.func.attr
                if (
                    "_" in name
                    and not name.startswith("_")
                    and hasattr(AsyncWebClient, name)
                    and name not in ("api_call",)
                ):
                    methods.add(name.replace("_", "."))
    return methods


def listened_events() -> set[str]:
    events = set()
    for path in PRODUCT_SOURCES:
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "event"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                events.add(node.args[0].value)
    return events


def test_manifest_validates_against_slacks_published_schema() -> None:
    jsonschema.validate(manifest(), json.loads(SCHEMA.read_text()))


@pytest.mark.skipif(not SHARED_SCHEMA.exists(), reason=f"no shared copy at {SHARED_SCHEMA}")
def test_vendored_schema_matches_the_shared_copy() -> None:
    assert json.loads(SCHEMA.read_text()) == json.loads(SHARED_SCHEMA.read_text())


def test_schema_rejects_a_broken_manifest() -> None:
    broken = manifest()
    broken["features"]["slash_commands"][0]["command"] = 42
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, json.loads(SCHEMA.read_text()))


def test_manifest_declares_the_command_interactivity_home_and_socket_mode() -> None:
    data = manifest()
    (command,) = data["features"]["slash_commands"]
    assert command["command"] == "/baton" and command["usage_hint"]
    assert data["settings"]["interactivity"]["is_enabled"]
    assert data["settings"]["socket_mode_enabled"] is True
    assert data["features"]["app_home"]["home_tab_enabled"]
    assert data["settings"]["event_subscriptions"]["request_url"].endswith("/slack/events")


def test_code_calls_only_methods_in_the_scope_table() -> None:
    called = called_methods()
    assert "chat.postMessage" in called and "views.publish" in called  # the scan works
    assert called <= set(METHOD_SCOPES), f"add to METHOD_SCOPES: {called - set(METHOD_SCOPES)}"


def test_manifest_grants_every_scope_the_table_needs_and_no_more() -> None:
    needed = {scope for scopes in METHOD_SCOPES.values() for scope in scopes} | set(FEATURE_SCOPES)
    granted = manifest_bot_scopes()
    assert needed <= granted, f"missing from manifest.yml: {needed - granted}"
    assert granted <= needed, f"least privilege: drop {granted - needed}"


def test_sandbox_implements_every_method_in_the_table() -> None:
    for method in METHOD_SCOPES:
        assert hasattr(SandboxWorkspace, "api_" + method.replace(".", "_")), method


def test_every_event_listened_to_is_subscribed() -> None:
    subscribed = set(manifest()["settings"]["event_subscriptions"]["bot_events"])
    assert "app_home_opened" in subscribed
    assert listened_events() <= subscribed
