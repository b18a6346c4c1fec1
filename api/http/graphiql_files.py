"""The files GraphiQL's page loads: which npm package files, their integrity, where they live, fetching them.

Standard library only: ``build_backend.py`` fetches them into the package before any dependency is installed,
so a wheel carries them as package data and serves GraphiQL offline from wherever it is installed. In a
source checkout ``make graphiql-assets`` (``python -m api.http.graphiql_files``) puts them in the same place.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

# Beside this module, so an installed package finds them whatever the working directory.
PACKAGED = Path(__file__).resolve().with_name("graphiql_assets")


@dataclass(frozen=True, slots=True)
class Asset:
    """One file of an npm package that strawberry's GraphiQL page loads, with the page's integrity hash."""

    package: str
    version: str
    path: str
    integrity: str

    @property
    def key(self) -> str:
        """Where the file lives, both under the asset directory and under the URL prefix that serves it."""
        return f"{self.package}@{self.version}/{self.path}"

    @property
    def spec(self) -> str:
        return f"{self.package}@{self.version}"


# Must match the URLs and integrity attributes of strawberry's page: api.http.graphiql checks the URLs when it
# builds the page, and a test compares the hashes.
ASSETS = (
    Asset(
        "react",
        "18.2.0",
        "umd/react.production.min.js",
        "sha384-tMH8h3BGESGckSAVGZ82T9n90ztNXxvdwvdM6UoR56cYcf+0iGXBliJ29D+wZ/x8",
    ),
    Asset(
        "react-dom",
        "18.2.0",
        "umd/react-dom.production.min.js",
        "sha384-bm7MnzvK++ykSwVJ2tynSE5TRdN+xL418osEVF2DE/L/gfWHj91J2Sphe582B1Bh",
    ),
    Asset(
        "js-cookie",
        "3.0.5",
        "dist/js.cookie.min.js",
        "sha384-/vxhYfM1LENRhdpZ8dwEsQn/X4VhpbEZSiU4m/FwR+PVpzar4fkEOw8FP9Y+OfQN",
    ),
    Asset(
        "graphiql",
        "3.8.3",
        "graphiql.min.css",
        "sha384-Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM",
    ),
    Asset(
        "graphiql",
        "3.8.3",
        "graphiql.min.js",
        "sha384-HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie",
    ),
    Asset(
        "@graphiql/plugin-explorer",
        "1.0.2",
        "dist/style.css",
        "sha384-5DFJlDPW2tSATRbM8kzoP1j194jexLswuNmClWoRr2Q0x7R68JIQzPHZ02Faktwi",
    ),
    Asset(
        "@graphiql/plugin-explorer",
        "1.0.2",
        "dist/index.umd.js",
        "sha384-2oonKe47vfHIZnmB6ZZ10vl7T0Y+qrHQF2cmNTaFDuPshpKqpUMGMc9jgj9MLDZ9",
    ),
)


class FetchFailed(RuntimeError):
    """A file could not be fetched from npm, or is not the one the page expects."""


def sha384(data: bytes) -> str:
    """The ``integrity`` attribute of a file with these bytes."""
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def missing_assets(asset_dir: Path) -> list[str]:
    """The asset files (as ``package@version/path``) not present under ``asset_dir``."""
    return [asset.key for asset in ASSETS if not (asset_dir / asset.key).is_file()]


def _intact(asset_dir: Path, asset: Asset) -> bool:
    file = asset_dir / asset.key
    return file.is_file() and sha384(file.read_bytes()) == asset.integrity


def fetch(asset_dir: Path = PACKAGED, *, npm: str = "npm", say: bool = True) -> list[str]:
    """Fetches every asset absent from ``asset_dir`` (or not matching its hash) with ``npm pack``; their keys.

    Each file is checked against the page's integrity hash, and written whole or not at all.
    """
    stale = [asset for asset in ASSETS if not _intact(asset_dir, asset)]
    if not stale:
        return []
    if shutil.which(npm) is None:
        raise FetchFailed(f"{npm} not found: GraphiQL's files come from the npm registry")
    with tempfile.TemporaryDirectory(prefix="graphiql-assets-") as work:
        tarballs = {spec: _pack(spec, Path(work), npm) for spec in dict.fromkeys(a.spec for a in stale)}
        for asset in stale:
            with tarfile.open(tarballs[asset.spec]) as tarball:
                member = tarball.extractfile(f"package/{asset.path}")
                if member is None:
                    raise FetchFailed(f"{asset.spec} has no file {asset.path}")
                data = member.read()
            if (actual := sha384(data)) != asset.integrity:
                raise FetchFailed(f"{asset.key} has {actual}, the GraphiQL page expects {asset.integrity}")
            target = asset_dir / asset.key
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(target.name + ".partial")
            partial.write_bytes(data)
            partial.replace(target)
            if say:
                print(f"fetched {asset.key}", flush=True)
    return [asset.key for asset in stale]


def _pack(spec: str, work: Path, npm: str) -> Path:
    """The package's tarball, downloaded by ``npm pack`` into its own directory under ``work``."""
    into = work / spec.replace("/", "_")
    into.mkdir()
    command = [npm, "pack", spec, "--silent", "--no-fund", "--no-audit"]
    # npm and the spec are ours, never user input.
    done = subprocess.run(command, cwd=into, capture_output=True, text=True, check=False)  # noqa: S603
    found = list(into.glob("*.tgz"))
    if done.returncode != 0 or len(found) != 1:
        raise FetchFailed(f"npm pack {spec} failed ({done.returncode}): {done.stderr.strip()}")
    return found[0]


def main(argv: list[str]) -> int:
    """``python -m api.http.graphiql_files [DIRECTORY]``: fetch what is missing (default: the package's)."""
    target = Path(argv[0]) if argv else Path(os.environ.get("CUSTOMER360_GRAPHIQL_ASSETS_DIR") or PACKAGED)
    try:
        fetched = fetch(target)
    except FetchFailed as error:
        print(f"GraphiQL assets: {error}", file=sys.stderr)
        return 1
    if not fetched:
        print(f"GraphiQL assets in {target} are up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
