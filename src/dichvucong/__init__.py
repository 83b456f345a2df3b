"""Analytics pipeline for the online public services of Vĩnh Phúc province."""

__version__ = "0.1.0"
