"""The provinces file: what a province derives, and clear errors for a bad file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dichvucong.config import Settings
from dichvucong.provinces import ProvinceConfigError, activated, load_provinces


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "provinces.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_province_gets_its_own_folders_and_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DVC_WAREHOUSE_PATH", "/elsewhere/warehouse.duckdb")  # must not leak into a province
    monkeypatch.setenv("BN_TOKEN", "secret-from-env")
    path = _write(tmp_path, f"""
home: {tmp_path}/data
provinces:
  - {{slug: vinh_phuc, code: "26", name: Tỉnh Vĩnh Phúc, landing: {tmp_path}/drop}}
  - {{slug: bac_ninh, code: "27", name: Tỉnh Bắc Ninh, source_mode: http, source_url: "https://x.example/api",
     source_token_env: BN_TOKEN}}
""")
    vinh_phuc, bac_ninh = load_provinces(path)
    with activated(bac_ninh):
        settings = Settings.from_env()
        assert settings.province_code == "27" and settings.province_name == "Tỉnh Bắc Ninh"
        assert settings.warehouse_path == tmp_path / "data" / "bac_ninh" / "warehouse" / "warehouse.duckdb"
        assert settings.landing_dir == tmp_path / "data" / "bac_ninh" / "landing"
        assert settings.source_mode == "http" and settings.source_token == "secret-from-env"
    with activated(vinh_phuc):
        assert Settings.from_env().landing_dir == tmp_path / "drop"
        assert Settings.from_env().source_token == ""
    assert os.environ["DVC_WAREHOUSE_PATH"] == "/elsewhere/warehouse.duckdb", "restored after the task"
    assert "DVC_PROVINCE_CODE" not in os.environ


@pytest.mark.parametrize(("text", "message"), [
    ("provinces: []", "at least one province"),
    ("provinces:\n  - {slug: Vinh Phuc, code: '26'}", "must match"),
    ("provinces:\n  - {slug: vp}", "has no code"),
    ("provinces:\n  - {slug: a, code: '1'}\n  - {slug: b, code: '1'}", "share a code"),
    ("provinces:\n  - {slug: a, code: '1', source_mode: ftp}", "source_mode"),
    ("provinces: [", "cannot read"),
])
def test_a_bad_provinces_file_is_refused_with_the_reason(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ProvinceConfigError, match=message):
        load_provinces(_write(tmp_path, text))
