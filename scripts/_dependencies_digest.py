"""Print a digest of the dependencies pyproject.toml declares (requires-python, dependencies,
optional-dependencies): scripts/lock writes it into requirements/*.txt, and scripts/_venv.sh and
tests/test_lock.py compare it, so a dependency added without re-locking is caught at once."""

import hashlib
import json
import sys
import tomllib
from pathlib import Path

root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1]
project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
declared = [
    project.get("requires-python"),
    project.get("dependencies", []),
    project.get("optional-dependencies", {}),
]
print(hashlib.sha256(json.dumps(declared, sort_keys=True).encode("utf-8")).hexdigest()[:20])
