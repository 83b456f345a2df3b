"""Reading the administrative units seeds: the column contract, dates and flags, and clear errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from dichvucong.simulator.admin_units import CROSSWALK_COLUMNS, UNIT_COLUMNS, load_crosswalk, load_units


def _write(path: Path, header: tuple[str, ...], *rows: str) -> Path:
    path.write_text("\n".join((",".join(header), *rows)) + "\n", encoding="utf-8")
    return path


def test_units_keep_their_codes_as_text_and_read_half_open_dates(tmp_path: Path) -> None:
    path = _write(tmp_path / "units.csv", UNIT_COLUMNS,
                  "08707,commune,Phường Tích Sơn,243,26,,2025-07-01",
                  "08707,commune,Phường Vĩnh Yên,25,25,2025-07-01,")
    old, new = load_units(path)
    assert (old.code, old.valid_from, old.valid_to) == ("08707", None, dt.date(2025, 7, 1))
    assert old.valid_on(dt.date(2025, 6, 30)) and not old.valid_on(dt.date(2025, 7, 1))
    assert new.valid_on(dt.date(2025, 7, 1)) and not new.valid_on(dt.date(2025, 6, 30))


def test_crosswalk_flags(tmp_path: Path) -> None:
    path = _write(tmp_path / "crosswalk.csv", CROSSWALK_COLUMNS,
                  "08731,commune,08707,commune,2025-07-01,true,false",
                  "08707,commune,08707,commune,2025-07-01,false,true")
    partial, whole = load_crosswalk(path)
    assert (partial.partial, partial.primary, whole.partial, whole.primary) == (True, False, False, True)
    assert whole.effective == dt.date(2025, 7, 1)


def test_errors_name_the_file_and_the_line(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="admin"):
        load_units(tmp_path / "absent.csv")
    with pytest.raises(ValueError, match="header"):
        load_units(_write(tmp_path / "wrong.csv", ("code", "name"), "26,Vĩnh Phúc"))
    with pytest.raises(ValueError, match="line 2.*not a date"):
        load_units(_write(tmp_path / "date.csv", UNIT_COLUMNS, "26,province,Tỉnh Vĩnh Phúc,,26,,01/07/2025"))
    with pytest.raises(ValueError, match="line 2.*unit_level"):
        load_units(_write(tmp_path / "level.csv", UNIT_COLUMNS, "26,region,Vĩnh Phúc,,26,,"))
    with pytest.raises(ValueError, match="boolean"):
        load_crosswalk(_write(tmp_path / "flag.csv", CROSSWALK_COLUMNS, "1,commune,2,commune,2025-07-01,yes,no"))
