"""Messages of product validation and the labels of product states (translatable)."""

from flask_babel import lazy_gettext as _l

PRODUCT_ERRORS = {
    "unknown_category": _l("Choose a category from the list."),
    "not_a_leaf": _l("Choose the most specific category."),
    "title_length": _l("The Chinese title needs 2 to 120 characters."),
    "too_long": _l("At most 5,000 characters."),
    "unknown_unit": _l("Choose a sale unit from the list."),
    "positive_number": _l("Enter a number greater than zero."),
    "bad_tier": _l("Enter both a quantity and a price greater than zero."),
    "tier_below_moq": _l("The first price tier cannot start below the minimum order quantity."),
    "tier_price_rises": _l("Prices should not rise with larger quantities."),
    "price_needed": _l("Give at least one price tier, or tick “price on request”."),
    "lead_time": _l("Enter whole days from 0 to 365."),
    "required": _l("This attribute is required."),
    "not_a_number": _l("Enter a number."),
    "bad_unit": _l("Use the unit shown next to the field."),
    "below_min": _l("The value is below the allowed minimum."),
    "above_max": _l("The value is above the allowed maximum."),
    "step": _l("Too many decimals for this attribute."),
    "unknown_option": _l("Choose one of the options."),
    "not_single": _l("Choose only one option."),
    "too_many": _l("Too many choices."),
    "not_text": _l("Enter text."),
}
ATTRIBUTE_FALLBACK = _l("Check this value.")

IMAGE_ERRORS = {
    "empty": _l("The file is empty."),
    "too_large": _l("The photo is larger than 10 MB."),
    "bad_type": _l("Only JPEG, PNG and WebP photos are accepted (checked by content, not by name)."),
    "corrupt": _l("The photo cannot be read; it may be damaged or not really an image."),
    "too_many_pixels": _l("The photo has too many pixels (at most 25 megapixels)."),
    "bad_dimensions": _l("The photo is too small or too narrow."),
    "animated": _l("Animated images are not accepted."),
}

PRODUCT_STATES = {
    "draft": _l("Draft"),
    "pending": _l("Waiting for review"),
    "published": _l("Published"),
    "rejected": _l("Rejected"),
    "archived": _l("Archived"),
}
