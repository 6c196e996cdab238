"""Which workspace a command line means: the one `--team` names, or the only one Baton is in."""

from __future__ import annotations

from collections.abc import Collection


class NoWorkspace(ValueError):
    """The workspace cannot be told; the message is one sentence saying why."""


def chosen_workspace(
    teams: Collection[str], asked: str | None, *, asked_shown: str, none_yet: str
) -> str:
    """`asked` if Baton is in it, else the only workspace; `asked_shown` is `asked` as a
    sentence may quote it, `none_yet` what to say when Baton knows no workspace at all."""
    if asked:
        if asked not in teams:
            known = ", ".join(sorted(teams)) or "none yet"
            raise NoWorkspace(
                f"--team {asked_shown} is not a workspace Baton is installed in (it is in: "
                f"{known})."
            )
        return asked
    if len(teams) == 1:
        return next(iter(teams))
    if not teams:
        raise NoWorkspace(none_yet)
    raise NoWorkspace(
        f"Baton is installed in several workspaces ({', '.join(sorted(teams))}): say which "
        "with --team."
    )
