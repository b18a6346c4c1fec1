"""The build backend: setuptools, after fetching GraphiQL's files into the package when a wheel is built.

A wheel then serves GraphiQL with no internet and from any working directory: the files are package data.
Editable installs (``make serve``, ``make test``) leave that to ``make graphiql-assets``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

from setuptools import build_meta
from setuptools.build_meta import *  # noqa: F403  (every other hook, unchanged)

_FILES = Path(__file__).resolve().parent / "api" / "http" / "graphiql_files.py"


def build_wheel(
    wheel_directory: str, config_settings: dict[str, Any] | None = None, metadata_directory: str | None = None
) -> str:
    _fetch_graphiql_assets()
    return build_meta.build_wheel(wheel_directory, config_settings, metadata_directory)


def _fetch_graphiql_assets() -> None:
    # Loaded from its file: the build environment has setuptools and nothing else of the project's.
    spec = importlib.util.spec_from_file_location("graphiql_files", _FILES)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    fetched = module.fetch(module.PACKAGED, say=False)
    print(f"GraphiQL assets: {len(fetched)} of {len(module.ASSETS)} files fetched from npm")
