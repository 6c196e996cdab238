"""The demo's terminal renderer (`bot.sandbox.terminal`): Slack's Block Kit and mrkdwn as
a person reads them in a terminal, and never a crash or a raw escape on hostile input."""

import io
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.sandbox.terminal import PLAIN, Names, Style, blocks, mrkdwn, style_for
from tests.nasty import NASTY_STRINGS, hostile_text, json_values

NAMES = Names(users={"U1": "Ana Ruiz", "U2": "Chen Wei"}, channels={"C1": "acct-acme"})
ANSI = Style(ansi=True)
# The only escapes the renderer writes: SGR bold, dim, italic, strike and their resets.
OUR_ESCAPES = re.compile(r"\x1b\[(?:1|2|3|9|22|23|29)m")


@pytest.mark.parametrize(
    ("source", "shown"),
    [
        ("*Check-in #5* for *Acme*", "Check-in #5 for Acme"),
        ("_Goal:_ Value documented.", "Goal: Value documented."),
        ("~gone~ and *_both_*", "gone and both"),
        (
            "<https://a.test/x_y_z|See it in the channel>",
            "See it in the channel (https://a.test/x_y_z)",
        ),
        ("<https://a.test/x>", "https://a.test/x"),
        ("<mailto:ana@a.test|ana@a.test>", "ana@a.test"),
        ("by <@U1> and <@U2|chen>", "by @Ana Ruiz and @Chen Wei"),
        ("<@U9|zed> and <@U8>", "@zed and @U8"),
        ("in <#C1> or <#C7|general>", "in #acct-acme or #general"),
        ("<!here> <!channel> <!subteam^S1|@admins>", "@here @channel @admins"),
        ("&lt;account&gt; &amp; more, &amp;lt; once", "<account> & more, &lt; once"),
        ("`/baton owner &lt;account&gt;` and `*raw*`", "`/baton owner <account>` and `*raw*`"),
        ("```two\nlines```", "two\nlines"),
        (">Hi there,\nsecond line", "│ Hi there,\nsecond line"),
        ("snake_case_name, 2*3*4, BATON_MANAGERS", "snake_case_name, 2*3*4, BATON_MANAGERS"),
        ("*unclosed and _half", "*unclosed and _half"),
        ("* not bold *", "* not bold *"),
        ("<not a token", "<not a token"),
        ("<@U1", "<@U1"),
    ],
)
def test_mrkdwn_as_a_terminal_shows_it(source: str, shown: str) -> None:
    assert mrkdwn(source, NAMES) == shown


def test_ansi_styles_on_a_terminal() -> None:
    assert mrkdwn("*bold* _it_ ~s~", NAMES, ANSI) == (
        "\x1b[1mbold\x1b[22m \x1b[3mit\x1b[23m \x1b[9ms\x1b[29m"
    )
    # A URL's underscores and a label's asterisks are not formatting.
    assert mrkdwn("<https://a.test/_x_|*label*>", NAMES, ANSI) == "*label* (https://a.test/_x_)"


def test_blocks_with_buttons_fields_and_headers() -> None:
    message = [
        {"type": "header", "text": {"type": "plain_text", "text": "Handoff packet: Acme"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "*Goal* for <@U1>"}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "Due"},
            "accessory": {"type": "button", "text": {"type": "plain_text", "text": "Open"}},
        },
        {"type": "input", "label": {"type": "plain_text", "text": "Summary"}},
        {"type": "input", "label": {"type": "plain_text", "text": "Sentiment"}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "_small print_"}]},
        {"type": "divider"},
        {
            "type": "actions",
            "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": "Done"}},
                {"type": "button", "text": {"type": "plain_text", "text": "Snooze *1* day"}},
                {"type": "static_select", "placeholder": {"type": "plain_text", "text": "Pick"}},
            ],
        },
    ]
    assert blocks(message, "", NAMES) == "\n".join(
        [
            "== Handoff packet: Acme ==",
            "Goal for @Ana Ruiz",
            "Due",
            "[ Open ]",
            "Fields: Summary · Sentiment",
            "small print",
            "---",
            "[ Done ] [ Snooze *1* day ] [ Pick ▾ ]",  # plain_text is shown as typed
        ]
    )
    assert blocks(None, "*fallback* <@U2>", NAMES) == "fallback @Chen Wei"


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize(
    ("tty", "environ", "ansi"),
    [
        (True, {}, True),
        (False, {}, False),
        (True, {"NO_COLOR": "1"}, False),
        (True, {"NO_COLOR": ""}, True),  # no-color.org: only a non-empty value counts
        (True, {"TERM": "dumb"}, False),
    ],
)
def test_ansi_only_on_a_terminal_and_never_with_no_color(tty, environ, ansi) -> None:
    assert style_for(_Stream(tty), environ) == Style(ansi=ansi)


def test_a_closed_stream_is_not_a_terminal() -> None:
    stream = io.StringIO()
    stream.close()
    assert style_for(stream, {}) == PLAIN


def _printable(text: str) -> bool:
    text.encode("utf-8")  # raises on a lone surrogate: print() would crash on it
    # None of the renderer's own markers leaks (private-use characters it reserves).
    return not re.search("[\ue000-\ue0ff\U000f0000-\U0010ffff]", text)


@given(st.one_of(hostile_text(), st.sampled_from(NASTY_STRINGS)), st.booleans())
def test_any_text_renders_printable_and_drives_no_terminal(text: str, ansi: bool) -> None:
    shown = mrkdwn(text, NAMES, Style(ansi=ansi))
    assert _printable(shown)
    assert "\x1b" not in OUR_ESCAPES.sub("", shown)  # nothing typed becomes an escape


@given(
    st.lists(
        st.sampled_from(["*", "_", "~", "`", "<", ">", "|", "@U1", "#C1", "&amp;", "&lt;"])
        | st.text(max_size=3),
        max_size=30,
    ).map("".join)
)
def test_malformed_mrkdwn_never_raises(text: str) -> None:
    assert _printable(mrkdwn(text, NAMES))


@given(st.from_regex(r"[A-Za-z][A-Za-z ]{0,20}[A-Za-z]", fullmatch=True))
def test_well_formed_emphasis_leaves_no_marker(word: str) -> None:
    for mark in "*_~":
        assert mrkdwn(f"a {mark}{word}{mark}, b", NAMES) == f"a {word}, b"


@given(
    st.text(
        alphabet=st.characters(
            blacklist_characters="*_~`<>&\ue000", blacklist_categories=("Cc", "Cs", "Co")
        )
    )
)
def test_text_without_markup_is_shown_as_typed(text: str) -> None:
    assert mrkdwn(text, NAMES) == text


@given(json_values(), json_values(max_leaves=4))
def test_any_blocks_render_without_raising(value, fallback) -> None:
    assert _printable(blocks(value, fallback, NAMES))
    assert _printable(blocks([value, {"type": "section", "text": value}], "", NAMES, ANSI))
