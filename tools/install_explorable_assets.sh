#!/usr/bin/env bash
# The chapter explorables are drawn in the page by vega-embed (npm packages vega, vega-lite, vega-embed), which the
# book serves itself from its _static folder (book/_ext/loyalty_lab_explorables.py copies the three built files there).
# This installs exactly the versions in tools/explorables/package-lock.json from the npm registry, once, at set-up:
# never a CDN at build, test or reading time.
# Usage: tools/install_explorable_assets.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)/explorables"
built=(vega/build/vega.min.js vega-lite/build/vega-lite.min.js vega-embed/build/vega-embed.min.js)
missing=0
for file in "${built[@]}"; do [ -f "$here/node_modules/$file" ] || missing=1; done
[ "$missing" = 0 ] && exit 0
command -v npm >/dev/null 2>&1 || { echo "npm is needed once to install the explorables' chart library (Debian package 'npm')" >&2; exit 1; }
# --ignore-scripts: the packages are only copied into the book, nothing of theirs runs here.
(cd "$here" && npm ci --silent --no-audit --no-fund --ignore-scripts --engine-strict=false)
for file in "${built[@]}"; do
  [ -f "$here/node_modules/$file" ] || { echo "npm installed the packages but $file is missing" >&2; exit 1; }
done
echo "Explorable chart library installed in $here/node_modules"
