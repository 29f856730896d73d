"""One request through a LightGBM booster, by the library's single-row C entry points.

``Booster.predict`` is made for matrices: per call it checks and converts its input, sets up a
predictor and parses its parameters again, which on one row of a 150-tree model costs ten times
the trees themselves (0.4 ms of a 0.5 ms score). LightGBM's C API has a path for exactly one
row — ``LGBM_BoosterPredictForMatSingleRowFastInit`` prepares the predictor and its parameters
once, ``…SingleRowFast`` then runs the trees on one row of doubles — and this module holds one
such prepared predictor per booster and output (raw score; SHAP contributions). It computes
exactly what ``Booster.predict(row, raw_score=True)`` and ``(row, pred_contrib=True)`` compute:
the same trees walked by the same code (``tests/risk/test_model_predict.py`` holds them equal).

The handles are freed with the predictor. A booster is read-only once trained, so one prepared
predictor may serve every thread (LightGBM locks around it).
"""

from __future__ import annotations

import ctypes
import weakref
from typing import Any

import lightgbm as lgb
import numpy as np
from lightgbm.basic import _safe_call
from lightgbm.libpath import _LIB

# LightGBM's c_api.h constants (C_API_PREDICT_*, C_API_DTYPE_FLOAT64).
_PREDICT_RAW_SCORE = 1
_PREDICT_CONTRIB = 3
_FLOAT64 = 1
_PARAMETERS = b"num_threads=1"


def _prepared(booster: lgb.Booster, predict_type: int, columns: int) -> ctypes.c_void_p:
    handle = ctypes.c_void_p()
    _safe_call(
        _LIB.LGBM_BoosterPredictForMatSingleRowFastInit(
            booster._handle,
            ctypes.c_int(predict_type),
            ctypes.c_int(0),  # from the first iteration
            ctypes.c_int(-1),  # to the last (the booster's best, when it has one)
            ctypes.c_int(_FLOAT64),
            ctypes.c_int32(columns),
            ctypes.c_char_p(_PARAMETERS),
            ctypes.byref(handle),
        )
    )
    return handle


def _free(handles: list[ctypes.c_void_p]) -> None:
    for handle in handles:
        _LIB.LGBM_FastConfigFree(handle)


class SingleRowPredictor:
    """A booster's raw score and SHAP contributions for one row at a time."""

    def __init__(self, booster: lgb.Booster, columns: int) -> None:
        self.booster = booster  # the prepared handles point into it: keep it alive
        self.columns = columns
        self._raw = _prepared(booster, _PREDICT_RAW_SCORE, columns)
        self._handles = [self._raw]
        self._contrib: ctypes.c_void_p | None = None
        self._out = np.zeros(1, dtype=np.float64)
        self._out_len = ctypes.c_int64()
        self._finalizer = weakref.finalize(self, _free, self._handles)

    def raw_score(self, row: np.ndarray[Any, np.dtype[np.float64]]) -> float:
        """The booster's raw score (the sum of its trees) of one row of ``columns`` doubles."""
        out = self._out
        _safe_call(
            _LIB.LGBM_BoosterPredictForMatSingleRowFast(
                self._raw,
                _pointer(row, self.columns),
                ctypes.byref(self._out_len),
                out.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
            )
        )
        return float(out[0])

    def contributions(
        self, row: np.ndarray[Any, np.dtype[np.float64]]
    ) -> np.ndarray[Any, np.dtype[np.float64]]:
        """Each column's SHAP contribution to the raw score, then the expected value (as
        ``Booster.predict(…, pred_contrib=True)[0]``)."""
        if self._contrib is None:  # asked only when a score becomes a reason: prepared then
            self._contrib = _prepared(self.booster, _PREDICT_CONTRIB, self.columns)
            self._handles.append(self._contrib)
        out = np.zeros(self.columns + 1, dtype=np.float64)
        _safe_call(
            _LIB.LGBM_BoosterPredictForMatSingleRowFast(
                self._contrib,
                _pointer(row, self.columns),
                ctypes.byref(self._out_len),
                out.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
            )
        )
        return out


def _pointer(row: np.ndarray[Any, np.dtype[np.float64]], columns: int) -> ctypes.c_void_p:
    if row.dtype != np.float64 or row.shape != (columns,) or not row.flags.c_contiguous:
        raise ValueError(f"a row is {columns} contiguous doubles, got {row.dtype} {row.shape}")
    return ctypes.c_void_p(row.ctypes.data)
