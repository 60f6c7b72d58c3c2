#!/usr/bin/env bash
# Lints openapi.yaml with Redocly CLI (the version pinned in package-lock.json), as CI does.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
command -v npm >/dev/null || { echo "api-spec lint: npm is required (apt-get install nodejs npm)" >&2; exit 1; }
cd "$here/lint"
# npm ci is quick when node_modules is already there and matches the lock file.
[ -d node_modules/@redocly/cli ] || npm ci --no-audit --no-fund --loglevel=error
exec npx --no-install redocly lint --config "$here/lint/redocly.yaml" "$here/openapi.yaml"
