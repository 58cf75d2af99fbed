"""The trained scorer of (message, candidate) pairs and its loader.

A small feed-forward network over the features of `conversation_features`, trained by
`scripts/train_conversation_model.py`; its weights and idf table ship in `conversation_model.json`
beside this module.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from outropy_pipelines.domain.conversation_features import _N_OWN, _N_PAIR, FEATURE_NAMES, ChunkFeatures

DEFAULT_MODEL_PATH = Path(__file__).with_name("conversation_model.json")


class _Model:
    def __init__(self, data: dict):
        self.window = int(data["window"])
        self.features = list(data["features"])
        if self.features != FEATURE_NAMES:
            raise ValueError("conversation model was trained with a different feature set")
        self.idf: dict[str, float] = {k: float(v) for k, v in data["idf"].items()}
        self.idf_default = float(data["idf_default"])
        self.idf_min = float(data["idf_min"])
        self.activation = data.get("activation", "tanh")
        if self.activation not in ("tanh", "relu"):
            raise ValueError(f"unknown activation {self.activation!r}")
        mean = np.asarray(data["mean"], dtype=np.float64)
        std = np.asarray(data["std"], dtype=np.float64)
        layers = data["layers"]
        self.layers: list[tuple[np.ndarray, np.ndarray]] = []
        for k, layer in enumerate(layers):
            w = np.asarray(layer["W"], dtype=np.float64)
            b = np.asarray(layer["b"], dtype=np.float64)
            if k == 0:  # fold the standardisation into the first layer
                w = w / std[:, None]
                b = b - mean @ w
            self.layers.append((w.astype(np.float32), b.astype(np.float32)))
        # the first layer's rows by feature block (see ChunkFeatures): pair, own, self, candidate
        self.first_blocks = np.split(self.layers[0][0], np.cumsum([_N_PAIR, _N_OWN, _N_OWN]))

    def score(self, f: ChunkFeatures) -> np.ndarray:
        """Scores (R, C) of a chunk's pairs: the network applied to f.dense(), up to float32 rounding.

        The first layer's product is taken block by block, so that the blocks that depend on the
        message or on the candidate alone are multiplied once per message instead of once per pair.
        """
        w_pair, w_own, w_self, w_cand = self.first_blocks
        n_pair, rows, cols = f.pair.shape
        h = (f.pair.reshape(n_pair, rows * cols).T @ w_pair).reshape(rows, cols, -1)
        h += (f.own @ w_own + self.layers[0][1])[:, None, :]
        h[:, 0] += f.own @ w_self
        h[:, 1:] += f.by_candidate(f.cand @ w_cand)[:, 1:]
        for w, b in self.layers[1:]:
            if self.activation == "tanh":
                np.tanh(h, out=h)
            else:
                np.maximum(h, 0.0, out=h)
            h = h @ w
            h += b
        return h[:, :, 0]


_model_cache: dict[Path, _Model] = {}


def load_model(path: Path | None = None) -> _Model:
    path = Path(path or DEFAULT_MODEL_PATH).resolve()
    model = _model_cache.get(path)
    if model is None:
        model = _Model(json.loads(path.read_text(encoding="utf-8")))
        _model_cache[path] = model
    return model
