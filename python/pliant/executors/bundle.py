"""A scene packed for another machine: its text, its overrides and the bytes of
every file it reads (meshes, targets), as listed by the engine
(``_pliant.scene_assets``, engine/optim/scene_assets.hpp) -- nothing is guessed
from the scene's directory.

On the worker, :meth:`SceneBundle.materialize` writes the files into a private
directory and parses the same text with the same overrides, plus one override
per file that points its scene key at the local copy
(``objective.shape.file="/tmp/.../target.npy"``).  The file names change; the
scene's numbers do not, so the evaluation is the same as on the driver.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from typing import Dict, List, Tuple

from .. import _pliant
from ..scene import Scene


@dataclass(frozen=True)
class ShippedFile:
    key_path: str     # the scene key that names the file (a companion shares its main file's key)
    name: str         # base name of the resolved file on the driver
    data: bytes
    companion: bool   # a TetGen .ele/.node read next to the main file


@dataclass(frozen=True)
class SceneBundle:
    text: str
    display_name: str
    overrides: Tuple[str, ...]
    files: Tuple[ShippedFile, ...]
    digest: str       # SHA-256 of all of the above: the worker's cache key

    @classmethod
    def from_scene(cls, scene: Scene) -> "SceneBundle":
        if scene._source[0] == "file":
            path = scene._source[1]
            with open(path, "r", encoding="utf-8") as f:
                text = f.read()
            display_name = path
        else:
            _, text, display_name, _ = scene._source
        files: List[ShippedFile] = []
        for a in _pliant.scene_assets(scene._desc):
            try:
                with open(a["resolved"], "rb") as f:
                    data = f.read()
            except OSError as exc:
                raise _pliant.InputError(f"{display_name}: {a['key_path']}: cannot read '{a['resolved']}' to ship it "
                                         f"to the workers ({exc.strerror})") from None
            files.append(ShippedFile(a["key_path"], os.path.basename(a["resolved"]), data, bool(a["companion"])))
        h = hashlib.sha256()
        for part in (text, display_name, json.dumps(list(scene._overrides))):
            h.update(part.encode("utf-8"))
            h.update(b"\0")
        for f in files:
            h.update(f"{f.key_path}\0{f.name}\0{int(f.companion)}\0{len(f.data)}\0".encode("utf-8"))
            h.update(f.data)
        return cls(text, display_name, tuple(scene._overrides), tuple(files), h.hexdigest())

    def materialize(self, root: str) -> Scene:
        """Writes the files under root/<digest>/ (each scene key its own
        folder, so equal base names do not collide) and parses the scene there."""
        base = os.path.join(root, self.digest[:32])
        folders: Dict[str, str] = {}
        relocate: List[str] = []
        for f in self.files:
            folder = folders.setdefault(f.key_path, os.path.join(base, f"f{len(folders)}"))
            os.makedirs(folder, exist_ok=True)
            target = os.path.join(folder, f.name)
            if not os.path.exists(target):  # another task of this process may have written it already
                fd, tmp = tempfile.mkstemp(dir=folder, prefix=".part.")
                with os.fdopen(fd, "wb") as out:
                    out.write(f.data)
                os.replace(tmp, target)
            if not f.companion:
                relocate.append(f"{f.key_path}={json.dumps(target)}")
        os.makedirs(base, exist_ok=True)
        return Scene.from_string(self.text, self.display_name, base_dir=base,
                                 overrides=list(self.overrides) + relocate)
