"""A light learned head (bench only): softmax regression over the embeddings of the KB's
own question variants, one class per article, trained on the KB and nothing else.

It shows how much a classifier over the same embeddings adds to retrieval when every
article has many variants; it is not in the product (a customer KB rarely has enough
variants per article to train one).  Confidence = the head's top probability.
"""

from __future__ import annotations

import numpy as np

SCALE = 16.0  # logits = SCALE * (x @ W + b): unit vectors need a temperature
EPOCHS = 150
LEARNING_RATE = 2.0
MOMENTUM = 0.9
L2 = 1e-4


class SoftmaxHead:
    def __init__(self, classes: list[str], weights: np.ndarray, bias: np.ndarray) -> None:
        self.classes = classes
        self.weights = weights
        self.bias = bias

    @classmethod
    def fit(cls, vectors: np.ndarray, labels: list[str], epochs: int = EPOCHS) -> SoftmaxHead:
        """Full-batch Nesterov gradient descent on the cross-entropy (plain numpy)."""
        classes = sorted(set(labels))
        index = {c: i for i, c in enumerate(classes)}
        y = np.asarray([index[label] for label in labels])
        x = np.asarray(vectors, dtype=np.float64)
        onehot = np.eye(len(classes))[y]
        w = np.zeros((x.shape[1], len(classes)))
        b = np.zeros(len(classes))
        vw, vb = np.zeros_like(w), np.zeros_like(b)
        for _ in range(epochs):
            lw, lb = w + MOMENTUM * vw, b + MOMENTUM * vb
            grad = (_softmax(SCALE * (x @ lw + lb)) - onehot) / len(x)
            vw = MOMENTUM * vw - LEARNING_RATE * (SCALE * x.T @ grad + L2 * lw)
            vb = MOMENTUM * vb - LEARNING_RATE * SCALE * grad.sum(axis=0)
            w, b = w + vw, b + vb
        return cls(classes, w, b)

    def predict(self, vectors: np.ndarray) -> tuple[list[tuple[str, ...]], np.ndarray]:
        """(top-5 classes per row, top probability per row)."""
        probs = _softmax(SCALE * (np.asarray(vectors, dtype=np.float64) @ self.weights + self.bias))
        order = np.argsort(-probs, axis=1)[:, :5]
        rankings = [tuple(self.classes[i] for i in row) for row in order.tolist()]
        return rankings, probs.max(axis=1)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)
