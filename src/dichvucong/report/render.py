"""The monthly report as HTML (a Jinja2 template with a print stylesheet, A4) and as PDF (WeasyPrint).

The PDF's text is set in DejaVu Sans, declared in the stylesheet by @font-face from the system's fonts
(Debian's fonts-dejavu-core): it has every Vietnamese letter with its tone marks, and WeasyPrint embeds
the glyphs it uses, so the PDF reads the same on any machine. The HTML names the same family first,
then common ones that have the letters too.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import jinja2

from dichvucong.report import format as vn
from dichvucong.report.data import Report

TEMPLATES = Path(__file__).with_name("templates")

# Vietnamese names of the indicators (by indicator_name of marts.dim_766_indicators); a name the points
# table adds later shows as it is.
INDICATORS = {
    "procedures_published_on_time_rate": "Công bố thủ tục hành chính đúng hạn",
    "procedures_public_on_time_rate": "Công khai thủ tục đúng hạn",
    "procedures_complete_rate": "Công khai đầy đủ thủ tục",
    "sync_rate": "Đồng bộ hồ sơ lên Cổng Dịch vụ công quốc gia",
    "on_time_rate": "Giải quyết hồ sơ đúng hạn",
    "online_rate_766": "Hồ sơ trực tuyến",
    "procedures_with_fee_data_rate": "Thủ tục có dữ liệu phí, lệ phí",
    "procedures_with_online_payment_rate": "Thủ tục có thanh toán trực tuyến",
    "online_payment_rate": "Hồ sơ có phí được thanh toán trực tuyến",
    "e_result_rate": "Trả kết quả điện tử",
    "digitised_rate": "Số hóa hồ sơ",
    "data_reuse_rate": "Tái sử dụng dữ liệu số hóa",
    "data_store_rate": "Khai thác kho dữ liệu",
    "population_db_procedures_rate": "Thủ tục kết nối Cơ sở dữ liệu quốc gia về dân cư",
    "population_db_dossiers_rate": "Hồ sơ dùng dữ liệu dân cư",
}
UNIT_TYPES = {"province": "Tỉnh", "department": "Sở, ban, ngành", "district": "Huyện, thành phố",
              "commune": "Xã, phường, thị trấn", "agency": "Cơ quan"}
BASES = {"as_was": "theo đơn vị hành chính tại thời điểm đó",
         "current": "quy đổi theo đơn vị hành chính hiện nay"}
STATES = {
    "matched": "Đã thu đủ",
    "underpaid": "Thu thiếu",
    "overpaid": "Thu thừa",
    "unpaid_online": "Chọn thanh toán trực tuyến nhưng chưa thu",
    "no_online_payment": "Không thanh toán trực tuyến (nộp tại quầy hoặc chưa nộp)",
    "refunded_beyond_paid": "Hoàn trả vượt số đã thu",
}
CHANNELS = {"platform": "Cổng DVC quốc gia", "provincial_gateway": "Cổng thanh toán của tỉnh"}


def label(mapping: dict[str, str], value: Any) -> str:
    return mapping.get(value, str(value)) if value is not None else vn.DASH


def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(vn.FILTERS)
    env.globals.update(INDICATORS=INDICATORS, UNIT_TYPES=UNIT_TYPES, BASES=BASES, STATES=STATES, CHANNELS=CHANNELS,
                       label=label)
    return env


def render_html(report: Report) -> str:
    """The report as one self-contained HTML page (its stylesheet inline), in Vietnamese."""
    env = environment()
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    return env.get_template("report.html").render(r=report, css=css, kpi=report.kpi, generated=report.generated_at)


def render_pdf(html: str) -> bytes:
    """The HTML as an A4 PDF (WeasyPrint), the fonts it uses embedded."""
    from weasyprint import HTML

    # Its step-by-step progress is noise in a task's log; its warnings (a font or an image missing) stay.
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
    pdf = HTML(string=html, base_url=str(TEMPLATES)).write_pdf()
    assert pdf is not None
    return bytes(pdf)
