"""Words the dashboard shows, in Vietnamese (the default) and English.

Column labels are shared by pages, CSV and XLSX headers; indicator and state
labels translate the values of a few text columns.
"""

from __future__ import annotations

LANGUAGES = ("vi", "en")

# name -> (Vietnamese, English)
UI: dict[str, tuple[str, str]] = {
    "app_title": ("Dịch vụ công trực tuyến", "Online public services"),
    "nav_province": ("Toàn tỉnh", "Province"),
    "nav_services": ("Thủ tục", "Services"),
    "nav_overdue": ("Hồ sơ quá hạn", "Overdue now"),
    "nav_fees": ("Phí, lệ phí", "Fees"),
    "nav_quality": ("Chất lượng dữ liệu", "Data quality"),
    "nav_portal": ("So với Cổng", "Portal vs ours"),
    "portal_province": ("Điểm của tỉnh: Cổng công bố và hệ thống này tính",
                        "The province's points: the portal's and ours"),
    "portal_units": ("Các đơn vị: tổng điểm của Cổng và của hệ thống này", "Units: the portal's total and ours"),
    "portal_unmatched": ("Số liệu của Cổng chưa đối chiếu được", "The portal's figures not matched"),
    "portal_note": ("Số liệu của Cổng Dịch vụ công quốc gia lấy từ các tệp cán bộ lưu từ trang đánh giá của Cổng "
                    "(thư mục portal/), đặt cạnh số liệu hệ thống này tính cho cùng đơn vị và kỳ (đơn vị theo địa giới "
                    "tại thời điểm đó). Chênh lệch = của hệ thống này − của Cổng. Cột \"điểm không đo được\" là phần "
                    "điểm không nguồn nào ở đây đo được (bản sao điện tử, mức độ hài lòng): phần chênh lệch đó không "
                    "do cách tính.",
                    "The National Public Service Portal's figures come from the files officials save of its "
                    "evaluation pages (folder portal/), set beside ours for the same unit and period (units as they "
                    "were then). Difference = ours − the portal's. \"Points not measured here\" are the points no "
                    "source here measures (electronic certified copies, satisfaction): that part of a gap is not a "
                    "difference of computation."),
    "nav_api": ("API", "API"),
    "as_of": ("Số liệu tính đến", "Data as of"),
    "published_at": ("công bố lúc", "published"),
    "period": ("Kỳ", "Period"),
    "period_type": ("Loại kỳ", "Period type"),
    "month": ("Tháng", "Month"),
    "quarter": ("Quý", "Quarter"),
    "year": ("Năm", "Year"),
    "all_periods": ("Mọi kỳ", "All periods"),
    "apply": ("Xem", "Show"),
    "incomplete": ("kỳ chưa kết thúc", "period not complete"),
    "download": ("Tải về", "Download"),
    "agency": ("Cơ quan", "Agency"),
    "district": ("Huyện, thành phố", "District"),
    "province": ("Tỉnh", "Province"),
    "department": ("Sở, ngành", "Department"),
    "commune": ("Xã, phường", "Commune"),
    "basis": ("Đơn vị", "Units"),
    "as_was": ("Theo đơn vị khi đó", "Units as they were then"),
    "current": ("Theo đơn vị hiện nay", "Today's units"),
    "service": ("Thủ tục hành chính", "Service"),
    "all_agencies": ("Mọi cơ quan", "All agencies"),
    "score_title": ("Bộ chỉ số 766 (Quyết định 766/QĐ-TTg): điểm theo chỉ tiêu",
                    "The 766 index (Decision 766/QĐ-TTg): points by indicator"),
    "vs_province_title": ("Chênh lệch so với tỉnh theo từng chỉ tiêu", "Gap to the province on each indicator"),
    "score_note": (
        "Chỉ tiêu, nhóm và điểm tối đa theo bảng điểm 766 đang áp dụng. Tổng điểm tính trên điểm tối đa đo "
        "được từ nguồn dữ liệu này (dòng Tổng); nhóm 5 (mức độ hài lòng) và bản sao điện tử có chứng thực "
        "không có nguồn nên không tính. Theo đơn vị khi đó: mỗi kỳ chấm trên các đơn vị có trong kỳ (cấp "
        "huyện chỉ đến hết 30/6/2025); theo đơn vị hiện nay: số liệu cũ được quy về đơn vị sau sắp xếp.",
        "Indicators, groups and maxima follow the 766 points table in force. The total is out of the maximum "
        "measurable from these sources (the Total row); group 5 (satisfaction) and electronic certified "
        "copies have no source here and count in no total. Units as they were then: each period is scored on "
        "the units that existed in it (districts until 30/6/2025 only); today's units: history recast onto "
        "the units after the reorganisation.",
    ),
    "trend_title": ("Diễn biến theo tháng", "Trend by month"),
    "points_chart": ("Tổng điểm 766 (trên điểm tối đa đo được)", "766 points (of the measurable maximum)"),
    "groups_chart": ("Điểm theo nhóm", "Points by group"),
    "rates_chart": ("Tỷ lệ", "Rates"),
    "agency_ranks": ("Xếp hạng các cơ quan", "Agency ranking"),
    "district_ranks": ("Xếp hạng cấp huyện (đến hết 30/6/2025)", "District ranking (until 30/6/2025)"),
    "department_ranks": ("Xếp hạng các sở, ngành", "Department ranking"),
    "commune_ranks": ("Xếp hạng cấp xã", "Commune ranking"),
    "ranks_note": (
        "Chỉ tiêu thua tỉnh nhiều nhất: chỉ tiêu mà điểm của đơn vị thấp hơn điểm của tỉnh nhiều nhất (điểm đơn vị "
        "trừ điểm tỉnh, cùng kỳ, cùng cách tính đơn vị); số âm là thấp hơn tỉnh. Trang của mỗi đơn vị có chênh "
        "lệch trên từng chỉ tiêu.",
        "Furthest below the province: the indicator where the unit's points fall furthest below the province's "
        "(the unit's points minus the province's, same period and basis); negative is below the province. Each "
        "unit's page shows the gap on every indicator.",
    ),
    "volume_title": ("Hồ sơ tiếp nhận theo kênh", "Dossiers received by channel"),
    "services_of_unit": ("Các thủ tục trong kỳ", "Services in the period"),
    "services_title": ("Thủ tục hành chính trong kỳ", "Services in the period"),
    "services_note": (
        "p90 = 90 % hồ sơ giải quyết xong trong số ngày làm việc này (p50: một nửa số hồ sơ). Thủ tục chậm: p90 "
        "vượt thời hạn giải quyết theo quy định, tức là hơn 10 % hồ sơ quá thời hạn. Mức độ: dịch vụ công trực "
        "tuyến toàn trình hay một phần (MucDo trong danh mục thủ tục).",
        "p90 = 90 % of dossiers were done within this many working days (p50: half of them). Slow: p90 beyond the "
        "legal deadline, i.e. more than 10 % of dossiers took longer than the deadline. Level: fully or partly "
        "online public service (the catalog's MucDo).",
    ),
    "slow_only": ("Chỉ thủ tục chậm", "Slow services only"),
    "on_this_page": ("Trên trang này", "On this page"),
    "slow": ("Chậm", "Slow"),
    "filter_rows": ("Lọc bảng", "Filter rows"),
    "filter_placeholder": ("Gõ để lọc…", "Type to filter…"),
    "rows_shown": ("{shown} / {total} dòng", "{shown} of {total} rows"),
    "sort_hint": ("Bấm tiêu đề cột để sắp xếp", "Click a column header to sort"),
    "show_all": ("Hiện tất cả {total} dòng", "Show all {total} rows"),
    "csv_vi": ("CSV (Excel tiếng Việt)", "CSV (Vietnamese Excel)"),
    "print_period": ("Kỳ", "Period"),
    "build_failed": (
        "Lần xây dựng số liệu lúc {at} không thành công ({error}): số liệu trên trang vẫn là số liệu công bố lúc "
        "{published}. Người vận hành đã được cảnh báo.",
        "The build at {at} failed ({error}): the numbers shown are still those published at {published}. The "
        "operators were alerted.",
    ),
    "build_error_memory": ("thiếu bộ nhớ", "out of memory"),
    "build_error_dbt": ("lỗi khi tính toán số liệu (dbt)", "dbt error"),
    "build_error_other": ("lỗi", "error"),
    "overdue_all": ("Toàn bộ hồ sơ đang quá hạn", "The whole backlog"),
    "overdue_received_in": ("Chỉ hồ sơ tiếp nhận trong", "Only dossiers received in"),
    "overdue_title": ("Hồ sơ đang giải quyết đã quá hạn", "Dossiers in progress past their due date"),
    "overdue_note": (
        "Tại thời điểm số liệu; số ngày quá hạn là số ngày trọn vẹn sau hạn trả, đã trừ thời gian chờ bổ sung. "
        "Chỉ hiển thị mã hồ sơ, không có thông tin cá nhân.",
        "At the data's as-of time; days overdue are whole days past the due time, net of time waiting for the "
        "applicant. Dossier ids only, never personal data.",
    ),
    "quality_note": (
        "Lần kiểm tra gần nhất của mỗi bộ, kể cả của lần chạy không được công bố. Lần chạy có kiểm tra nghiêm "
        "trọng không đạt thì không công bố số liệu (các trang giữ số liệu đạt gần nhất) và cảnh báo ngay cho "
        "người vận hành.",
        "The latest validation of every suite, including those of a run that published nothing. A run whose "
        "critical check fails publishes no numbers (the pages keep the last good ones) and alerts the "
        "operators at once.",
    ),
    "gate_closed": (
        "Lần chạy lúc {at} có kiểm tra nghiêm trọng không đạt ({suite}): số liệu trên trang vẫn là số liệu "
        "công bố lúc {published}. Xem trang Chất lượng dữ liệu.",
        "The run at {at} failed a critical check ({suite}): the numbers shown are still those published at "
        "{published}. See the data quality page.",
    ),
    "overdue_by_agency": ("Hồ sơ đang quá hạn theo cơ quan", "Overdue now by agency"),
    "overdue_list": ("Danh sách hồ sơ đang quá hạn", "Dossiers overdue now"),
    "shown_first": ("Hiển thị {shown} / {total} dòng; tệp tải về có đủ.", "Showing {shown} of {total} rows; "
                    "downloads hold them all."),
    "fees_title": ("Thu phí, lệ phí trực tuyến và đối soát", "Online fees and reconciliation"),
    "fees_by_intermediary": ("Theo trung gian thanh toán và kênh", "By intermediary and channel"),
    "fees_reconciliation": ("Đối soát theo tháng: thu − hoàn − khớp − mồ côi − lệch thời điểm = chênh lệch",
                            "Monthly reconciliation: collected − refunds − matched − orphans − timing = gap"),
    "fees_gap": ("Chênh lệch gồm những gì", "What the gap is made of"),
    "fees_reconciliation_note": (
        "Theo ngày đối soát của tệp đối soát, giao dịch thành công sau khi bỏ dòng trùng. Khớp: tiền của hồ sơ "
        "tiếp nhận cùng tháng có trạng thái Khớp; mồ côi: giao dịch không có hồ sơ tương ứng; lệch thời điểm: tiền "
        "của hồ sơ tiếp nhận ở tháng khác (hoặc chưa tiếp nhận); chênh lệch: phần còn lại, là tiền của hồ sơ tiếp "
        "nhận trong tháng nhưng thiếu, thừa hoặc hoàn quá số đã nộp (xem bảng trạng thái đối soát).",
        "By the settlement day of the reconciliation files, succeeded payments after duplicates are removed. "
        "Matched: payments of dossiers received the same month whose state is matched; orphans: payments with no "
        "such dossier; timing: payments of dossiers received in another month (or not yet); gap: the rest, "
        "payments of dossiers received that month that are underpaid, overpaid or refunded beyond what was paid "
        "(see the reconciliation states).",
    ),
    "reconciliation": ("Trạng thái đối soát hồ sơ tiếp nhận trong kỳ", "Reconciliation of dossiers received"),
    "anomalies": ("Giao dịch mồ côi và trùng lặp", "Orphan and duplicate payments"),
    "quality_title": ("Chất lượng dữ liệu", "Data quality"),
    "gates": ("Kết quả kiểm tra gần nhất", "Latest gate results"),
    "failures": ("Kiểm tra chưa đạt trong lần gần nhất", "Checks that failed in the latest run"),
    "loads": ("Nạp dữ liệu trong kỳ", "Loads in the period"),
    "quarantine": ("Dòng bị cách ly theo lý do", "Quarantined lines by reason"),
    "no_rows": ("Không có dữ liệu.", "No rows."),
    "not_found": ("Không tìm thấy", "Not found"),
    "language": ("English", "Tiếng Việt"),
    "service_summary": ("Thủ tục trong kỳ", "The service in the period"),
    "nav_why": ("Vì sao điểm thay đổi", "Why the score moved"),
    "why_link": ("Vì sao điểm thay đổi so với kỳ trước?", "Why did the score move since the previous period?"),
    "why_title": ("Vì sao điểm thay đổi?", "Why did the score move?"),
    "why_total": ("Tổng điểm 766: kỳ này và kỳ trước", "766 total: this period and the previous one"),
    "why_indicators": ("Thay đổi theo chỉ tiêu", "Change by indicator"),
    "why_agencies": ("Cơ quan góp nhiều nhất vào thay đổi", "The agencies that moved it most"),
    "why_late_offices": ("Chỉ tiêu 2.1: nơi hồ sơ trễ hạn bắt đầu quá hạn",
                         "Indicator 2.1: where late dossiers first ran over"),
    # The sentence at the top of the page: {period} and {previous} as why_month etc. say them.
    "why_sentence": ("{period} {unit} {moved} {points} điểm so với {previous}",
                     "In {period} {unit} {moved} {points} points against {previous}"),
    "why_sentence_same": ("{period} {unit} giữ nguyên {points} điểm như {previous}",
                          "In {period} {unit} kept its {points} points of {previous}"),
    "why_up": ("tăng", "gained"),
    "why_down": ("giảm", "lost"),
    "why_most": ("nhiều nhất ở chỉ tiêu {items}", "most at indicator {items}"),
    "why_most_many": ("nhiều nhất ở chỉ tiêu {items}", "most at indicators {items}"),
    "why_and": ("và", "and"),
    "why_points_unit": ("điểm", "points"),
    "why_pp": ("điểm %", "pp"),
    "why_province_unit": ("tỉnh", "the province"),
    "why_agency_unit": ("cơ quan {name}", "agency {name}"),
    "why_month": ("tháng {m:02d}/{y}", "{m:02d}/{y}"),
    "why_quarter": ("quý {q}/{y}", "Q{q}/{y}"),
    "why_year": ("năm {y}", "{y}"),
    "why_totals": ("Tổng điểm 766: {before} → {after} (trên điểm tối đa đo được).",
                   "766 total: {before} → {after} (of the measurable maximum)."),
    "why_no_previous": ("{period}: không có số liệu {previous} của đơn vị này để so sánh.",
                        "{period}: no data for {previous} for this unit to compare with."),
    "why_latest": ("Xem kỳ gần nhất có thể so sánh: {period}", "See the latest period that can be compared: {period}"),
    "why_back": ("Về trang của đơn vị", "Back to the unit's page"),
    "why_indicator": ("Chỉ tiêu", "Indicator"),
    "why_agencies_lead": (
        "{name}: {before} → {after} ({points} điểm). Góp nhiều nhất: {agency} ({effect} điểm), {reason}.",
        "{name}: {before} → {after} ({points} points). Moved most by: {agency} ({effect} points), {reason}.",
    ),
    "why_incomplete": ("{period} chưa kết thúc: số liệu tính đến {as_of}.",
                       "{period} is not over: the numbers are those up to {as_of}."),
    "why_agencies_unsplit": (
        "Chỉ tiêu {code}: một trong hai kỳ không có hồ sơ nào được tính, nên thay đổi không tách được theo cơ quan.",
        "Indicator {code}: one of the two periods counts no dossier, so the change cannot be split by agency.",
    ),
    "why_agencies_none": ("Chỉ tiêu {code} không đổi: không có phần nào của cơ quan để tách.",
                          "Indicator {code} did not move: there is nothing to split by agency."),
    "why_agencies_note": (
        "Tỷ lệ của đơn vị = tử số / mẫu số (ví dụ 2.1: hồ sơ đúng hạn / hồ sơ phải tính). Tác động tử số: phần "
        "thay đổi do số hồ sơ đạt của cơ quan tăng, giảm; tác động mẫu số: phần do số hồ sơ được tính của cơ "
        "quan tăng, giảm. Hai phần cộng lại đúng bằng thay đổi tỷ lệ của đơn vị; điểm góp chia thay đổi điểm "
        "của chỉ tiêu theo cùng tỷ lệ. Dòng “Phần còn lại” là hồ sơ của đơn vị không thuộc dòng cơ quan nào.",
        "The unit's rate = numerator / denominator (e.g. 2.1: dossiers on time / dossiers counted). Numerator "
        "effect: the part of the change due to the agency's dossiers that meet the indicator; denominator "
        "effect: the part due to how many of its dossiers are counted. The two add up exactly to the unit's "
        "rate change; the points split the indicator's points change in the same proportions. “The rest” is "
        "the unit's dossiers that no agency row holds.",
    ),
    "why_not_split": ("Cơ quan không được tách nhỏ thêm theo chỉ tiêu.",
                      "An agency's changes are not split further."),
    "why_late_lead": ("Hồ sơ giải quyết trễ hạn: {before} trong {previous} → {after} trong {period}.",
                      "Dossiers that ended late: {before} in {previous} → {after} in {period}."),
    "why_late_note": (
        "Phòng, bộ phận của bước xử lý đầu tiên bị quá hạn của mỗi hồ sơ trễ hạn. “Đang quá hạn” mở danh sách "
        "hồ sơ đang quá hạn hiện nay của cơ quan (chưa có danh sách hồ sơ đã giải quyết trễ hạn).",
        "The office of each late dossier's first overrunning step. “Overdue now” opens the agency's list of "
        "dossiers overdue today (there is no list of dossiers that ended late).",
    ),
    "why_no_office": ("(không ghi nhận bước quá hạn)", "(no overrunning step recorded)"),
    "why_rest": ("Phần còn lại", "The rest"),
    "why_overdue_now": ("Đang quá hạn", "Overdue now"),
    "why_more_misses": ("nhiều {miss} hơn: {before} → {after}", "more {miss}: {before} → {after}"),
    "why_fewer_misses": ("ít {miss} hơn: {before} → {after}", "fewer {miss}: {before} → {after}"),
    "why_more_dossiers": ("nhiều hồ sơ hơn: {before} → {after}", "more dossiers: {before} → {after}"),
    "why_fewer_dossiers": ("ít hồ sơ hơn: {before} → {after}", "fewer dossiers: {before} → {after}"),
    "why_no_effect": ("không đổi", "no change"),
    "api_title": ("API dữ liệu (JSON, CSV, XLSX)", "Data API (JSON, CSV, XLSX)"),
    "api_note": (
        "Mỗi bảng trên các trang có một đường dẫn API; format=csv hoặc format=xlsx để tải tệp. "
        "Tài liệu OpenAPI:",
        "Every table on the pages has an API endpoint; format=csv or format=xlsx downloads a file. "
        "OpenAPI document:",
    ),
}

# What "in this period" means for each table, one sentence under its title ({period}: e.g. "tháng 02/2024").
# Keys: the table's name, or unit_<rest> for the tables every unit page has (agency_points: unit_points).
SCOPES: dict[str, tuple[str, str]] = {
    "portal_province": ("Điểm {period} Cổng công bố cho tỉnh, bản lưu mới nhất, và điểm hệ thống này tính cho "
                        "cùng kỳ.",
                        "The points of {period} the portal published for the province, latest save, and ours for "
                        "the same period."),
    "portal_units": ("Mọi đơn vị Cổng chấm điểm {period} đã đối chiếu được với danh sách cơ quan; chênh lệch lớn "
                     "nhất ở trên.",
                     "Every unit the portal scored for {period} that matched the agency list; largest difference "
                     "first."),
    "portal_unmatched": ("Số liệu {period} của Cổng không có số liệu tương ứng ở đây, và lý do.",
                         "The portal's figures of {period} with no figure of ours beside them, and why."),
    "unit_points": ("Điểm {period}: mỗi chỉ tiêu tính trên hồ sơ của đơn vị trong kỳ (tiếp nhận, giải quyết hoặc "
                    "đồng bộ trong kỳ, tùy chỉ tiêu).",
                    "Points of {period}: each indicator counts the unit's dossiers of the period (received, ended or "
                    "synced in it, as the indicator says)."),
    "unit_vs_province": ("Tỷ lệ và điểm của đơn vị trừ của tỉnh, cùng {period}, cùng cách tính đơn vị; chênh lệch "
                         "điểm âm nhất ở trên.",
                         "The unit's rate and points minus the province's, same {period} and basis; the most negative "
                         "points gap first."),
    "unit_trend": ("Mỗi dòng là một tháng, đến hết {period}: tiếp nhận theo ngày tiếp nhận, giải quyết theo ngày "
                   "kết thúc.",
                   "One row per month up to the end of {period}: received by reception day, ended by end day."),
    "unit_ranks": ("Xếp hạng theo tổng điểm 766 của {period}; so với tỉnh cùng kỳ.",
                   "Ranked on the 766 points of {period}; compared with the province in the same period."),
    "unit_channel_volume": ("Hồ sơ tiếp nhận theo tháng tiếp nhận, đến hết {period}.",
                            "Dossiers received, by month of reception, up to the end of {period}."),
    "unit_services": ("Tiếp nhận: hồ sơ tiếp nhận trong {period}; giải quyết, đúng hạn, p90: hồ sơ kết thúc trong "
                      "{period}.",
                      "Received: dossiers received in {period}; ended, on time, p90: dossiers that ended in {period}."),
    "services": ("Mọi thủ tục có hồ sơ nộp, tiếp nhận hoặc giải quyết trong {period}; p50, p90 tính trên hồ sơ kết "
                 "thúc trong kỳ.",
                 "Every service with dossiers submitted, received or ended in {period}; p50 and p90 over the dossiers "
                 "that ended in it."),
    "unit_summary": ("Chỉ số của thủ tục trong {period}: tiếp nhận theo ngày tiếp nhận, giải quyết theo ngày kết "
                     "thúc, đang giải quyết tại cuối kỳ.",
                     "The service in {period}: received by reception day, ended by end day, in progress at the "
                     "period's end."),
    "overdue_all": ("Toàn bộ hồ sơ đang giải quyết đã quá hạn tại thời điểm số liệu, tiếp nhận vào bất kỳ lúc nào.",
                    "Every dossier in progress past its due date at the data's as-of time, whenever it was received."),
    "overdue_period": ("Chỉ hồ sơ tiếp nhận trong {period} và đang quá hạn tại thời điểm số liệu (không phải toàn bộ "
                       "hồ sơ quá hạn).",
                       "Only the dossiers received in {period} that are overdue at the data's as-of time (not the "
                       "whole backlog)."),
    "fees_reconciliation": ("Một dòng cho mỗi tháng trong {period}, theo ngày đối soát của giao dịch.",
                            "One line per month in {period}, by the payments' settlement day."),
    "fees_gap": ("Giao dịch có ngày đối soát trong {period} của hồ sơ tiếp nhận cùng tháng mà chưa khớp, theo "
                 "trạng thái đối soát của hồ sơ.",
                 "Payments settled in {period} for dossiers received the same month that are not matched, by the "
                 "dossier's reconciliation state."),
    "fees_by_intermediary": ("Giao dịch có ngày đối soát trong {period}.",
                             "Payments whose settlement day falls in {period}."),
    "reconciliation_states": ("Hồ sơ tiếp nhận trong {period} (theo ngày tiếp nhận), với số tiền đã thanh toán "
                              "trực tuyến đến thời điểm số liệu.",
                              "Dossiers received in {period} (by reception day), with what was paid online up to "
                              "the data's as-of time."),
    "payment_anomalies": ("Giao dịch mồ côi, trùng lặp có ngày đối soát trong {period}.",
                          "Orphan and duplicate payments whose settlement day falls in {period}."),
    "quality_gates": ("Lần kiểm tra gần nhất của mỗi bộ, không phụ thuộc kỳ đã chọn.",
                      "The latest validation of every suite, whatever the period chosen."),
    "quality_failures": ("Lần kiểm tra gần nhất của mỗi bộ, không phụ thuộc kỳ đã chọn.",
                         "The latest validation of every suite, whatever the period chosen."),
    "load_totals": ("Các ngày lô dữ liệu (ngày dữ liệu được giao) trong {period}.",
                    "The batch days (days the data was delivered for) in {period}."),
    "quarantine_reasons": ("Các ngày lô dữ liệu (ngày dữ liệu được giao) trong {period}.",
                           "The batch days (days the data was delivered for) in {period}."),
    "why_total": ("{period} so với kỳ trước cùng loại.", "{period} against the previous period of the same type."),
    "why_indicators": ("Tỷ lệ và điểm {period} so với kỳ trước cùng loại.",
                       "Rates and points of {period} against the previous period of the same type."),
    "why_agencies": ("Hồ sơ của từng cơ quan được tính trong {period} và kỳ trước cùng loại.",
                     "Each agency's dossiers counted in {period} and in the previous period of the same type."),
    "why_late_offices": ("Hồ sơ kết thúc trễ hạn trong {period} và trong kỳ trước cùng loại.",
                         "Dossiers that ended late in {period} and in the previous period of the same type."),
}

COLUMNS: dict[str, tuple[str, str]] = {
    "item_code": ("Mã", "Code"),
    "item_name": ("Nhóm, chỉ tiêu", "Group, indicator"),
    "portal_points": ("Điểm Cổng công bố", "Portal's points"),
    "our_points": ("Điểm hệ thống tính", "Our points"),
    "points_difference": ("Chênh lệch điểm", "Points difference"),
    "unmeasured_max_points": ("Điểm không đo được ở đây", "Points not measured here"),
    "portal_rate": ("Tỷ lệ của Cổng", "Portal's rate"),
    "our_rate": ("Tỷ lệ hệ thống tính", "Our rate"),
    "portal_numerator": ("Tử số của Cổng", "Portal's numerator"),
    "our_numerator": ("Tử số hệ thống tính", "Our numerator"),
    "portal_denominator": ("Mẫu số của Cổng", "Portal's denominator"),
    "our_denominator": ("Mẫu số hệ thống tính", "Our denominator"),
    "saved_at": ("Lưu lúc (UTC)", "Saved at (UTC)"),
    "unit_type": ("Loại đơn vị", "Unit type"),
    "portal_unit_name": ("Tên trên Cổng", "Name on the portal"),
    "portal_rank": ("Thứ hạng trên Cổng", "Rank on the portal"),
    "portal_total": ("Tổng điểm Cổng", "Portal's total"),
    "our_total": ("Tổng điểm hệ thống tính", "Our total"),
    "total_difference": ("Chênh lệch tổng điểm", "Total difference"),
    "largest_gap_group": ("Nhóm chênh lệch nhiều nhất", "Group that differs most"),
    "largest_group_difference": ("Chênh lệch của nhóm đó", "That group's difference"),
    "match_method": ("Đối chiếu theo", "Matched by"),
    "match_status": ("Lý do", "Why"),
    "portal_unit_id": ("Mã đơn vị trên Cổng", "Portal's unit id"),
    "portal_unit_code": ("Mã định danh Cổng gửi", "Code the portal sent"),
    "figures": ("Số liệu", "Figures"),
    "portal_items": ("Mục của Cổng", "Portal's items"),
    "source_file": ("Tệp", "File"),
    "section": ("Mục", "Section"),
    "indicator": ("Chỉ tiêu", "Indicator"),
    "rate": ("Tỷ lệ", "Rate"),
    "target": ("Mục tiêu", "Target"),
    "max_points": ("Điểm tối đa", "Max points"),
    "points": ("Điểm", "Points"),
    "points_lost": ("Điểm bị mất", "Points lost"),
    "scoring": ("Cách tính", "Scoring"),
    "points_measurable": ("Điểm tối đa đo được", "Measurable maximum"),
    "points_transparency": ("Công khai, minh bạch", "Transparency"),
    "points_progress": ("Tiến độ giải quyết", "Progress"),
    "points_online_services": ("Dịch vụ công trực tuyến", "Online services"),
    "points_online_payment": ("Thanh toán trực tuyến", "Online payment"),
    "points_digitisation": ("Số hóa hồ sơ", "Digitisation"),
    "online_rate_766": ("Tỷ lệ trực tuyến (3.3)", "Online rate (3.3)"),
    "month_start": ("Tháng", "Month"),
    "period_start": ("Đầu kỳ", "Period start"),
    "points_total": ("Tổng điểm", "Total points"),
    "rank_in_level": ("Hạng", "Rank"),
    "unit_code": ("Mã đơn vị", "Unit code"),
    "unit_name": ("Tên đơn vị", "Unit name"),
    "on_time_rate": ("Tỷ lệ đúng hạn (2.1)", "On-time rate (2.1)"),
    "online_rate": ("Tỷ lệ hồ sơ trực tuyến", "Share received online"),
    "online_payment_rate": ("Thanh toán trực tuyến (3.6)", "Online payment rate (3.6)"),
    "e_result_rate": ("Kết quả điện tử (4.1)", "E-result rate (4.1)"),
    "digitised_rate": ("Số hóa hồ sơ (4.2)", "Digitised rate (4.2)"),
    "digital_take_up": ("Tỷ lệ trực tuyến", "Digital take-up"),
    "completion_rate": ("Tỷ lệ hoàn thành", "Completion rate"),
    "dossiers_submitted": ("Hồ sơ nộp", "Dossiers submitted"),
    "dossiers_received": ("Hồ sơ tiếp nhận", "Dossiers received"),
    "dossiers_ended": ("Hồ sơ đã giải quyết", "Dossiers ended"),
    "in_progress_at_end": ("Đang giải quyết cuối kỳ", "In progress at period end"),
    "in_progress_overdue_at_end": ("Quá hạn cuối kỳ", "Overdue at period end"),
    "largest_gap_indicator": ("Chỉ tiêu thua tỉnh nhiều nhất", "Furthest below the province on"),
    "largest_gap_points": ("Chênh lệch điểm so với tỉnh", "Points gap to the province"),
    "largest_gap_rate": ("Chênh lệch tỷ lệ so với tỉnh", "Rate gap to the province"),
    "points_gap": ("Chênh lệch điểm (đơn vị − tỉnh)", "Points gap (unit − province)"),
    "rate_gap": ("Chênh lệch tỷ lệ (đơn vị − tỉnh)", "Rate gap (unit − province)"),
    "province_rate": ("Tỷ lệ của tỉnh", "Province's rate"),
    "province_points": ("Điểm của tỉnh", "Province's points"),
    "online_level": ("Mức độ", "Online level"),
    "collected_vnd": ("Số tiền thu (VNĐ)", "Collected (VND)"),
    "matched_vnd": ("Khớp (VNĐ)", "Matched (VND)"),
    "timing_vnd": ("Lệch thời điểm (VNĐ)", "Timing (VND)"),
    "gap_vnd": ("Chênh lệch (VNĐ)", "Gap (VND)"),
    "payments": ("Số giao dịch", "Payments"),
    "amount_vnd": ("Số tiền (VNĐ)", "Amount (VND)"),
    "received_in_person": ("Trực tiếp", "In person"),
    "received_online": ("Trực tuyến", "Online"),
    "received_postal": ("Bưu chính", "Postal"),
    "online_share": ("Tỷ lệ trực tuyến", "Online share"),
    "p50_processing_working_days": ("p50: 50 % hồ sơ xong trong (ngày)", "p50: half done within (days)"),
    "p90_processing_working_days": ("p90: 90 % hồ sơ xong trong (ngày)", "p90: 90 % done within (days)"),
    "avg_processing_working_days": ("Ngày xử lý trung bình", "Mean working days"),
    "deadline_working_days": ("Thời hạn (ngày làm việc)", "Legal deadline (working days)"),
    "deadline_use": ("Mức dùng thời hạn", "Share of deadline used"),
    "supplement_rate": ("Tỷ lệ phải bổ sung", "Supplement rate"),
    "service_code": ("Mã thủ tục", "Service code"),
    "service_name": ("Tên thủ tục", "Service name"),
    "ended_on_time_share": ("Đúng hạn (hồ sơ đã giải quyết)", "On time (ended dossiers)"),
    "is_slow": ("Chậm (p90 > thời hạn)", "Slow (p90 > deadline)"),
    "agency_code": ("Mã cơ quan", "Agency code"),
    "agency_name": ("Cơ quan", "Agency"),
    "district_code": ("Mã địa bàn", "District code"),
    "overdue_dossiers": ("Hồ sơ quá hạn", "Overdue dossiers"),
    "max_days_overdue": ("Quá hạn lâu nhất (ngày)", "Longest overdue (days)"),
    "median_days_overdue": ("Trung vị ngày quá hạn", "Median days overdue"),
    "dossier_id": ("Mã hồ sơ", "Dossier id"),
    "received_at": ("Ngày tiếp nhận", "Received"),
    "due_at": ("Hạn trả", "Due"),
    "supplement_rounds": ("Số lần bổ sung", "Supplement rounds"),
    "days_overdue": ("Số ngày quá hạn", "Days overdue"),
    "intermediary_code": ("Mã trung gian", "Intermediary code"),
    "intermediary_name": ("Trung gian thanh toán", "Intermediary"),
    "payment_channel": ("Kênh", "Channel"),
    "payments_succeeded": ("Giao dịch thành công", "Succeeded"),
    "refunds": ("Hoàn tiền", "Refunds"),
    "refunded_vnd": ("Số tiền hoàn (VNĐ)", "Refunded (VND)"),
    "payments_pending": ("Đang chờ", "Pending"),
    "pending_vnd": ("Số tiền chờ (VNĐ)", "Pending (VND)"),
    "payments_failed": ("Thất bại", "Failed"),
    "reconciliation_state": ("Trạng thái đối soát", "Reconciliation state"),
    "dossiers": ("Số hồ sơ", "Dossiers"),
    "fee_expected_vnd": ("Phí phải thu (VNĐ)", "Fees expected (VND)"),
    "fee_paid_vnd": ("Đã thanh toán trực tuyến (VNĐ)", "Paid online (VND)"),
    "settlement_date": ("Ngày đối soát", "Settlement date"),
    "orphan_payments": ("Giao dịch mồ côi", "Orphan payments"),
    "orphan_vnd": ("Tiền giao dịch mồ côi (VNĐ)", "Orphans (VND)"),
    "duplicate_rows": ("Dòng trùng lặp", "Duplicate rows"),
    "duplicated_vnd": ("Tiền dòng trùng (VNĐ)", "Duplicated amount (VND)"),
    "suite": ("Bộ kiểm tra", "Suite"),
    "table_name": ("Bảng", "Table"),
    "interval": ("Khoảng dữ liệu", "Interval"),
    "validated_at": ("Thời điểm kiểm tra", "Validated at"),
    "expectations": ("Số kiểm tra", "Checks"),
    "failed_critical": ("Lỗi nghiêm trọng", "Critical failures"),
    "failed_warning": ("Cảnh báo", "Warnings"),
    "status": ("Kết quả", "Result"),
    "expectation_type": ("Loại kiểm tra", "Check"),
    "column_name": ("Cột", "Column"),
    "severity": ("Mức độ", "Severity"),
    "unexpected_count": ("Số dòng không đạt", "Rows failing"),
    "element_count": ("Số dòng kiểm tra", "Rows checked"),
    "rule": ("Quy tắc", "Rule"),
    "source_name": ("Nguồn", "Source"),
    "files": ("Số tệp", "Files"),
    "rows_read": ("Dòng đọc", "Rows read"),
    "rows_loaded": ("Dòng nạp", "Rows loaded"),
    "rows_quarantined": ("Dòng cách ly", "Rows quarantined"),
    "file_errors": ("Tệp lỗi", "File errors"),
    "reason": ("Lý do", "Reason"),
    "rows": ("Số dòng", "Rows"),
    "fees_expected_vnd": ("Phí phải thu (VNĐ)", "Fees expected (VND)"),
    "fees_collected_online_vnd": ("Thu trực tuyến (VNĐ)", "Collected online (VND)"),
    "fee_bearing_dossiers": ("Hồ sơ có phí", "Fee-bearing dossiers"),
    "dossiers_without_due_at": ("Hồ sơ không có hạn trả", "Dossiers without due date"),
    "indicator_code": ("Số chỉ tiêu", "No."),
    "indicator_name": ("Chỉ tiêu", "Indicator"),
    "group_column": ("Nhóm", "Group"),
    "previous_period_start": ("Đầu kỳ trước", "Previous period start"),
    "rate_before": ("Tỷ lệ kỳ trước", "Rate before"),
    "rate_after": ("Tỷ lệ kỳ này", "Rate after"),
    "rate_change": ("Thay đổi tỷ lệ", "Rate change"),
    "points_before": ("Điểm kỳ trước", "Points before"),
    "points_after": ("Điểm kỳ này", "Points after"),
    "points_change": ("Thay đổi điểm", "Points change"),
    "change_rank": ("Thứ tự thay đổi", "Change rank"),
    "points_total_before": ("Tổng điểm kỳ trước", "Total before"),
    "points_total_after": ("Tổng điểm kỳ này", "Total after"),
    "points_total_change": ("Thay đổi tổng điểm", "Total change"),
    "indicators_moved": ("Số chỉ tiêu thay đổi", "Indicators that moved"),
    "points_effect": ("Điểm góp vào thay đổi", "Share of the points change"),
    "numerator_effect": ("Tác động tử số", "Numerator effect"),
    "denominator_effect": ("Tác động mẫu số", "Denominator effect"),
    "rate_effect": ("Tác động lên tỷ lệ", "Effect on the rate"),
    "numerator_before": ("Tử số kỳ trước", "Numerator before"),
    "numerator_after": ("Tử số kỳ này", "Numerator after"),
    "denominator_before": ("Mẫu số kỳ trước", "Denominator before"),
    "denominator_after": ("Mẫu số kỳ này", "Denominator after"),
    "misses_before": ("Hồ sơ không đạt kỳ trước", "Misses before"),
    "misses_after": ("Hồ sơ không đạt kỳ này", "Misses after"),
    "unit_rate_change": ("Thay đổi tỷ lệ của đơn vị", "Unit's rate change"),
    "unit_points_change": ("Thay đổi điểm của đơn vị", "Unit's points change"),
    "office_name": ("Phòng, bộ phận", "Office"),
    "late_before": ("Trễ hạn kỳ trước", "Late before"),
    "late_after": ("Trễ hạn kỳ này", "Late after"),
    "late_change": ("Thay đổi", "Change"),
    "overdue_now": ("Hồ sơ đang quá hạn", "Overdue now"),
}

# Values of text columns that the dashboard translates (kind "label").
VALUES: dict[str, tuple[str, str]] = {
    # agg_766_portal_comparison: how a unit was matched, and why a figure was not.
    "item_unknown": ("Không rõ mục của Cổng (thêm vào portal_766_items)",
                     "Portal's item unknown (add it to portal_766_items)"),
    "period_not_scored": ("Kỳ chưa được tính ở đây", "Period not scored here"),
    "unit_not_found": ("Không tìm thấy đơn vị (thêm vào portal_unit_ids)",
                       "Unit not found (add it to portal_unit_ids)"),
    "unit_ambiguous": ("Nhiều đơn vị cùng tên (thêm vào portal_unit_ids)",
                       "Several units share the name (add it to portal_unit_ids)"),
    "by_code": ("Mã định danh", "Code"),
    "by_province_id": ("Mã tỉnh trên Cổng", "Portal's province id"),
    "by_portal_unit_ids": ("Bảng mã đơn vị Cổng", "Portal unit id list"),
    "by_name": ("Tên đơn vị", "Unit name"),
    "province": ("Tỉnh", "Province"),
    "department": ("Sở, ngành", "Department"),
    "district": ("Huyện", "District"),
    "commune": ("Xã, phường", "Commune"),
    "agency": ("Cơ quan", "Agency"),
    # The indicators of marts.dim_766_indicators (by indicator_name) and its groups (by group_column);
    # a name the points table adds later shows as it is.
    "procedures_published_on_time_rate": ("Công bố thủ tục đúng hạn (1.1)", "Procedures published on time (1.1)"),
    "procedures_public_on_time_rate": ("Công khai thủ tục đúng hạn (1.2)", "Procedures made public on time (1.2)"),
    "procedures_complete_rate": ("Công khai đầy đủ thủ tục (1.3)", "Procedures published in full (1.3)"),
    "sync_rate": ("Đồng bộ hồ sơ lên Cổng quốc gia (1.4)", "Dossiers synced to the national portal (1.4)"),
    "on_time_rate": ("Giải quyết đúng hạn (2.1)", "On-time processing (2.1)"),
    "procedures_online_rate": ("Thủ tục trực tuyến (3.1)", "Procedures online (3.1)"),
    "procedures_fully_online_rate": ("Thủ tục trực tuyến toàn trình (3.1)", "Procedures fully online (3.1)"),
    "services_with_online_dossiers": ("Thủ tục trực tuyến có phát sinh hồ sơ (3.2)",
                                      "Online procedures with online dossiers (3.2)"),
    "online_rate": ("Tiếp nhận trực tuyến", "Received online"),
    "online_rate_766": ("Hồ sơ trực tuyến (3.3)", "Online dossiers (3.3)"),
    "procedures_with_fee_data_rate": ("Thủ tục có dữ liệu phí, lệ phí (3.5)", "Procedures with fee data (3.5)"),
    "procedures_with_online_payment_rate": ("Thủ tục có thanh toán trực tuyến (3.5)",
                                            "Procedures paid online (3.5)"),
    "online_payment_rate": ("Thanh toán trực tuyến (3.6)", "Paid online (3.6)"),
    "e_result_rate": ("Trả kết quả điện tử (4.1)", "Electronic result (4.1)"),
    "digitised_rate": ("Số hóa hồ sơ (4.2)", "Digitised dossiers (4.2)"),
    "data_reuse_rate": ("Tái sử dụng dữ liệu số hóa (4.3)", "Digitised data reused (4.3)"),
    "data_store_rate": ("Khai thác kho dữ liệu (4.4)", "Taken from the data store (4.4)"),
    "population_db_procedures_rate": ("Thủ tục kết nối CSDL dân cư (4.5)",
                                      "Procedures connected to the population database (4.5)"),
    "population_db_dossiers_rate": ("Hồ sơ dùng dữ liệu dân cư (4.5)", "Dossiers using population data (4.5)"),
    "not_measurable_4.2b": ("Bản sao điện tử có chứng thực", "Electronic certified copies"),
    "not_measurable_5": ("Phản ánh, kiến nghị và đánh giá mức độ hài lòng", "Complaints and satisfaction ratings"),
    "points_transparency": ("Nhóm: Công khai, minh bạch", "Group: Transparency"),
    "points_progress": ("Nhóm: Tiến độ, kết quả giải quyết", "Group: Progress and results"),
    "points_online_services": ("Nhóm: Dịch vụ công trực tuyến", "Group: Online services"),
    "points_online_payment": ("Nhóm: Thanh toán trực tuyến", "Group: Online payment"),
    "points_digitisation": ("Nhóm: Số hóa hồ sơ", "Group: Digitisation"),
    "points_satisfaction": ("Nhóm: Mức độ hài lòng", "Group: Satisfaction"),
    "points_total": ("Tổng điểm (trên điểm tối đa đo được)", "Total (of the measurable maximum)"),
    "scored": ("Tính điểm", "Scored"),
    "group": ("Cộng nhóm", "Group total"),
    "total": ("Tổng", "Total"),
    "monitored": ("Theo dõi, không tính điểm", "Monitored, not scored"),
    "not_scored_here": ("Không chấm ở cấp này", "Not scored at this level"),
    "not_measurable": ("Không đo được từ nguồn dữ liệu này", "Not measurable from these sources"),
    "as_was": ("Theo đơn vị khi đó", "Units as they were then"),
    "current": ("Theo đơn vị hiện nay", "Today's units"),
    "matched": ("Khớp", "Matched"),
    "underpaid": ("Thiếu", "Underpaid"),
    "overpaid": ("Thừa", "Overpaid"),
    "unpaid_online": ("Chọn trực tuyến, chưa thanh toán", "Online, not paid"),
    "no_online_payment": ("Không thanh toán trực tuyến", "Not paid online"),
    "not_applicable": ("Không có phí", "No fee"),
    "agencies": ("Danh sách cơ quan", "Agency list"),
    "catalog": ("Danh mục thủ tục", "Procedure catalog"),
    "dossiers": ("Hồ sơ", "Dossiers"),
    "processing": ("Quá trình xử lý", "Processing log"),
    "payments": ("Thanh toán", "Payments"),
    "portal": ("Điểm 766 của Cổng", "Portal's 766 figures"),
    "unknown": ("Không rõ", "Unknown"),
    "critical": ("nghiêm trọng", "critical"),
    "warning": ("cảnh báo", "warning"),
    "passed": ("Đạt", "Passed"),
    "failed": ("Chưa đạt", "Failed"),
    "in_person": ("Trực tiếp", "In person"),
    "online": ("Trực tuyến", "Online"),
    "postal": ("Bưu chính", "Postal"),
    # Why an agency moved a rate (why_agencies.reason); the page says it with the counts (MISSES).
    "more_misses": ("Nhiều hồ sơ không đạt hơn", "More dossiers missing the indicator"),
    "fewer_misses": ("Ít hồ sơ không đạt hơn", "Fewer dossiers missing the indicator"),
    "more_dossiers": ("Nhiều hồ sơ được tính hơn", "More dossiers counted"),
    "fewer_dossiers": ("Ít hồ sơ được tính hơn", "Fewer dossiers counted"),
    "no_effect": ("Không đổi", "No change"),
    "1": ("Cổng thanh toán quốc gia", "National platform"),
    "2": ("Cổng thanh toán của tỉnh", "Provincial gateway"),
    # fct_payments.payment_channel and fct_dossiers.paid_online_via (metrics.md).
    "platform": ("Nền tảng thanh toán quốc gia", "National payment platform"),
    "provincial_gateway": ("Cổng thanh toán của tỉnh", "Provincial gateway"),
    "none": ("Không thanh toán trực tuyến", "Not paid online"),
    "refunded_beyond_paid": ("Hoàn quá số đã nộp", "Refunded beyond paid"),
    # Great Expectations' check types (quality page), in words.
    "expect_column_values_to_be_between": ("Giá trị trong khoảng cho phép", "Values within the allowed range"),
    "expect_column_values_to_be_in_set": ("Giá trị thuộc danh mục cho phép", "Values from the allowed list"),
    "expect_column_values_to_not_be_null": ("Không được để trống", "Not empty"),
    "expect_column_values_to_be_null": ("Phải để trống", "Empty"),
    "expect_column_pair_values_a_to_be_greater_than_b": ("Thứ tự hai cột hợp lệ (ví dụ ngày trước, ngày sau)",
                                                         "Two columns in order (e.g. dates)"),
    "expect_compound_columns_to_be_unique": ("Không trùng khóa", "No duplicate keys"),
    "expect_column_values_to_be_unique": ("Không trùng giá trị", "No duplicate values"),
    "expect_table_columns_to_match_set": ("Đủ và đúng các cột", "The expected columns"),
    "expect_table_row_count_to_be_between": ("Số dòng trong khoảng cho phép", "Row count within the allowed range"),
    "expect_column_values_to_not_be_in_set": ("Không có giá trị bị cấm", "No forbidden values"),
    "expect_column_values_to_match_regex": ("Đúng định dạng", "The expected format"),
    # dim_services.online_level (MucDo): 4 toàn trình, 3 một phần, 1-2 information only.
    "online_level_4": ("Toàn trình", "Fully online"),
    "online_level_3": ("Một phần", "Partly online"),
    "online_level_2": ("Chỉ cung cấp thông tin, biểu mẫu", "Information and forms only"),
    "online_level_1": ("Chỉ cung cấp thông tin", "Information only"),
}


# What a fraction indicator's "misses" are (its denominator less its numerator), by indicator_name.
MISSES: dict[str, tuple[str, str]] = {
    "on_time_rate": ("hồ sơ trễ hạn", "late dossiers"),
    "sync_rate": ("hồ sơ chưa đồng bộ", "dossiers not synced"),
    "online_payment_rate": ("hồ sơ có phí không thanh toán trực tuyến", "fee-bearing dossiers not paid online"),
    "e_result_rate": ("hồ sơ không trả kết quả điện tử", "dossiers without an electronic result"),
    "digitised_rate": ("hồ sơ chưa số hóa", "dossiers not digitised"),
    "data_reuse_rate": ("hồ sơ không tái sử dụng dữ liệu", "dossiers not reusing data"),
    "data_store_rate": ("hồ sơ không khai thác kho dữ liệu", "dossiers not taken from the data store"),
    "population_db_dossiers_rate": ("hồ sơ không dùng dữ liệu dân cư", "dossiers not using population data"),
}


def misses(indicator_name: str, lang: str) -> str:
    vi, en = MISSES.get(indicator_name, ("hồ sơ không đạt", "dossiers missing it"))
    return vi if lang == "vi" else en


def ui(key: str, lang: str) -> str:
    vi, en = UI[key]
    return vi if lang == "vi" else en


def scope(key: str, lang: str, period: str) -> str:
    """The sentence under a table's title saying what "in this period" means for it ('' when none)."""
    pair = SCOPES.get(key)
    if pair is None:
        return ""
    return (pair[0] if lang == "vi" else pair[1]).format(period=period)


def column_label(name: str, lang: str) -> str:
    vi, en = COLUMNS.get(name, (name, name))
    return vi if lang == "vi" else en


def value_label(value: object, lang: str) -> str:
    if value is None:
        return ""
    pair = VALUES.get(str(value))
    if pair is None:
        return str(value)
    return pair[0] if lang == "vi" else pair[1]
