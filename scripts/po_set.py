"""Set translations in the zh_CN catalogue from "msgid<TAB>msgstr" lines on stdin (a maintenance helper)."""

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

PO = Path(__file__).resolve().parent.parent / "saas/translations/zh_Hans_CN/LC_MESSAGES/messages.po"

with open(PO, "rb") as fh:
    catalog = read_po(fh)
for line in sys.stdin:
    if "\t" in line:
        msgid, msgstr = line.rstrip("\n").split("\t", 1)
        message = catalog.get(msgid)
        if message is None:
            sys.exit(f"unknown msgid: {msgid}")
        # a plural message takes the same text for every form (Chinese has one)
        message.string = (msgstr,) * catalog.num_plurals if message.pluralizable else msgstr
        message.flags.discard("fuzzy")
with open(PO, "wb") as fh:
    write_po(fh, catalog, width=120)
missing = [m.id for m in catalog if m.id and not m.string]
print("untranslated:", missing)
