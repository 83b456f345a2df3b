"""Synthetic applicants and officials: names, identity numbers, contacts. None is a real person's;
identity numbers only have the shape of real ones (a 12-digit citizen identity number starting with
Vĩnh Phúc's 026, a 9-digit old identity card, a 10-digit tax code starting with 25)."""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from dichvucong.simulator.reference import (
    ENTERPRISE_PREFIXES,
    ENTERPRISE_STEMS,
    FAMILY_NAMES,
    GIVEN_NAMES,
    MIDDLE_NAMES,
)

CITIZEN, ENTERPRISE, STATE_AGENCY, ORGANISATION = "1", "2", "3", "4"
ID_CITIZEN_CARD, ID_OLD_CARD, ID_TAX_CODE = "1", "2", "3"
_ORGANISATION_NAMES = ("Hội Nông dân", "Hội Cựu chiến binh", "Hợp tác xã nông nghiệp", "Ban quản lý dự án",
                       "Trường Mầm non", "Trường Tiểu học")
_STATE_AGENCY_NAMES = ("Ban Quản lý dự án đầu tư xây dựng", "Trung tâm Phát triển quỹ đất", "Trung tâm Y tế",
                       "Ban Chỉ huy Quân sự")


@dataclass(frozen=True)
class Applicant:
    kind: str  # LoaiDoiTuong
    name: str
    id_kind: str  # LoaiDinhDanh
    ident: str
    phone: str
    email: str


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    return "".join(c for c in plain if c.isascii() and c.isalnum()).lower()


def person_name(rng: random.Random) -> str:
    return f"{rng.choice(FAMILY_NAMES)} {rng.choice(MIDDLE_NAMES)} {rng.choice(GIVEN_NAMES)}"


def new_applicant(rng: random.Random, kind: str, old_cards: float) -> Applicant:
    """A new applicant of `kind`; citizens still hold an old 9-digit card with probability `old_cards`."""
    if kind == CITIZEN:
        name = person_name(rng)
        if rng.random() < old_cards:
            id_kind, ident = ID_OLD_CARD, f"13{rng.randint(0, 9_999_999):07d}"
        else:
            id_kind = ID_CITIZEN_CARD
            ident = f"026{rng.randint(0, 3)}{rng.randint(40, 99):02d}{rng.randint(0, 999_999):06d}"
    else:
        if kind == ENTERPRISE:
            name = f"{rng.choice(ENTERPRISE_PREFIXES)} {rng.choice(ENTERPRISE_STEMS)}"
        elif kind == STATE_AGENCY:
            name = f"{rng.choice(_STATE_AGENCY_NAMES)} {rng.choice(ENTERPRISE_STEMS)}"
        else:
            name = f"{rng.choice(_ORGANISATION_NAMES)} {rng.choice(ENTERPRISE_STEMS)}"
        id_kind, ident = ID_TAX_CODE, f"25{rng.randint(0, 99_999_999):08d}"
    phone = f"0{rng.choice('35789')}{rng.randint(0, 99_999_999):08d}" if rng.random() < 0.9 else ""
    email = ""
    if rng.random() < (0.35 if kind == CITIZEN else 0.8):
        email = f"{_ascii(name.split()[-1])}{_ascii(name.split()[0])}{rng.randint(1, 9999)}@gmail.com"
    return Applicant(kind, name, id_kind, ident, phone, email)


@lru_cache(maxsize=4096)
def staff(seed: int, agency: str, office: str) -> tuple[str, ...]:
    """The officials of one office of one agency: the same few names on its steps."""
    rng = random.Random(f"{seed}-staff-{agency}-{office}")
    return tuple(person_name(rng) for _ in range(rng.randint(2, 4)))
