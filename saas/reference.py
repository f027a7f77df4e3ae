"""Reference data of the Jiaxing plan: industries, counties, parks, the SME size rule and the USCC check."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l

INDUSTRIES = {
    "silk": _l("Silk (cocoon & silk)"),
    "warp_knitting": _l("Warp knitting"),
    "textile": _l("Textiles"),
    "garment": _l("Garments"),
    "leather": _l("Leather"),
    "luggage": _l("Luggage & bags"),
    "wood": _l("Wood products"),
    "other": _l("Other industry"),
}

# County-level units of Jiaxing, keyed by a stable code; the value is the administrative division code.
COUNTIES = {
    "nanhu": _l("Nanhu District"),
    "xiuzhou": _l("Xiuzhou District"),
    "jiashan": _l("Jiashan County"),
    "pinghu": _l("Pinghu City"),
    "haiyan": _l("Haiyan County"),
    "haining": _l("Haining City"),
    "tongxiang": _l("Tongxiang City"),
}
DIVISION_CODES = {
    "nanhu": "330402",
    "xiuzhou": "330411",
    "jiashan": "330421",
    "haiyan": "330424",
    "haining": "330481",
    "pinghu": "330482",
    "tongxiang": "330483",
}

# Parks offered as suggestions on the registration form (free text is allowed).
PARKS = {
    "nanhu": ["嘉兴经济技术开发区", "南湖高新技术产业园区", "嘉兴科技城"],
    "xiuzhou": ["嘉兴秀洲高新技术产业开发区", "王江泾镇纺织产业园", "洪合毛衫产业园"],
    "jiashan": ["嘉善经济技术开发区", "嘉善县木业产业园", "姚庄经济开发区"],
    "pinghu": ["平湖经济技术开发区", "平湖箱包产业园", "独山港经济开发区"],
    "haiyan": ["海盐经济开发区", "澉浦工业园区"],
    "haining": ["海宁经济开发区", "海宁经编产业园区", "海宁皮革时尚小镇"],
    "tongxiang": ["桐乡经济开发区", "濮院毛衫时尚小镇", "乌镇互联网产业园", "洲泉化纤产业园"],
}

SIZE_CLASSES = {
    "micro": _l("Micro"),
    "small": _l("Small"),
    "medium": _l("Medium"),
    "large": _l("Large"),
}

# Certifications a firm may declare on its public profile (declared by the firm, not checked by the platform).
CERTIFICATIONS = {
    "iso9001": _l("ISO 9001 quality management"),
    "iso14001": _l("ISO 14001 environmental management"),
    "oeko-tex": _l("OEKO-TEX Standard 100"),
    "grs": _l("Global Recycled Standard (GRS)"),
    "bsci": _l("amfori BSCI"),
    "fsc": _l("FSC chain of custody"),
    "gots": _l("GOTS organic textile"),
    "lwg": _l("Leather Working Group (LWG)"),
    "china-environmental-label": _l("China Environmental Labelling (十环)"),
    "high-tech": _l("National high-tech enterprise"),
}

FIRM_ROLE_LABELS = {"owner": _l("Owner"), "member": _l("Member")}


def size_class(employees: int, revenue_wan: Decimal | float | int) -> str:
    """Classify an industrial firm by the national SME rule (工信部联企业〔2011〕300号, industry row).

    Large: ≥ 1000 employees and ≥ 40,000 万元 revenue. Medium: ≥ 300 and ≥ 2,000. Small: ≥ 20 and ≥ 300.
    Micro: everything below (fewer than 20 employees or under 300 万元).
    """
    revenue = Decimal(str(revenue_wan))
    if employees >= 1000 and revenue >= 40000:
        return "large"
    if employees >= 300 and revenue >= 2000:
        return "medium"
    if employees >= 20 and revenue >= 300:
        return "small"
    return "micro"


# GB 32100-2015: 18 characters from this 31-character alphabet (no I, O, S, V, Z).
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# GB 11714-1997 organisation code (characters 9–17 of the USCC): weights for its own check character.
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def uscc_check_char(first17: str) -> str:
    """Return the GB 32100-2015 check character for the first 17 characters."""
    total = sum(USCC_ALPHABET.index(ch) * w for ch, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def org_code_check_char(first8: str) -> str:
    """Return the GB 11714 check character for an 8-character organisation code body."""
    total = sum(USCC_ALPHABET.index(ch) * w for ch, w in zip(first8, ORG_CODE_WEIGHTS, strict=True))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def uscc_problem(value: str) -> str | None:
    """Return a localised reason why ``value`` is not a valid USCC, or None when it is valid."""
    code = value.strip().upper()
    if len(code) != 18:
        return str(_l("A unified social credit code has exactly 18 characters (you entered %(n)d).", n=len(code)))
    bad = sorted({ch for ch in code if ch not in USCC_ALPHABET})
    if bad:
        return str(
            _l(
                "The code contains characters that are not allowed: %(chars)s (I, O, S, V and Z are never used).",
                chars=" ".join(bad),
            )
        )
    if not code[2:8].isdigit():
        return str(_l("Characters 3–8 must be the six-digit administrative division code."))
    if uscc_check_char(code[:17]) != code[17]:
        return str(_l("The check character does not match: please check the code for typing errors."))
    return None
