"""Source simulator: synthetic catalog, dossier sync and reconciliation files."""

from dichvucong.simulator.generator import GenerationStats, generate

__all__ = ["GenerationStats", "generate"]
