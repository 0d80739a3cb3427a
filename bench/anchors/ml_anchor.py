#!/usr/bin/python3
"""Anchor for the `ml` benchmark: scikit-learn RandomForestClassifier / IsolationForest and xgboost `hist`,
single thread (n_jobs=1 / nthread=1), on the very CSVs the TypeScript side trains on, with the same
train/test split (the `test` column). Times are process CPU seconds of fit (and predict_proba / score_samples)
only, not the CSV load (the machine is shared, so wall time would measure the neighbours). Prints one JSON object.

usage: ml_anchor.py SYNTH_CSV IOT23_CSV RF_TREES [SMALL_REPEATS]
  SYNTH_CSV: y, test, f0..f39 (3 classes). Isolation forest: every 100th row (i % 100 == 0) scaled by 4 is
             an outlier, the rest inliers (same transform as bench/ml.ts).
  IOT23_CSV: y_bin, y_multi, test, features…
  SMALL_REPEATS: fits per learner on the small IoT-23 set; fit_s is their median, first_fit_s the first
             (default 1). The TypeScript side does the same.
"""
import json
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import xgboost as xgb  # noqa: E402
from sklearn.ensemble import IsolationForest, RandomForestClassifier  # noqa: E402
from sklearn.metrics import accuracy_score, roc_auc_score  # noqa: E402

SEED = 1


def timed(f):
    """CPU seconds of the process (all threads; single-threaded here), robust on a shared machine."""
    t0 = time.process_time()
    v = f()
    return time.process_time() - t0, v


def timed_median(f, repeats):
    """timed() over `repeats` runs: (median seconds, first run's seconds, last run's value)."""
    times = []
    v = None
    for _ in range(repeats):
        t, v = timed(f)
        times.append(t)
    return sorted(times)[(repeats - 1) // 2], times[0], v


def rf(X, y, test, trees, predict_all=False, repeats=1):
    tr, te = ~test, test
    m = RandomForestClassifier(n_estimators=trees, max_features="sqrt", n_jobs=1, random_state=SEED)
    fit_s, first_s, _ = timed_median(lambda: m.fit(X[tr], y[tr]), repeats)
    out = {"fit_s": fit_s, "first_fit_s": first_s, "accuracy": float(accuracy_score(y[te], m.predict(X[te])))}
    if predict_all:
        pred_s, _ = timed(lambda: m.predict_proba(X))
        out["predict_rows_per_s"] = len(X) / pred_s
    return out


def iforest(X, outlier, repeats=1):
    m = IsolationForest(n_estimators=100, max_samples="auto", contamination="auto", n_jobs=1, random_state=SEED)
    fit_s, first_s, _ = timed_median(lambda: m.fit(X), repeats)
    score_s, s = timed(lambda: m.score_samples(X))
    return {
        "fit_s": fit_s,
        "first_fit_s": first_s,
        "score_rows_per_s": len(X) / score_s,
        "auc": float(roc_auc_score(outlier, -s)),
    }


def gbt(X, y, test, repeats=1):
    tr, te = ~test, test
    classes = np.unique(y[tr])
    code = {c: i for i, c in enumerate(classes)}
    ytr = np.array([code[v] for v in y[tr]])
    m = xgb.XGBClassifier(
        n_estimators=100,
        max_depth=6,
        learning_rate=0.3,
        tree_method="hist",
        max_bin=256,
        reg_lambda=1.0,
        min_child_weight=1.0,
        n_jobs=1,
        random_state=SEED,
    )
    fit_s, first_s, _ = timed_median(lambda: m.fit(X[tr], ytr), repeats)
    pred = classes[m.predict(X[te]).astype(int)]
    return {"fit_s": fit_s, "first_fit_s": first_s, "accuracy": float(accuracy_score(y[te], pred))}


def main(synth_path: str, iot_path: str, trees: int, small_repeats: int) -> None:
    S = np.loadtxt(synth_path, delimiter=",", skiprows=1)
    y, test, X = S[:, 0].astype(int), S[:, 1] == 1, np.ascontiguousarray(S[:, 2:])
    Xo = X.copy()
    Xo[::100] *= 4
    outlier = (np.arange(len(X)) % 100 == 0).astype(int)

    D = np.loadtxt(iot_path, delimiter=",", skiprows=1)
    yb, ym, itest, Xi = D[:, 0].astype(int), D[:, 1].astype(int), D[:, 2] == 1, np.ascontiguousarray(D[:, 3:])

    out = {
        "versions": {"sklearn": __import__("sklearn").__version__, "xgboost": xgb.__version__},
        "synthetic": {
            "rows": int(X.shape[0]),
            "features": int(X.shape[1]),
            "rf": rf(X, y, test, trees, predict_all=True),
            "iforest": iforest(Xo, outlier),
            "gbt": gbt(X, y, test),
        },
        "iot23": {
            "rows": int(Xi.shape[0]),
            "features": int(Xi.shape[1]),
            "rf": rf(Xi, yb, itest, 100, repeats=small_repeats),
            "rf_multi": rf(Xi, ym, itest, 100),
            "iforest": iforest(Xi, yb, repeats=small_repeats),
            "gbt": gbt(Xi, yb, itest, repeats=small_repeats),
        },
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]) if len(sys.argv) > 4 else 1)
