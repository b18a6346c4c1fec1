"""Deterministic synthetic demo data: customers, their CRM records and feedback, and a bulk loader."""

from api.demo.generator import Batch, generate
from api.demo.loader import LoadReport, load

__all__ = ["Batch", "LoadReport", "generate", "load"]
