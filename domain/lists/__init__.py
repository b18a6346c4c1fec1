"""Managed lists: the vocabularies managers maintain and intake checks codes against."""
