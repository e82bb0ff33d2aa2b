"""Exception and warning classes of radiomics_aln.

Every error about the user's data subclasses :class:`InputError` (itself a ``ValueError``), so
``except ValueError`` keeps working, and every message names the case, file or column at fault.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "InputError",
    "GeometryError",
    "SpacingError",
    "IntensityError",
    "ManifestError",
    "ReaderTableError",
    "ExtractionError",
    "ConvergenceError",
    "SeparationError",
    "LevelError",
    "SingleLevelError",
    "UnseenLevelError",
    "EliminationError",
    "StatisticalWarning",
    "ConvergenceWarning",
    "CoverageWarning",
    "SmallSampleWarning",
    "DataWarning",
    "MaskComponentsWarning",
    "DuplicateImageWarning",
]


def _restore(cls: type, args: tuple, state: dict) -> BaseException:
    exc = cls.__new__(cls)
    BaseException.__init__(exc, *args)
    exc.__dict__.update(state)
    return exc


class _CarriesData:
    """Pickles an exception with its data attributes (joblib workers send exceptions back),
    although its ``__init__`` takes them as keyword arguments."""

    def __reduce__(self) -> tuple:
        return (_restore, (type(self), self.args, self.__dict__))  # type: ignore[attr-defined]


class InputError(ValueError):
    """Bad input data: the message names the case, file or column and what is wrong."""


class GeometryError(InputError):
    """An image and a mask do not share a grid (size, spacing, origin or direction)."""


class SpacingError(InputError):
    """A physical (mm) operation was asked for on an image without known pixel spacing."""


class IntensityError(InputError):
    """An image's grey levels do not suit the extraction settings (too few or too many bins)."""


class ManifestError(_CarriesData, InputError):
    """A cohort manifest has one or more problems; ``problems`` lists every one of them."""

    def __init__(self, problems: list[str], path: object = None) -> None:
        self.problems = list(problems)
        self.path = path
        where = f" {path}" if path is not None else ""
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"manifest{where} has {len(self.problems)} problem(s):\n{lines}")


class ReaderTableError(_CarriesData, InputError):
    """A reader-study table has one or more problems; ``problems`` lists every one of them."""

    def __init__(self, problems: list[str], path: object = None) -> None:
        self.problems = list(problems)
        self.path = path
        where = f" {path}" if path is not None else ""
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"reader table{where} has {len(self.problems)} problem(s):\n{lines}")


class ExtractionError(RuntimeError):
    """Feature extraction failed for a case/ROI (raised with ``errors="raise"``)."""


class ConvergenceError(ValueError):
    """A model fit did not converge; the message names the predictors involved."""


class SeparationError(_CarriesData, ConvergenceError):
    """(Quasi-)complete separation in a logistic model.

    ``columns`` lists the model columns with infinite maximum-likelihood estimates (e.g.
    ``marker[pos]``), ``predictors`` the predictors they belong to (``marker``); both are empty
    when only a combination of the predictors separates the outcome.
    """

    def __init__(
        self, message: str, *, columns: Sequence[str] = (), predictors: Sequence[str] | None = None
    ) -> None:
        super().__init__(message)
        self.columns = list(columns)
        self.predictors = list(columns if predictors is None else predictors)


class LevelError(_CarriesData, InputError):
    """A categorical predictor's levels do not allow the model: ``predictor`` names it,
    ``levels`` lists the levels at fault (e.g. a reference level that is absent)."""

    def __init__(self, message: str, *, predictor: str, levels: Sequence[object] = ()) -> None:
        super().__init__(message)
        self.predictor = predictor
        self.levels = list(levels)


class SingleLevelError(LevelError):
    """A predictor takes a single value (``levels``) in the data: it cannot be estimated."""


class UnseenLevelError(LevelError):
    """Data to predict hold levels of ``predictor`` (``levels``) that the fit did not see."""


class EliminationError(_CarriesData, InputError):
    """Backward elimination removed every predictor; ``candidates`` lists those offered and
    ``criterion`` is the removal rule ("p" or "aic")."""

    def __init__(self, message: str, *, candidates: Sequence[str], criterion: str) -> None:
        super().__init__(message)
        self.candidates = list(candidates)
        self.criterion = criterion


class StatisticalWarning(UserWarning):
    """A result is computed but should be interpreted with care (small samples, ties, ...)."""


class ConvergenceWarning(UserWarning):
    """An iterative fit stopped at its iteration limit before reaching its tolerance."""


class CoverageWarning(UserWarning):
    """A peritumoral ring is clipped (image edge, field of view) below the coverage threshold."""


class SmallSampleWarning(StatisticalWarning):
    """Too few cases or events for the requested analysis (e.g. < 10 events per variable)."""


class DataWarning(UserWarning):
    """Something in the input data needs a look (the results are computed, or cases excluded)."""


class MaskComponentsWarning(DataWarning):
    """Masks with several connected components were unioned (``mask_combine="union"``)."""


class DuplicateImageWarning(DataWarning):
    """The same image (identical bytes) appears under two or more case ids."""
