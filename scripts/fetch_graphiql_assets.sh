#!/usr/bin/env bash
# Fetches the files strawberry's GraphiQL page loads from the npm registry into a directory laid out as
# <package>@<version>/<path>, checking each against the page's sha384 integrity attribute.
# Usage: scripts/fetch_graphiql_assets.sh [TARGET_DIR]   (default .customer360/graphiql-assets)
# The list of files and their hashes comes from api/http/graphiql.py, so PYTHON must have the project installed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${1:-.customer360/graphiql-assets}"
if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x "$root/.venv/bin/python" ]]; then PYTHON="$root/.venv/bin/python"; else PYTHON=python3; fi
fi

manifest="$(cd "$root" && "$PYTHON" -m api.http.graphiql manifest)" || {
    echo "fetch_graphiql_assets: '$PYTHON -m api.http.graphiql manifest' failed; install the project first" >&2
    exit 1
}

sha384() {
    "$PYTHON" -c 'import base64, hashlib, sys
print("sha384-" + base64.b64encode(hashlib.sha384(open(sys.argv[1], "rb").read()).digest()).decode())' "$1"
}

# Packages with at least one file absent or not matching its hash, as "package@version" lines.
stale=""
while IFS=$'\t' read -r package version path integrity; do
    file="$target/$package@$version/$path"
    if [[ ! -f "$file" || "$(sha384 "$file")" != "$integrity" ]]; then
        stale+="$package@$version"$'\n'
    fi
done <<<"$manifest"
if [[ -z "$stale" ]]; then
    echo "GraphiQL assets in $target are up to date"
    exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
while read -r spec; do
    [[ -n "$spec" ]] || continue
    dir="$work/${spec//\//_}"
    mkdir -p "$dir"
    echo "npm pack $spec" >&2
    (cd "$dir" && npm pack "$spec" --silent --no-fund --no-audit >/dev/null)
    tar -xzf "$dir"/*.tgz -C "$dir"
done < <(sort -u <<<"$stale")

while IFS=$'\t' read -r package version path integrity; do
    spec="$package@$version"
    source="$work/${spec//\//_}/package/$path"
    file="$target/$spec/$path"
    if [[ -f "$file" && "$(sha384 "$file")" == "$integrity" ]]; then
        continue
    fi
    if [[ ! -f "$source" ]]; then
        echo "fetch_graphiql_assets: $spec has no file $path" >&2
        exit 1
    fi
    actual="$(sha384 "$source")"
    if [[ "$actual" != "$integrity" ]]; then
        echo "fetch_graphiql_assets: $spec/$path has $actual, strawberry's page expects $integrity" >&2
        exit 1
    fi
    mkdir -p "$(dirname "$file")"
    # Copy then rename, so an interrupted run never leaves a truncated file behind.
    cp "$source" "$file.tmp"
    mv "$file.tmp" "$file"
    echo "fetched $spec/$path"
done <<<"$manifest"
