"""Quality gates: Great Expectations suites for every load and every mart."""

from dichvucong.quality.suites import QualityGateFailed, ValidationSummary, enforce, record, validate

__all__ = ["QualityGateFailed", "ValidationSummary", "enforce", "record", "validate"]
