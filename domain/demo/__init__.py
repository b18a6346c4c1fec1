"""Deterministic synthetic demo data: customers, their CRM records and feedback, and a bulk loader."""

from domain.demo.generator import Batch, generate
from domain.demo.loader import LoadReport, load

__all__ = ["Batch", "LoadReport", "generate", "load"]
