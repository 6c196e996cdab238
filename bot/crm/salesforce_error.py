"""Every failure of the Salesforce client, apart from the client itself: the webhook doors
and the sync catch it without importing simple-salesforce (and zeep, lxml, requests and
cryptography behind it), which is loaded only once a Salesforce token is set."""

from __future__ import annotations


class SalesforceError(Exception):
    """A sentence for a person, and how long to wait before trying again when waiting helps
    (None when it will not, e.g. a revoked token or an unknown field)."""

    def __init__(self, sentence: str, retry_after: float | None = None) -> None:
        super().__init__(sentence)
        self.sentence = sentence
        self.retry_after = retry_after
