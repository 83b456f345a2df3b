"""Reference data the simulator is calibrated on: Vĩnh Phúc's districts,
agencies, fields of procedures and payment intermediaries.

District codes are the national administrative codes of Vĩnh Phúc's nine
district-level units; agency codes follow the shape of the national agency
identifiers (`000.00.NN.H62`, H62 being Vĩnh Phúc). Volumes and rates are
tuned so that a month looks like the province's published figures: about
36,700 new dossiers, 744 level-3/4 online services in a larger catalog, an
on-time rate of 97-99 % with some land offices far worse, and online payment
that starts rare and grows.
"""

from __future__ import annotations

from dataclasses import dataclass

PROVINCE_CODE = "26"
PROVINCE_SUFFIX = "H62"


@dataclass(frozen=True)
class District:
    code: str
    name: str
    weight: float  # share of the province's applicants
    communes: tuple[str, ...]


DISTRICTS: tuple[District, ...] = (
    District("243", "Thành phố Vĩnh Yên", 0.11,
             ("Phường Ngô Quyền", "Phường Liên Bảo", "Phường Đống Đa", "Xã Thanh Trù")),
    District("244", "Thành phố Phúc Yên", 0.09,
             ("Phường Hùng Vương", "Phường Trưng Trắc", "Xã Ngọc Thanh", "Xã Cao Minh")),
    District("246", "Huyện Lập Thạch", 0.12,
             ("Thị trấn Lập Thạch", "Xã Xuân Hòa", "Xã Tử Du", "Xã Liên Hòa", "Xã Bàn Giản")),
    District("247", "Huyện Tam Dương", 0.10,
             ("Thị trấn Hợp Hòa", "Xã Kim Long", "Xã Hướng Đạo", "Xã Đạo Tú")),
    District("248", "Huyện Tam Đảo", 0.07,
             ("Thị trấn Tam Đảo", "Xã Đại Đình", "Xã Hợp Châu", "Xã Minh Quang")),
    District("249", "Huyện Bình Xuyên", 0.11,
             ("Thị trấn Hương Canh", "Xã Tam Hợp", "Xã Sơn Lôi", "Xã Thiện Kế")),
    District("251", "Huyện Yên Lạc", 0.14,
             ("Thị trấn Yên Lạc", "Xã Đồng Cương", "Xã Tề Lỗ", "Xã Liên Châu", "Xã Nguyệt Đức")),
    District("252", "Huyện Vĩnh Tường", 0.17,
             ("Thị trấn Vĩnh Tường", "Xã Thổ Tang", "Xã Lũng Hòa", "Xã Tân Tiến", "Xã Bồ Sao")),
    District("253", "Huyện Sông Lô", 0.08,
             ("Thị trấn Tam Sơn", "Xã Đồng Thịnh", "Xã Lãng Công", "Xã Nhạo Sơn")),
)


@dataclass(frozen=True)
class Department:
    code: str
    name: str
    late_rate: float


DEPARTMENTS: tuple[Department, ...] = (
    Department("000.00.01.H62", "Sở Tài nguyên và Môi trường", 0.035),
    Department("000.00.02.H62", "Sở Tư pháp", 0.006),
    Department("000.00.03.H62", "Sở Kế hoạch và Đầu tư", 0.004),
    Department("000.00.04.H62", "Sở Xây dựng", 0.02),
    Department("000.00.05.H62", "Sở Giao thông vận tải", 0.008),
    Department("000.00.06.H62", "Sở Giáo dục và Đào tạo", 0.005),
    Department("000.00.07.H62", "Sở Lao động - Thương binh và Xã hội", 0.015),
    Department("000.00.08.H62", "Sở Y tế", 0.012),
    Department("000.00.09.H62", "Sở Công Thương", 0.006),
    Department("000.00.10.H62", "Sở Nông nghiệp và Phát triển nông thôn", 0.01),
    Department("000.00.11.H62", "Sở Văn hóa, Thể thao và Du lịch", 0.005),
    Department("000.00.12.H62", "Sở Thông tin và Truyền thông", 0.002),
    Department("000.00.13.H62", "Sở Nội vụ", 0.01),
    Department("000.00.14.H62", "Sở Tài chính", 0.008),
    Department("000.00.15.H62", "Sở Khoa học và Công nghệ", 0.004),
)


@dataclass(frozen=True)
class Field:
    code: str
    name: str
    department: str  # code of the department that publishes its procedures
    services: int  # procedures in the catalog
    online_services: int  # of which level 3 or 4
    level_mix: tuple[float, float, float]  # share of procedures at TINH, HUYEN, XA
    volume: float  # share of the province's dossiers
    online_share: float  # share of dossiers of online services submitted online
    fee_share: float  # share of procedures with a fee
    fee_range: tuple[int, int]  # VND
    deadline_range: tuple[int, int]  # working days
    name_stems: tuple[str, ...]


FIELDS: tuple[Field, ...] = (
    Field("DD", "Đất đai", "000.00.01.H62", 160, 70, (0.25, 0.7, 0.05), 0.30, 0.12, 0.8,
          (50_000, 2_000_000), (5, 30),
          ("Đăng ký biến động quyền sử dụng đất", "Cấp Giấy chứng nhận quyền sử dụng đất lần đầu",
           "Chuyển mục đích sử dụng đất", "Tách thửa hoặc hợp thửa đất",
           "Đính chính Giấy chứng nhận đã cấp", "Xóa đăng ký thế chấp quyền sử dụng đất")),
    Field("HT", "Hộ tịch", "000.00.02.H62", 70, 40, (0.1, 0.3, 0.6), 0.20, 0.45, 0.4,
          (5_000, 100_000), (0, 5),
          ("Đăng ký khai sinh", "Đăng ký kết hôn", "Đăng ký khai tử",
           "Cấp bản sao trích lục hộ tịch", "Xác nhận tình trạng hôn nhân",
           "Đăng ký thay đổi, cải chính hộ tịch")),
    Field("CT", "Chứng thực", "000.00.02.H62", 30, 6, (0.0, 0.5, 0.5), 0.12, 0.05, 0.9,
          (2_000, 50_000), (0, 2),
          ("Chứng thực bản sao từ bản chính", "Chứng thực chữ ký", "Chứng thực hợp đồng, giao dịch")),
    Field("LLTP", "Lý lịch tư pháp", "000.00.02.H62", 25, 15, (1.0, 0.0, 0.0), 0.03, 0.55, 0.9,
          (100_000, 200_000), (10, 15),
          ("Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam", "Cấp Phiếu lý lịch tư pháp cho cơ quan")),
    Field("DKKD", "Thành lập và hoạt động doanh nghiệp", "000.00.03.H62", 150, 100, (0.8, 0.2, 0.0),
          0.05, 0.88, 0.6, (50_000, 300_000), (3, 5),
          ("Đăng ký thành lập doanh nghiệp", "Đăng ký thay đổi nội dung đăng ký doanh nghiệp",
           "Thông báo tạm ngừng kinh doanh", "Đăng ký hộ kinh doanh", "Giải thể doanh nghiệp")),
    Field("XD", "Hoạt động xây dựng", "000.00.04.H62", 90, 40, (0.5, 0.5, 0.0), 0.03, 0.2, 0.7,
          (100_000, 1_500_000), (10, 20),
          ("Cấp giấy phép xây dựng", "Thẩm định thiết kế xây dựng", "Cấp chứng chỉ hành nghề xây dựng")),
    Field("GTVT", "Đường bộ", "000.00.05.H62", 110, 60, (0.9, 0.1, 0.0), 0.06, 0.55, 0.8,
          (50_000, 810_000), (3, 10),
          ("Đổi giấy phép lái xe", "Cấp lại giấy phép lái xe", "Cấp phù hiệu xe kinh doanh vận tải",
           "Cấp giấy phép kinh doanh vận tải bằng xe ô tô")),
    Field("GD", "Giáo dục và Đào tạo", "000.00.06.H62", 140, 60, (0.5, 0.4, 0.1), 0.03, 0.35, 0.1,
          (50_000, 200_000), (5, 15),
          ("Cấp bản sao văn bằng, chứng chỉ", "Chuyển trường đối với học sinh",
           "Cho phép thành lập trường mầm non tư thục", "Công nhận trường đạt chuẩn quốc gia")),
    Field("LDTBXH", "Lao động, Người có công và Bảo trợ xã hội", "000.00.07.H62", 220, 60,
          (0.4, 0.4, 0.2), 0.07, 0.25, 0.05, (100_000, 500_000), (7, 20),
          ("Giải quyết trợ cấp thất nghiệp", "Trợ cấp xã hội hằng tháng",
           "Cấp giấy phép lao động cho người nước ngoài", "Xác nhận người có công")),
    Field("YT", "Khám bệnh, chữa bệnh và Dược", "000.00.08.H62", 200, 50, (0.95, 0.05, 0.0), 0.03,
          0.3, 0.8, (200_000, 3_000_000), (10, 30),
          ("Cấp chứng chỉ hành nghề khám bệnh, chữa bệnh", "Cấp giấy phép hoạt động phòng khám",
           "Cấp giấy chứng nhận đủ điều kiện kinh doanh dược")),
    Field("CTH", "Công Thương", "000.00.09.H62", 160, 70, (0.9, 0.1, 0.0), 0.02, 0.6, 0.7,
          (200_000, 1_200_000), (5, 15),
          ("Cấp giấy phép bán lẻ rượu", "Cấp giấy chứng nhận đủ điều kiện an toàn thực phẩm",
           "Cấp giấy phép kinh doanh xăng dầu")),
    Field("NN", "Nông nghiệp và Phát triển nông thôn", "000.00.10.H62", 150, 40, (0.7, 0.25, 0.05),
          0.02, 0.3, 0.5, (100_000, 700_000), (5, 20),
          ("Cấp giấy chứng nhận kiểm dịch động vật",
           "Cấp giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm nông lâm sản")),
    Field("VH", "Văn hóa, Thể thao và Du lịch", "000.00.11.H62", 140, 30, (0.85, 0.15, 0.0), 0.015,
          0.4, 0.6, (100_000, 2_000_000), (5, 15),
          ("Cấp giấy phép kinh doanh dịch vụ karaoke", "Công nhận hạng cơ sở lưu trú du lịch",
           "Cấp giấy phép tổ chức biểu diễn nghệ thuật")),
    Field("TT", "Thông tin và Truyền thông", "000.00.12.H62", 60, 30, (1.0, 0.0, 0.0), 0.005, 0.7,
          0.3, (100_000, 500_000), (5, 15),
          ("Cấp giấy phép xuất bản bản tin", "Cấp giấy phép thiết lập trang thông tin điện tử tổng hợp")),
    Field("NV", "Nội vụ", "000.00.13.H62", 110, 25, (0.6, 0.3, 0.1), 0.015, 0.2, 0.05,
          (50_000, 200_000), (10, 30),
          ("Thẩm định hồ sơ khen thưởng", "Công nhận ban vận động thành lập hội",
           "Đăng ký hoạt động tín ngưỡng")),
    Field("TC", "Tài chính", "000.00.14.H62", 70, 20, (0.9, 0.1, 0.0), 0.01, 0.3, 0.1,
          (100_000, 500_000), (10, 20),
          ("Đăng ký mã số đơn vị có quan hệ với ngân sách", "Thẩm định quyết toán dự án hoàn thành")),
    Field("KHCN", "Khoa học và Công nghệ", "000.00.15.H62", 70, 28, (1.0, 0.0, 0.0), 0.005, 0.5,
          0.6, (200_000, 1_000_000), (10, 20),
          ("Cấp giấy chứng nhận đăng ký hoạt động khoa học và công nghệ",
           "Cấp giấy phép tiến hành công việc bức xạ")),
)


@dataclass(frozen=True)
class Intermediary:
    code: str
    channels: tuple[int, ...]  # KenhThanhToan it serves
    weight: float
    bom: bool
    crlf: bool
    total_line: bool


# File dialects are fixed per intermediary, as each exports with its own tool.
INTERMEDIARIES: tuple[Intermediary, ...] = (
    Intermediary("VNPTPAY", (1, 2), 0.30, bom=False, crlf=False, total_line=False),
    Intermediary("VIETTELMONEY", (1,), 0.15, bom=False, crlf=False, total_line=False),
    Intermediary("VIETINBANK", (1, 2), 0.18, bom=True, crlf=False, total_line=False),
    Intermediary("VCB", (1,), 0.10, bom=False, crlf=False, total_line=True),
    Intermediary("BIDV", (1, 2), 0.12, bom=False, crlf=True, total_line=False),
    Intermediary("AGRIBANK", (1,), 0.10, bom=True, crlf=True, total_line=True),
    Intermediary("MOMO", (1,), 0.05, bom=False, crlf=False, total_line=False),
)

FAMILY_NAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đỗ", "Bùi", "Đặng", "Ngô",
                "Dương", "Lý", "Phan", "Trịnh", "Kiều")
MIDDLE_NAMES = ("Văn", "Thị", "Đức", "Minh", "Thu", "Hồng", "Quang", "Ngọc", "Thanh", "Xuân")
GIVEN_NAMES = ("An", "Bình", "Cường", "Dũng", "Hà", "Hải", "Hương", "Lan", "Long", "Mai", "Nam",
               "Phương", "Quân", "Thảo", "Trang", "Tuấn", "Yến", "Hùng", "Linh", "Sơn")
ENTERPRISE_PREFIXES = ("Công ty TNHH", "Công ty Cổ phần", "Hợp tác xã", "Doanh nghiệp tư nhân")
ENTERPRISE_STEMS = ("Phúc Thịnh", "Vĩnh An", "Tam Đảo Xanh", "Hồng Hà", "Lạc Hồng", "Đại Lải",
                    "Sông Lô", "Minh Phát", "Hưng Thịnh", "Việt Tiến")
