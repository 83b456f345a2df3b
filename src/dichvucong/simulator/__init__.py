"""Source simulator: the v2 sources of `shared/spec/sources.md` for a synthetic Vĩnh Phúc — agency list,
catalog, dossier and processing-log sync calls, and payment reconciliation files — or, in the
`phu-tho-2025` scenario, for Vĩnh Phúc, Hòa Bình and Phú Thọ merging on 1 July 2025."""

from dichvucong.simulator.generator import DEFAULT_SCENARIO, SCENARIOS, GenerationStats, generate

__all__ = ["DEFAULT_SCENARIO", "SCENARIOS", "GenerationStats", "generate"]
