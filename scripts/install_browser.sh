#!/usr/bin/env bash
# Install what the browser tests (tests/browser) need, idempotently:
#   - Debian's chromium (apt), unless a Chromium is already installed;
#   - the Playwright Python client, pinned, into the project's venv (or the current
#     python). Playwright drives the system Chromium: no browser is downloaded.
#   usage: scripts/install_browser.sh [PYTHON]    (default: .venv/bin/python, else python3)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
PLAYWRIGHT_PIN="playwright==1.65.2"
python=${1:-}
if [ -z "$python" ]; then
  if [ -x "$root/.venv/bin/python" ]; then python="$root/.venv/bin/python"; else python=python3; fi
fi

if [ -n "${LRTHEORY_CHROMIUM:-}" ] && [ -x "$LRTHEORY_CHROMIUM" ]; then
  echo "chromium: using LRTHEORY_CHROMIUM=$LRTHEORY_CHROMIUM"
elif [ -x /usr/lib/chromium/chromium ] || command -v chromium >/dev/null 2>&1; then
  echo "chromium: already installed"
else
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "chromium is missing and this system has no apt-get: install Chromium, then set LRTHEORY_CHROMIUM" >&2
    exit 1
  fi
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "chromium: installing with apt-get"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi

if "$python" -c "import importlib.metadata as m, sys; sys.exit(m.version('playwright') != '${PLAYWRIGHT_PIN#playwright==}')" 2>/dev/null; then
  echo "playwright: $PLAYWRIGHT_PIN already installed"
else
  echo "playwright: installing $PLAYWRIGHT_PIN"
  "$python" -m pip install --quiet "$PLAYWRIGHT_PIN"
fi

# smoke check: start the browser headless and render a page
"$python" - <<'PY'
import sys
from pathlib import Path
sys.path.insert(0, str(Path("tests/browser").resolve()) if Path("tests/browser").is_dir() else ".")
from playwright.sync_api import sync_playwright
try:
    from sitecheck import CHROMIUM_ARGS, find_chromium
except ImportError:
    import shutil
    CHROMIUM_ARGS = ("--headless", "--no-sandbox", "--disable-gpu")
    find_chromium = lambda: shutil.which("chromium")
exe = find_chromium()
with sync_playwright() as p:
    browser = p.chromium.launch(executable_path=exe, headless=True, args=list(CHROMIUM_ARGS))
    page = browser.new_page()
    page.set_content("<p id='x'>ok</p>")
    assert page.inner_text("#x") == "ok"
    print(f"browser ok: {exe}, Chromium {browser.version}")
    browser.close()
PY
