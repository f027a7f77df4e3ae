"""Labels of RFQ states and quote outcomes, and the messages of refused actions (translatable)."""

from flask_babel import lazy_gettext as _l

RFQ_STATUS_LABELS = {
    "open": _l("Open"),
    "closed": _l("Closed"),
    "awarded": _l("Awarded"),
    "cancelled": _l("Cancelled"),
}

QUOTE_OUTCOME_LABELS = {
    "pending": _l("Pending"),
    "accepted": _l("Accepted"),
    "not_selected": _l("Not selected"),
    "cancelled": _l("RFQ cancelled"),
}

# Why an action on an RFQ was refused (RfqRefused.code → message).
REFUSALS = {
    "closed": _l("This request no longer accepts quotes: it is closed."),
    "deadline_passed": _l("This request no longer accepts quotes: its deadline has passed."),
    "full": _l("This request no longer accepts quotes: it has reached the maximum number of quotes."),
    "cancelled": _l("The buyer cancelled this request."),
    "awarded": _l("A quote has already been accepted for this request."),
    "already_quoted": _l("Your firm has already quoted for this request."),
    "own_request": _l("Your firm cannot quote for a request made by one of its own members."),
    "quote_expired": _l("This quote is no longer valid; ask the supplier for a new one."),
    "not_cancellable": _l("This request can no longer be cancelled."),
}
