"""The permission rules (flows/permissions.py) and the README's table agree."""

from pathlib import Path

from flows.permissions import RULES, Action, Role, may, permission_table

README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_readme_shows_exactly_the_rules() -> None:
    text = README.read_text(encoding="utf-8")
    start = text.index("<!-- permissions:start -->\n") + len("<!-- permissions:start -->\n")
    end = text.index("<!-- permissions:end -->")
    assert text[start:end].strip() == permission_table()


def test_every_action_has_a_rule_and_anyone_else_means_everyone() -> None:
    assert set(RULES) == set(Action)
    for action, roles in RULES.items():
        if Role.ANYONE in roles:
            assert all(may(action, [role]) for role in Role)
        else:
            assert not may(action, [Role.ANYONE]) and not may(action, [])
