"""Compiled execution of validated queries: a plan per document, results built without per-field resolvers.

``CompiledExecutor`` is a graphql-core executor: parsing, validation, schema extensions, error formatting and
mutations stay with strawberry and graphql-core. Only a query's field completion is replaced by a plan
compiled once per document (``plan.py``): plain attributes are read directly, while every field that has a
resolver or a field extension (so every ``PolicyGuard``) is still called through its resolver. Any error makes
the request run again on the stock executor, so errors are reported exactly as before.
"""

from resolvers.fastpath.executor import compiled_executor

__all__ = ["compiled_executor"]
