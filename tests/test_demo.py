"""`baton demo` as a person runs it: one real process, offline, read as a skeptical VP of
Customer Success would read its transcript (dates, hours, people, formatting, the end)."""

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, available_timezones

import pytest

from flows.dates import add_months
from tests.helpers import run_script

pytestmark = pytest.mark.slow

STAMP = r"(\w{3} \d\d \w{3} \d{4} \d\d:\d\d) ([A-Za-z ]+?)"
SCENE = re.compile(rf"^── {STAMP} · (.*?) ─*$")
SEEN = re.compile(rf"^\[{STAMP}\] (.*?) · ")
ACTION = re.compile(rf"^  ▸ \[{STAMP}\] (.+?) \((.+?)\) (types|clicks|submits|closes|opens) ")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
ZONES = {"UTC": "UTC"}
for _name in sorted(available_timezones()):
    if _name.startswith(("Europe/", "America/")):
        ZONES.setdefault(_name.rsplit("/", 1)[-1].replace("_", " "), _name)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    where = tmp_path_factory.mktemp("demo-cwd")
    result = run_script(
        "demo", cwd=where, HTTPS_PROXY="http://127.0.0.1:9", HTTP_PROXY="http://127.0.0.1:9"
    )
    assert result.returncode == 0, result.stderr
    return result.stdout, where


@pytest.fixture(scope="module")
def out(demo: tuple[str, Path]) -> str:
    return demo[0]


def instant(stamp: str, city: str) -> datetime:
    local = datetime.strptime(stamp, "%a %d %b %Y %H:%M")
    return local.replace(tzinfo=ZoneInfo(ZONES[city])).astimezone(UTC)


def scenes(out: str) -> list[tuple[datetime, str, str, list[str]]]:
    """Each scene: its stamp, the city it is stamped in, its title, and the lines under it
    (up to the next scene)."""
    found: list[tuple[datetime, str, str, list[str]]] = []
    for line in out.splitlines():
        if match := SCENE.match(line):
            found.append((instant(match[1], match[2]), match[2], match[3], []))
        elif found:
            found[-1][3].append(line)
    return found


def test_the_demo_leaves_no_files_behind(demo: tuple[str, Path]) -> None:
    assert list(demo[1].iterdir()) == [], "the demo must not leave files behind"


def test_the_story_it_tells(out: str) -> None:
    assert "Maya Patel (manager) · only visible to you" in out
    assert "[Mon 04 Jan 2027 09:00 London] Chen Wei (CSM) · DM from Baton" in out
    assert "[Mon 04 Jan 2027 09:00 New York] Ana Ruiz (AE) · DM from Baton" in out
    # The handoff: channel, gate, completion, and the escalation of a quiet AE.
    assert (
        "#acct-acme-robotics · seen by Ana Ruiz (AE), Chen Wei (CSM), Maya Patel (manager)" in out
    )
    assert "The form stays open with 8 inline errors" in out
    assert "== Handoff packet: Acme Robotics ==" in out
    assert "[Mon 11 Jan 2027 09:00 Los Angeles] Maya Patel (manager) · DM from Baton" in out
    assert "still not complete two business days after close" in out
    # Check-ins: the AE is copied on #1 to #4 and not #5; a mismatch she answers; day 30.
    for number in range(1, 5):
        assert f"check-in #{number} of 4 you are copied on" in out
    assert "Check-in #5 for Acme Robotics" in out and "check-in #5 of 4" not in out
    assert "@Ana Ruiz clarifies: Hourly sync was agreed" in out
    assert "reached first value 28 days after close" in out
    assert "Day 30 for Acme Robotics: @Chen Wei is now the primary owner" in out
    # Renewal: a day-120 nudge at the CSM's 09:00, snoozed, then done.
    assert "[Fri 08 Jan 2027 09:00 London] Chen Wei (CSM) · DM from Baton" in out
    assert "I'll nudge again Tue 12 Jan at 09:00" in out
    assert "Business review for Vandelay Industries done by @Chen Wei" in out
    # Trust: a takeover refused, a hand-shared internal channel stopped and reported.
    assert "You can't create accounts in Baton" in out
    assert "only its manager (maya@northwind.test) or a workspace admin can change it" in out
    assert "is now shared with people outside the company" in out
    assert "Someone replays a captured delivery ← 409" in out
    assert "#ext-acme-robotics" in out
    # It ends with the year's numbers and the report, written outside where it ran.
    assert ":bar_chart: The numbers, last 365 days (every account;" in out
    assert "baton-demo-report.html: wrote it (5 accounts; one page" in out
    # A HubSpot deal reaching closed-won, and an imported book.
    assert "HubSpot → POST /crm/hubspot: 1 signed event" in out
    assert "HubSpot retries the same event ← 200: taken once" in out
    assert "1 problem in 1 of 2 rows; nothing was written." in out
    assert "Done: 2 created, 0 updated, 0 unchanged; set up in Slack: 2, still queued: 0." in out


def test_slack_formatting_is_rendered_not_printed_raw(out: str) -> None:
    prose = re.sub(r"`[^`\n]*`", "", out)  # code spans are kept as typed
    assert not re.findall(r"(?<![\w*])\*[^\s*][^*\n]*?\*(?![\w*])", prose), "raw *bold*"
    assert not re.findall(r"(?<![\w_])_[^\s_][^_\n]*?_(?![\w_])", prose), "raw _italics_"
    for raw in ("<@U", "<#C", "<!", "<http", "|See it", "&lt;", "&gt;", "&amp;"):
        assert raw not in out
    assert "See it in the channel (https://sandbox.slack.test/archives/" in out
    assert "[ Fill the handoff packet ] [ Add marketing context ]" in out
    assert "\x1b" not in out, "no ANSI escapes when stdout is not a terminal"


def test_the_long_help_list_is_shown_once(out: str) -> None:
    assert out.count("== Baton commands ==") == 1
    assert out.count("Example: `/baton pilot start") == 1


def test_scene_titles_agree_with_the_clock_under_them(out: str) -> None:
    found = scenes(out)
    assert len(found) >= 30
    for (earlier, *_), (later, _, title, _) in zip(found, found[1:], strict=False):
        assert earlier <= later, f"scene “{title}” goes back in time"
    for start, city, title, lines in found:
        shown = [instant(m[1], m[2]) for m in map(SEEN.match, lines) if m]
        shown += [instant(m[1], m[2]) for m in map(ACTION.match, lines) if m]
        assert all(at >= start for at in shown), f"“{title}” shows something from before it"
        acted = [m for m in map(ACTION.match, lines) if m]
        if acted:  # the day in the title is the day its people act, in the title's zone
            first = instant(acted[0][1], acted[0][2])
            zone = ZoneInfo(ZONES[city])
            assert first.astimezone(zone).date() == start.astimezone(zone).date(), title
        for day in WEEKDAYS:
            if day in title:
                assert start.strftime("%A") == day, f"“{title}” is on a {start:%A}"


def test_every_person_acts_in_their_own_working_hours(out: str) -> None:
    actions = [m for m in map(ACTION.match, out.splitlines()) if m]
    assert len(actions) >= 40
    cities: dict[str, set[str]] = {}
    for match in actions:
        local = datetime.strptime(match[1], "%a %d %b %Y %H:%M")
        assert 8 <= local.hour < 18, match[0]
        cities.setdefault(match[3], set()).add(match[2])
    # Each person's times are always in their one zone: the clock moves with it.
    assert all(len(zones) == 1 for zones in cities.values()), cities
    people = re.search(r"^People: (.*)\.", out, re.M)
    assert people is not None
    for name, zones in cities.items():
        if name != "Zed Okoro":
            assert f"{name} (" in people[1] and f", {next(iter(zones))})" in people[1]


def test_the_backup_for_the_csm_is_another_csm(out: str) -> None:
    cover = re.search(r"types `/baton cover @(.+?) with @(.+?) until", out)
    assert cover is not None
    away, backup = cover.groups()
    assert f"{away} (CSM)" in out and f"{backup} (CSM)" in out
    assert f"] {backup} (CSM) · DM from Baton\n    :busts_in_silhouette: You are covering" in out
    assert "(marketing ops) · DM from Baton\n    :busts_in_silhouette:" not in out


def test_packets_complete_a_plausible_positive_time_after_close(out: str) -> None:
    durations = re.findall(r"Completed (.+?) after close", out)
    assert len(durations) == 3
    for text in durations:
        parts = dict((unit, int(n)) for n, unit in re.findall(r"(\d+) (day|h|min)", text))
        minutes = parts.get("day", 0) * 1440 + parts.get("h", 0) * 60 + parts.get("min", 0)
        assert 0 < minutes < 14 * 1440, text


def test_accounts_have_plausible_dates(out: str) -> None:
    welcomes = re.findall(
        r"^\[(\w{3} \d\d \w{3} \d{4}) \d\d:\d\d UTC\] #acct-[\w-]+ · .*\n    == Welcome, (.+?) ==\n"
        r"    Closed-won · .*? · renews (\d\d \w{3} \d{4}) · term (\d+) months\n    (.*)$",
        out,
        re.M,
    )
    assert {w[1] for w in welcomes} >= {"Acme Robotics", "Initech", "Globex", "Soylent"}
    starts: dict[str, date] = {}
    for posted, name, renews, term, owner in welcomes:
        closed = datetime.strptime(posted, "%a %d %b %Y").date()
        renewal = datetime.strptime(renews, "%d %b %Y").date()
        start = add_months(renewal, -int(term))
        if "the AE" in owner:  # a new deal: its term runs from the day it closed
            assert start == closed, name
        else:  # an imported account: its term began before Baton knew of it
            assert start < closed, name
        starts[name] = start
    # A business review only when it is due: 120 days before the renewal, and never in
    # the first month of a contract.
    reviews = re.findall(
        r"Business review for (.+?) is due \w{3} (\d\d \w{3} \d{4}) \(renewal (\d\d \w{3} \d{4})\)",
        out,
    )
    assert reviews
    for name, due, renews in reviews:
        due_day = datetime.strptime(due, "%d %b %Y").date()
        renewal = datetime.strptime(renews, "%d %b %Y").date()
        # (a weekend's day rolls back to the Friday before)
        assert timedelta(days=120) <= renewal - due_day <= timedelta(days=123), name
        assert due_day - starts[name] >= timedelta(days=30), name


def test_it_ends_with_what_was_shown_and_what_to_try_next(out: str) -> None:
    shown, _, rest = out.partition("── What you saw ")
    assert rest, "the summary is missing"
    assert not SCENE.search(rest), "the summary comes after the last scene"
    recap, _, next_steps = rest.partition("── Try it on your own workspace ")
    assert 5 <= recap.count("\n  • ") <= 12
    assert next_steps.strip()
    listed = set(re.findall(r"\bbaton ([a-z]+)\b", next_steps))
    assert {"run", "import", "report", "status"} <= listed
    help_text = run_script("--help", cwd=Path.cwd()).stdout
    commands = set(re.findall(r"^    ([a-z]+) ", help_text, re.M))
    assert listed <= commands, listed - commands
