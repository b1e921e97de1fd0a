#!/usr/bin/env bash
# `./dev pack`: builds every package and writes the tarballs npm would publish to .tmp/pack/, then
# prints the npm install line that puts them in an app of one's own (until the first release on
# the npm registry). pnpm pack rewrites `workspace:^` ranges to the packages' versions, and npm
# satisfies each package's dependency on another from the tarballs named on the same line.
set -euo pipefail
out="$PWD/.tmp/pack"
pnpm build
rm -rf "$out"
mkdir -p "$out"
for dir in packages/*/; do
  private=$(node -p 'require(process.argv[1]).private === true' "$PWD/$dir/package.json")
  [ "$private" = true ] && continue
  (cd "$dir" && pnpm pack --pack-destination "$out" >/dev/null)
done
# dns and core first: the order the packages depend on each other, easier to read.
tarballs=$(ls "$out"/privatelink-dns-*.tgz)$'\n'$(ls "$out"/privatelink-core-*.tgz)
tarballs+=$'\n'$(ls "$out"/*.tgz | grep -v -e '/privatelink-dns-' -e '/privatelink-core-')
# The drivers, with the packages' own peer ranges: a bare `undici` would pick a major that a range
# leaves out, and npm then loops on ERESOLVE warnings instead of installing.
peers=$(node -e '
const fs = require("fs"), ranges = new Map();
for (const dir of fs.readdirSync("packages")) {
  const m = JSON.parse(fs.readFileSync(`packages/${dir}/package.json`, "utf8"));
  if (m.private) continue;
  for (const [name, range] of Object.entries(m.peerDependencies ?? {}))
    if (!m.peerDependenciesMeta?.[name]?.optional) ranges.set(name, range);
}
console.log([...ranges].map(([n, r]) => `'"'"'${n}@${r}'"'"'`).join(" "));
')
echo
echo "Tarballs in $out:"
echo "$tarballs" | sed 's|^|  |'
echo
echo "In your app's folder, install all of them with the drivers they plug into (peers):"
echo
echo "  npm install $(echo "$tarballs" | tr '\n' ' ')$peers"
echo
echo "Any subset works too, as long as @privatelink/dns and @privatelink/core come along (every"
echo "package depends on them); the CLI's tarball (privatelink-*.tgz) brings the privatelink command."
