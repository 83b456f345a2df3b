"""Extraction and landing of the three sources into the Parquet lake."""
