# Loyalty Lab: the two commands of the README, and what they need.
#   make book   build the whole book, in every language, into _build/html (and say where to open it);
#               make book LANGUAGES=en (or it, pl, zh_CN, comma-separated) builds only those
#   make test   run every test: unit, property, stylized facts, notebooks, book build, browser
# Both create the virtual environment .venv from requirements.txt on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

LANGUAGES ?= en,it,pl,zh_CN

.PHONY: book test serve browser postgresql fonts clean

$(STAMP): requirements.txt pyproject.toml tools/install_solara_assets.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	# the course itself, editable; its dependencies are the pinned ones above, and pip check fails the set-up
	# when requirements.txt lacks one that pyproject.toml declares
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m pip check
	# compile the fast engine's kernels once (numba caches them beside the source), so that no run compiles
	$(BIN)/python -c "from simulations.kernel import warm_cache; warm_cache()"
	tools/install_solara_assets.sh $(VENV)
	tools/install_explorable_assets.sh
	touch $(STAMP)
$(STAMP): tools/install_explorable_assets.sh tools/explorables/package-lock.json  # the explorables' chart library (npm)

book: $(STAMP) fonts
	$(BIN)/python tools/book_site.py build --languages $(LANGUAGES)
	@echo
	@echo "The book is built. Open file://$(CURDIR)/_build/html/index.html"
	@echo "(Italiano: _build/html/it/, Polski: _build/html/pl/, 简体中文: _build/html/zh_CN/; a switcher on every page)"
	@echo "or serve it: $(BIN)/python -m http.server -d _build/html 8000  (then http://localhost:8000)"

serve: book
	$(BIN)/python -m http.server -d _build/html 8000

# Debian's Chromium for the browser tests (Playwright drives it; no browser is downloaded).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  elif command -v sudo >/dev/null 2>&1; then sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "Chromium is missing: install Debian's 'chromium' package to run the browser tests"; fi; }

# Debian's Noto CJK fonts, so that the Chinese book's figures have their glyphs (a missing glyph is a build warning).
fonts:
	@fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null; \
	  elif command -v sudo >/dev/null 2>&1; then sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null; \
	  else echo "The CJK fonts are missing: install Debian's 'fonts-noto-cjk' package to build the Chinese book"; fi; }

# Debian's PostgreSQL server binaries for the classroom's PostgreSQL test (it starts a throwaway cluster itself;
# the package's own cluster service is not needed). Found on PATH or in /usr/lib/postgresql/<version>/bin.
postgresql:
	@{ command -v pg_ctl || ls /usr/lib/postgresql/*/bin/pg_ctl; } >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	  elif command -v sudo >/dev/null 2>&1; then sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	  else echo "PostgreSQL is missing: install Debian's 'postgresql' package to run the PostgreSQL test"; fi; }

test: $(STAMP) browser postgresql fonts
	$(BIN)/python -m pytest -n 2 --dist loadgroup --durations=20

clean:
	rm -rf _build .jupyter_cache
	find book/locales -name "*.mo" -delete
