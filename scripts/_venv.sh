# Shared by scripts/run and scripts/test: make .venv and install the locked dependencies
# (requirements/<set>.txt, with hashes, made by scripts/lock), then the project itself. The
# install is skipped while pyproject.toml and the lock file are what they were at the last one.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
ensure_venv() {
  local set="$1"  # run | dev
  local lock="requirements/${set}.txt"
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
  local declared locked
  declared="$(.venv/bin/python scripts/_dependencies_digest.py)"
  locked="$(sed -n 's/^# pyproject-dependencies: //p' "$lock" 2>/dev/null || true)"
  if [ "$declared" != "$locked" ]; then
    echo "The dependencies in pyproject.toml changed since $lock was made." >&2
    echo "Run scripts/lock and commit requirements/ with the change (README, Development)." >&2
    exit 1
  fi
  local stamp=".venv/.installed-${set}"
  local want
  want="$(cat pyproject.toml "$lock" | sha256sum | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "Installing the locked dependencies ($lock) and sscmatch into .venv"
    .venv/bin/python -m pip install --quiet --require-hashes -r "$lock"
    .venv/bin/python -m pip install --quiet --no-deps -e .
    echo "$want" > "$stamp"
  fi
}
