"""Messages of product validation and the labels of product states (translatable)."""

from flask_babel import lazy_gettext as _l

PRODUCT_ERRORS = {
    "unknown_category": _l("Choose a category from the list."),
    "not_a_leaf": _l("Choose the most specific category."),
    "title_length": _l("The Chinese title needs 2 to 120 characters."),
    "too_long": _l("At most 5,000 characters."),
    "unknown_unit": _l("Choose a sale unit from the list."),
    "positive_number": _l("Enter a number greater than zero."),
    "quantity_bounds": _l("Enter a quantity from 0.001 to 99,999,999,999.999, with at most 3 decimal places."),
    "tier_qty_bounds": _l("Tier quantities go from 0.001 to 99,999,999,999.999, with at most 3 decimal places."),
    "tier_price_bounds": _l("Prices go from 0.01 to 999,999,999,999.99 yuan, with at most 2 decimal places."),
    "control_chars": _l("Remove the invisible control characters (such as NUL) from this field."),
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
    "sku_format": _l("Use at most 64 letters, digits and the characters - _ . / for the SKU."),
    "sku_taken": _l("Another of your products (possibly archived) already has this SKU."),
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

# Bulk import (saas/marketplace/bulk.py): problems with the whole file (row 0) and with single rows.
IMPORT_ERRORS = {
    "empty": _l("The file is empty."),
    "too_large": _l("The file is larger than %(mb)s MB."),
    "unpacked_too_large": _l(
        "The workbook is too large once unpacked (at most %(mb)s MB, no part compressed more than %(ratio)s : 1). "
        "Split it into several files."
    ),
    "too_many_columns": _l("The file has values in more than %(n)s columns. Keep the columns of the template."),
    "too_slow": _l(
        "The file is too large or complex to check within %(s)s seconds. Split it into several smaller files."
    ),
    "bad_type": _l("Only Excel workbooks (.xlsx) and CSV files are accepted (checked by content, not by name)."),
    "old_xls": _l("This is an old Excel 97–2003 file (.xls). Save it as an Excel workbook (.xlsx) and try again."),
    "corrupt": _l("The workbook cannot be read; it may be damaged."),
    "bad_encoding": _l("The CSV file is neither UTF-8 nor GBK/GB18030 text. Save it as “CSV UTF-8” and try again."),
    "bad_csv": _l("The CSV file cannot be read (a quote may be left open or a cell is far too long)."),
    "no_headers": _l("No column headings found. Keep the headings of the template (Chinese, English or keys)."),
    "missing_columns": _l("Required columns are missing: %(columns)s."),
    "unknown_column": _l("Unknown column “%(column)s”: remove it or use the template of the category."),
    "duplicate_column": _l("The column “%(column)s” appears more than once."),
    "no_rows": _l("The file has no product rows."),
    "too_many_rows": _l("The file has more than %(n)s product rows. Split it into several files."),
    "write_failed": _l("The import could not be saved, so nothing was changed. Please try again."),
    "category_required": _l("Give the category (the template offers it in a drop-down list)."),
    "unknown_category": _l("Unknown category. Use the category offered by the template."),
    "not_a_leaf": _l("Choose the most specific category."),
    "bad_flag": _l("Enter 是 or 否 (yes or no)."),
    "duplicate_sku": _l("This SKU appears in more than one row: %(rows)s."),
    "duplicate_id": _l("This product ID appears in more than one row: %(rows)s."),
    "same_product": _l("Several rows change the same product: %(rows)s."),
    "unknown_id": _l("None of your products has this ID. Clear the cell to create a new product."),
    "archived": _l("This product is archived; an import cannot change it."),
    "other_category": _l("This SKU belongs to one of your products in another category (%(category)s)."),
    "unknown_attribute": _l("Not an attribute of this row's category; leave it empty."),
    "allowed": _l("Allowed: %(values)s."),
}
