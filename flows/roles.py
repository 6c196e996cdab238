"""Who is who around an account."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    AE = "ae"
    CSM = "csm"
    AM = "am"
    MANAGER = "manager"

    @property
    def title(self) -> str:
        return _TITLES[self]


_TITLES = {
    Role.AE: "Account Executive",
    Role.CSM: "Customer Success Manager",
    Role.AM: "Account Manager",
    Role.MANAGER: "Manager",
}
