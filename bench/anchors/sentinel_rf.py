#!/usr/bin/python3
"""Anchor for the `devices` benchmark: a plain scikit-learn RandomForest on the IoT Sentinel fingerprint
(23 features x the first 12 distinct packets, -1 padded), evaluated like ours: StratifiedGroupKFold by
capture, out-of-fold accuracy. Input CSV: label, group, f0..fN. Prints one JSON object."""
import csv
import json
import sys

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, confusion_matrix
from sklearn.model_selection import StratifiedGroupKFold


def main(path: str, folds: int) -> None:
    with open(path, newline="") as f:
        rows = list(csv.reader(f))[1:]
    y = np.array([r[0] for r in rows])
    groups = np.array([r[1] for r in rows])
    X = np.array([[float(v) for v in r[2:]] for r in rows])
    pred = np.empty_like(y)
    cv = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=1)
    for train, test in cv.split(X, y, groups):
        rf = RandomForestClassifier(n_estimators=200, random_state=7, n_jobs=1)
        rf.fit(X[train], y[train])
        pred[test] = rf.predict(X[test])
    labels = sorted(set(y))
    cm = confusion_matrix(y, pred, labels=labels)
    confusions = sorted(
        ((int(cm[i, j]), f"{labels[i]} -> {labels[j]}") for i in range(len(labels)) for j in range(len(labels)) if i != j and cm[i, j]),
        reverse=True,
    )
    print(json.dumps({
        "accuracy": accuracy_score(y, pred),
        "folds": folds,
        "samples": len(y),
        "features": X.shape[1],
        "top_confusions": [f"{t}: {n}" for n, t in confusions[:12]],
    }))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 10)
