"""Source simulator: the v2 sources of `shared/spec/sources.md` for a synthetic Vĩnh Phúc — agency list,
catalog, dossier and processing-log sync calls, and payment reconciliation files."""

from dichvucong.simulator.generator import GenerationStats, generate

__all__ = ["GenerationStats", "generate"]
