#!/usr/bin/env bash
# Solara (the SolaraViz page, `solara run simulations/app.py`) loads a few front-end packages from a CDN,
# which this course must not need at run time. This fills Solara's local asset cache in the virtual
# environment from the npm registry instead (a package registry, used once at install time).
# Usage: tools/install_solara_assets.sh .venv
set -euo pipefail
venv=${1:-.venv}
cache="$venv/share/solara/cdn"
vuetify="@widgetti/solara-vuetify3-app@5.2.0"
if [ -f "$cache/$vuetify/dist/solara-vuetify-app8.js" ] && [ -f "$cache/requirejs@2.3.6/require.js" ] \
   && [ -f "$cache/font-awesome@4.5.0/css/font-awesome.min.css" ]; then
  exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "npm is needed once to fetch Solara's front-end assets (Debian package 'npm')" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$vuetify" requirejs@2.3.6 font-awesome@4.5.0 >/dev/null)
mkdir -p "$cache/$vuetify/dist" "$cache/requirejs@2.3.6" "$cache/font-awesome@4.5.0"
for tarball in "$work"/*.tgz; do
  name=$(basename "$tarball" .tgz)
  mkdir -p "$work/$name" && tar -xzf "$tarball" -C "$work/$name"
done
cp -r "$work"/widgetti-solara-vuetify3-app-5.2.0/package/dist/. "$cache/$vuetify/dist/"
cp "$work"/requirejs-2.3.6/package/require.js "$cache/requirejs@2.3.6/"
cp -r "$work"/font-awesome-4.5.0/package/css "$work"/font-awesome-4.5.0/package/fonts "$cache/font-awesome@4.5.0/"
echo "Solara assets installed in $cache"
