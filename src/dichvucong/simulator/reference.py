"""Reference data the simulator is calibrated on: Vĩnh Phúc's districts and
communes, departments, fields of procedures, payment intermediaries, and the
words its officials and applicants write.

District and commune codes are the national administrative codes of Vĩnh
Phúc's units before 1 July 2025; the agency codes built from them are in
`agencies.py`. Volumes and rates are tuned so that a month looks like the
province's published figures: about 36,700 new dossiers, 744 level-3/4 online
services in a larger catalog, an on-time rate of 97-99 % with some land offices
far worse, and online payment that starts rare and grows.
"""

from __future__ import annotations

from dataclasses import dataclass

PROVINCE_CODE = "26"
PROVINCE_SUFFIX = "H62"
PROVINCE_NAME = "tỉnh Vĩnh Phúc"


@dataclass(frozen=True)
class Commune:
    code: str  # 5-digit national code (Decision 124/2004/QĐ-TTg)
    name: str


@dataclass(frozen=True)
class District:
    code: str
    name: str
    weight: float  # share of the province's applicants
    communes: tuple[Commune, ...]


def _communes(*pairs: tuple[str, str]) -> tuple[Commune, ...]:
    return tuple(Commune(code, name) for code, name in pairs)


# Vĩnh Phúc's 9 districts and 121 communes as they stood before 1 July 2025 (codes and names of the
# national list of administrative units, as the `vietnam-provinces` package, version 0.6.0, ships it).
DISTRICTS: tuple[District, ...] = (
    District("243", "Thành phố Vĩnh Yên", 0.11, _communes(
        ("08707", "Phường Tích Sơn"), ("08710", "Phường Liên Bảo"), ("08713", "Phường Hội Hợp"),
        ("08716", "Phường Đống Đa"), ("08719", "Phường Ngô Quyền"), ("08722", "Phường Đồng Tâm"),
        ("08725", "Phường Định Trung"), ("08728", "Phường Khai Quang"), ("08731", "Xã Thanh Trù"))),
    District("244", "Thành phố Phúc Yên", 0.09, _communes(
        ("08737", "Phường Hùng Vương"), ("08740", "Phường Hai Bà Trưng"), ("08743", "Phường Phúc Thắng"),
        ("08746", "Phường Xuân Hoà"), ("08747", "Phường Đồng Xuân"), ("08749", "Xã Ngọc Thanh"),
        ("08752", "Xã Cao Minh"), ("08755", "Phường Nam Viêm"), ("08758", "Phường Tiền Châu"))),
    District("246", "Huyện Lập Thạch", 0.12, _communes(
        ("08761", "Thị trấn Lập Thạch"), ("08764", "Xã Quang Sơn"), ("08767", "Xã Ngọc Mỹ"),
        ("08770", "Xã Hợp Lý"), ("08785", "Xã Bắc Bình"), ("08788", "Xã Thái Hòa"),
        ("08789", "Thị trấn Hoa Sơn"), ("08791", "Xã Liễn Sơn"), ("08794", "Xã Xuân Hòa"),
        ("08797", "Xã Vân Trục"), ("08812", "Xã Liên Hòa"), ("08815", "Xã Tử Du"), ("08833", "Xã Bàn Giản"),
        ("08836", "Xã Xuân Lôi"), ("08839", "Xã Đồng Ích"), ("08842", "Xã Tiên Lữ"), ("08845", "Xã Văn Quán"),
        ("08863", "Xã Tây Sơn"), ("08866", "Xã Sơn Đông"))),
    District("247", "Huyện Tam Dương", 0.10, _communes(
        ("08869", "Thị trấn Hợp Hòa"), ("08872", "Xã Hoàng Hoa"), ("08875", "Xã Đồng Tĩnh"),
        ("08878", "Thị trấn Kim Long"), ("08881", "Xã Hướng Đạo"), ("08884", "Xã Đạo Tú"),
        ("08887", "Xã An Hòa"), ("08890", "Xã Thanh Vân"), ("08893", "Xã Duy Phiên"), ("08896", "Xã Hoàng Đan"),
        ("08899", "Xã Hoàng Lâu"), ("08905", "Xã Hội Thịnh"))),
    District("248", "Huyện Tam Đảo", 0.07, _communes(
        ("08908", "Thị trấn Tam Đảo"), ("08911", "Thị trấn Hợp Châu"), ("08914", "Xã Đạo Trù"),
        ("08917", "Xã Yên Dương"), ("08920", "Xã Bồ Lý"), ("08923", "Thị trấn Đại Đình"),
        ("08926", "Xã Tam Quan"), ("08929", "Xã Hồ Sơn"), ("08932", "Xã Minh Quang"))),
    District("249", "Huyện Bình Xuyên", 0.11, _communes(
        ("08935", "Thị trấn Hương Canh"), ("08936", "Thị trấn Gia Khánh"), ("08938", "Xã Trung Mỹ"),
        ("08944", "Thị trấn Bá Hiến"), ("08947", "Xã Thiện Kế"), ("08950", "Xã Hương Sơn"),
        ("08953", "Xã Tam Hợp"), ("08956", "Xã Quất Lưu"), ("08959", "Xã Sơn Lôi"),
        ("08962", "Thị trấn Đạo Đức"), ("08965", "Xã Tân Phong"), ("08968", "Thị trấn Thanh Lãng"),
        ("08971", "Xã Phú Xuân"))),
    District("251", "Huyện Yên Lạc", 0.14, _communes(
        ("09025", "Thị trấn Yên Lạc"), ("09028", "Xã Đồng Cương"), ("09031", "Xã Đồng Văn"),
        ("09034", "Xã Bình Định"), ("09037", "Xã Trung Nguyên"), ("09040", "Xã Tề Lỗ"),
        ("09043", "Thị trấn Tam Hồng"), ("09046", "Xã Yên Đồng"), ("09049", "Xã Văn Tiến"),
        ("09052", "Xã Nguyệt Đức"), ("09055", "Xã Yên Phương"), ("09061", "Xã Trung Kiên"),
        ("09064", "Xã Liên Châu"), ("09067", "Xã Đại Tự"), ("09070", "Xã Hồng Châu"), ("09073", "Xã Trung Hà"))),
    District("252", "Huyện Vĩnh Tường", 0.17, _communes(
        ("09076", "Thị trấn Vĩnh Tường"), ("09079", "Xã Kim Xá"), ("09082", "Xã Yên Bình"),
        ("09085", "Xã Chấn Hưng"), ("09088", "Xã Nghĩa Hưng"), ("09091", "Xã Yên Lập"),
        ("09097", "Xã Sao Đại Việt"), ("09100", "Xã Đại Đồng"), ("09106", "Xã Lũng Hoà"),
        ("09112", "Thị trấn Thổ Tang"), ("09118", "Xã Lương Điền"), ("09124", "Xã Tân Phú"),
        ("09127", "Xã Thượng Trưng"), ("09130", "Xã Vũ Di"), ("09136", "Xã Tuân Chính"),
        ("09145", "Thị trấn Tứ Trưng"), ("09148", "Xã Ngũ Kiên"), ("09151", "Xã An Nhân"),
        ("09154", "Xã Vĩnh Thịnh"), ("09157", "Xã Vĩnh Phú"))),
    District("253", "Huyện Sông Lô", 0.08, _communes(
        ("08773", "Xã Lãng Công"), ("08776", "Xã Quang Yên"), ("08782", "Xã Hải Lựu"), ("08800", "Xã Đồng Quế"),
        ("08803", "Xã Nhân Đạo"), ("08806", "Xã Đôn Nhân"), ("08809", "Xã Phương Khoan"),
        ("08818", "Xã Tân Lập"), ("08824", "Thị trấn Tam Sơn"), ("08830", "Xã Yên Thạch"),
        ("08848", "Xã Đồng Thịnh"), ("08851", "Xã Tứ Yên"), ("08854", "Xã Đức Bác"), ("08860", "Xã Cao Phong"))),
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

# Land registration branches are the slowest offices; their lateness varies by district.
LAND_BRANCH_LATE_RATE = {"243": 0.03, "244": 0.03, "246": 0.20, "247": 0.05, "248": 0.04,
                         "249": 0.03, "251": 0.06, "252": 0.10, "253": 0.04}

# The office that examines a field's dossiers (phòng chuyên môn), by the kind of agency that holds it.
DEPARTMENT_OFFICES = {
    "DD": "Phòng Quản lý đất đai", "HT": "Phòng Hành chính tư pháp", "CT": "Phòng Hành chính tư pháp",
    "LLTP": "Phòng Hành chính tư pháp", "DKKD": "Phòng Đăng ký kinh doanh", "XD": "Phòng Quản lý xây dựng",
    "GTVT": "Phòng Quản lý phương tiện và người lái", "GD": "Phòng Giáo dục phổ thông",
    "LDTBXH": "Phòng Lao động - Việc làm", "YT": "Phòng Nghiệp vụ Y", "CTH": "Phòng Quản lý thương mại",
    "NN": "Chi cục Chăn nuôi và Thú y", "VH": "Phòng Quản lý văn hóa", "TT": "Phòng Thông tin - Báo chí - Xuất bản",
    "NV": "Phòng Tổ chức, biên chế và tổ chức phi chính phủ", "TC": "Phòng Quản lý ngân sách",
    "KHCN": "Phòng Quản lý chuyên ngành",
}
BRANCH_OFFICE = "Bộ phận Đăng ký và cấp giấy chứng nhận"
DISTRICT_OFFICES = {
    "DD": "Phòng Tài nguyên và Môi trường", "HT": "Phòng Tư pháp", "CT": "Phòng Tư pháp",
    "DKKD": "Phòng Tài chính - Kế hoạch", "XD": "Phòng Quản lý đô thị", "GTVT": "Phòng Kinh tế - Hạ tầng",
    "GD": "Phòng Giáo dục và Đào tạo", "LDTBXH": "Phòng Lao động - Thương binh và Xã hội", "YT": "Phòng Y tế",
    "CTH": "Phòng Kinh tế", "NN": "Phòng Nông nghiệp và Phát triển nông thôn",
    "VH": "Phòng Văn hóa và Thông tin", "NV": "Phòng Nội vụ", "TC": "Phòng Tài chính - Kế hoạch",
}
COMMUNE_OFFICES = {
    "DD": "Công chức Địa chính - Xây dựng", "XD": "Công chức Địa chính - Xây dựng",
    "HT": "Công chức Tư pháp - Hộ tịch", "CT": "Công chức Tư pháp - Hộ tịch",
}
COMMUNE_DEFAULT_OFFICE = "Công chức Văn hóa - Xã hội"
ONE_STOP_OFFICE = "Bộ phận Một cửa"
LEADERSHIP_OFFICE = "Lãnh đạo"

# Titles by office role and kind of agency (department, branch, district, commune).
RECEPTION_TITLES = ("Công chức tiếp nhận và trả kết quả", "Chuyên viên Bộ phận Một cửa")
EXPERT_TITLES = ("Chuyên viên", "Chuyên viên chính", "Phó Trưởng phòng", "Trưởng phòng")
LEADER_TITLES = {
    "department": ("Giám đốc", "Phó Giám đốc"),
    "branch": ("Giám đốc Chi nhánh", "Phó Giám đốc Chi nhánh"),
    "district": ("Chủ tịch UBND", "Phó Chủ tịch UBND"),
    "commune": ("Chủ tịch UBND", "Phó Chủ tịch UBND"),
}

SUPPLEMENT_REASONS = (
    "Bổ sung bản sao giấy tờ tùy thân còn hiệu lực",
    "Bổ sung tờ khai theo đúng mẫu quy định",
    "Bổ sung văn bản ủy quyền có chứng thực",
    "Bổ sung bản vẽ, sơ đồ kèm theo hồ sơ",
    "Thành phần hồ sơ chưa đầy đủ chữ ký của các bên liên quan",
    "Thông tin kê khai không khớp với cơ sở dữ liệu, đề nghị điều chỉnh",
)
REFUSAL_REASONS = (
    "Hồ sơ không thuộc thẩm quyền giải quyết",
    "Thành phần hồ sơ không đúng quy định",
    "Hồ sơ nộp trùng",
)
STOP_REASONS = (
    "Người nộp hồ sơ không bổ sung đúng thời hạn",
    "Hồ sơ không đủ điều kiện giải quyết theo quy định",
)
NOTES = (
    "Công dân đề nghị nhận kết quả qua bưu điện",
    "Đã đối chiếu bản chính",
    "Hồ sơ ưu tiên",
    "Liên hệ trước khi trả kết quả",
    "Đã thu phí tại Bộ phận Một cửa",
)
ATTACHMENT_NAMES = (
    "To_khai", "Don_de_nghi", "CCCD_mat_truoc", "CCCD_mat_sau", "Giay_uy_quyen", "Ban_sao_giay_to",
    "So_do_thua_dat", "Hop_dong", "Giay_xac_nhan", "Ban_ve",
)
