# Shared by scripts/run and scripts/test: make .venv and install the project with the given extras,
# skipping the install when pyproject.toml has not changed since the last one.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
ensure_venv() {
  local extras="$1"
  local python="${PYTHON:-}"
  if [ -z "$python" ]; then
    for candidate in python3.13 python3.12 python3.11 python3; do
      if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        python="$candidate"; break
      fi
    done
  fi
  [ -n "$python" ] || { echo "sscmatch needs Python 3.11 or newer on PATH (or PYTHON=...)" >&2; exit 1; }
  if [ ! -x .venv/bin/python ]; then
    echo "Creating the virtual environment in .venv with $python"
    "$python" -m venv .venv
  fi
  local stamp=".venv/.installed-${extras}"
  local want
  want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "Installing sscmatch[${extras}] into .venv"
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e ".[${extras}]"
    echo "$want" > "$stamp"
  fi
}
