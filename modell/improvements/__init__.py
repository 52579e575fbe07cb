"""Improvement work, its log with result-chain steps, indicators and mentor sessions."""
