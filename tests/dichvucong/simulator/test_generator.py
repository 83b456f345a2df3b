"""Properties of the source simulator: layout and format of sources.md,
determinism, calibration, and the dirt it is asked to inject."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from collections import Counter
from pathlib import Path

import pytest

from dichvucong.simulator import GenerationStats, generate
from dichvucong.simulator.catalog import catalog_at
from dichvucong.simulator.generator import payment_uptake
from tests.conftest import SMALL_END, SMALL_START

DOSSIER_FIELDS = {"MaHoSo", "MaTTHC", "MaCoQuan", "MaDiaBan", "KenhThucHien", "LoaiDoiTuong", "ChuHoSo",
                  "SoGiayTo", "SoDienThoai", "NgayNopHoSo", "NgayTiepNhan", "NgayHenTra", "NgayKetThucXuLy",
                  "NgayTra", "NgayTuChoi", "TrangThaiHoSo", "DuocThanhToanTrucTuyen", "CoKetQuaDienTu", "DaSoHoa",
                  "DanhSachLePhi", "DanhSachBoSung", "NgayCapNhat"}


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(folder)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def _records(landing: Path) -> list[dict]:
    records = []
    for path in sorted((landing / "dossiers").rglob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return records


def test_layout_follows_sources_md(small_landing: Path) -> None:
    days = {(SMALL_START + dt.timedelta(days=i)).isoformat() for i in range((SMALL_END - SMALL_START).days)}
    assert {p.name for p in (small_landing / "dossiers").iterdir()} <= days
    assert {p.name for p in (small_landing / "payments").iterdir()} == days
    assert (small_landing / "catalog" / f"services_{SMALL_START:%Y%m%d}.csv").exists()
    for folder in (small_landing / "payments").iterdir():
        for path in folder.iterdir():
            assert path.name.startswith(f"doisoat_{folder.name.replace('-', '')}_") and path.suffix == ".csv"


def test_dossier_records_carry_the_contract_fields(small_landing: Path) -> None:
    records = _records(small_landing)
    assert len(records) > 300
    for record in records[:500]:
        assert set(record) == DOSSIER_FIELDS
        assert len(record["NgayCapNhat"]) == 14
    # The same dossier appears again as its state changes; the latest NgayCapNhat is its current state.
    per_dossier = Counter(r["MaHoSo"] for r in records if r["MaHoSo"])
    assert max(per_dossier.values()) >= 3
    statuses = Counter(r["TrangThaiHoSo"] for r in records)
    assert {1, 2, 9, 10} <= set(statuses)


def test_payment_files_use_each_intermediary_dialect(small_landing: Path) -> None:
    day = next(iter(sorted((small_landing / "payments").iterdir())))
    raw = {p.name.split("_")[-1][:-4]: p.read_bytes() for p in day.iterdir()}
    assert raw["VIETINBANK"].startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in raw["BIDV"]
    assert raw["AGRIBANK"].startswith(b"\xef\xbb\xbf") and b"\r\n" in raw["AGRIBANK"]
    assert "Tổng cộng".encode() in raw["VCB"]
    assert not raw["MOMO"].startswith(b"\xef\xbb\xbf") and b"\r\n" not in raw["MOMO"]


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    start, end = dt.date(2023, 3, 1), dt.date(2023, 3, 4)
    generate(tmp_path / "a", start, end, seed=5, scale=0.02)
    generate(tmp_path / "b", start, end, seed=5, scale=0.02)
    generate(tmp_path / "c", start, end, seed=6, scale=0.02)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")
    # Generating again into the same folder replaces the range rather than appending to it.
    generate(tmp_path / "a", start, end, seed=5, scale=0.02)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")


def test_volume_is_calibrated_to_the_province_and_scales(tmp_path: Path) -> None:
    # A month at 10 % scale: about 3,670 new dossiers (36,700 a month in Vĩnh Phúc).
    stats = generate(tmp_path / "m", dt.date(2023, 5, 1), dt.date(2023, 6, 1), seed=3, scale=0.1, dirt_rate=0)
    assert 3_300 <= stats.dossiers <= 4_100
    assert stats.dirt.total() == 0


def test_catalog_is_larger_than_its_744_online_services() -> None:
    services = catalog_at(2022, dt.date(2020, 1, 1))
    online = [s for s in services if s.online_level in (3, 4)]
    assert len(online) == 744
    assert len(services) > 1.5 * len(online)
    assert len({s.field_code for s in services}) >= 10
    assert any(s.fee_vnd == 0 for s in services) and any(s.fee_vnd > 0 for s in services)


def test_catalog_changes_apply_from_their_day() -> None:
    before = {s.code: s for s in catalog_at(2022, dt.date(2022, 8, 14))}
    after = {s.code: s for s in catalog_at(2022, dt.date(2022, 8, 15))}
    changed = [c for c in before if c in after and before[c] != after[c]]
    assert changed, "the 15th of a month publishes changes"
    assert catalog_at(2022, dt.date(2022, 8, 1)) == catalog_at(2022, dt.date(2022, 8, 14))


def test_online_payment_starts_rare_and_grows() -> None:
    assert payment_uptake(dt.date(2021, 1, 1)) < 0.03
    uptake = [payment_uptake(dt.date(year, 9, 1)) for year in (2022, 2023, 2024)]
    assert uptake == sorted(uptake) and uptake[0] < uptake[-1] / 3


@pytest.mark.parametrize("kind", ["broken_json", "no_dossier_id", "missing_due", "bad_date_order",
                                  "duplicate_payment", "orphan_payment", "catalog_text"])
def test_dirt_is_injected_when_asked(small_sources: tuple[Path, GenerationStats], kind: str) -> None:
    assert small_sources[1].dirt[kind] > 0


def test_personal_data_is_in_the_sources_as_real_exports_have_it(small_landing: Path) -> None:
    records = _records(small_landing)
    ids = [r["SoGiayTo"] for r in records]
    assert all(i.isdigit() and len(i) in (10, 12) for i in ids)
    with (small_landing / "catalog" / f"services_{SMALL_START:%Y%m%d}.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["MucDo"] for r in rows} >= {"2", "3", "4"}
