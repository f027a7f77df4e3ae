"""User-facing labels of the answer scales and the messages of assessment errors (all translatable)."""

from flask_babel import lazy_gettext as _l

SCALE_LABELS = {
    "adoption": {
        "0": _l("Not used"),
        "1": _l("Considering"),
        "2": _l("Pilot"),
        "3": _l("Testing"),
        "4": _l("Rolling out"),
        "5": _l("Fully in use"),
    },
    "tri_state": {"no": _l("No"), "partly": _l("Partly"), "yes": _l("Yes")},
    "in_use_planned": {
        "none": _l("Neither"),
        "planned": _l("Planned"),
        "in_use": _l("In use"),
        "both": _l("In use and extending"),
    },
    "requirement": {
        "none": _l("Not met"),
        "partly": _l("Partly met"),
        "mostly": _l("Mostly met"),
        "fully": _l("Fully met"),
    },
}

CONFIDENCE_LABELS = {
    "1": _l("1 – a guess"),
    "2": _l("2 – unsure"),
    "3": _l("3 – fairly sure"),
    "4": _l("4 – sure"),
    "5": _l("5 – certain, with records"),
}

ERRORS = {
    "unknown_option": _l("That choice is not one of the options."),
    "exclusive_mixed": _l("“None of these” cannot be combined with other choices."),
    "bad_number": _l("Enter a number."),
    "out_of_range": _l("The number is outside the allowed range."),
    "too_precise": _l("Use at most 6 decimal places."),
    "bad_confidence": _l("Choose a confidence from 1 to 5."),
    "na_not_allowed": _l("This question cannot be marked as not applicable."),
    "not_draft": _l("This assessment is submitted and can no longer be changed."),
    "unknown_question": _l("This question is not part of the assessment."),
    "incomplete": _l("Some questions are still unanswered; see the list below."),
    "too_soon": _l("A new assessment can start 90 days after the last submission, on %(date)s."),
    "not_submitted": _l("Only submitted assessments can be verified."),
    "empty": _l("The file is empty."),
    "too_large": _l("The file is larger than %(mb)d MB."),
    "bad_type": _l("Only PDF, JPEG and PNG files are accepted (checked by content, not by name)."),
    "bad_image": _l("The image cannot be read or is too large in pixels."),
    "no_file": _l("Choose a file to upload."),
}

STATUS_LABELS = {"draft": _l("Draft"), "submitted": _l("Submitted"), "verified": _l("Verified on site")}
# The engine's override statuses: "approved" keeps the firm's answer, "overridden" replaces it in the verified view.
OVERRIDE_LABELS = {"approved": _l("Confirmed"), "overridden": _l("Corrected")}
