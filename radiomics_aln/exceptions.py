"""Exception and warning classes of radiomics_aln.

Every error about the user's data subclasses :class:`InputError` (itself a ``ValueError``), so
``except ValueError`` keeps working, and every message names the case, file or column at fault.
"""

from __future__ import annotations

__all__ = [
    "InputError",
    "GeometryError",
    "SpacingError",
    "IntensityError",
    "ManifestError",
    "ExtractionError",
    "ConvergenceError",
    "SeparationError",
    "StatisticalWarning",
    "ConvergenceWarning",
    "CoverageWarning",
    "SmallSampleWarning",
    "DataWarning",
    "MaskComponentsWarning",
    "DuplicateImageWarning",
]


class InputError(ValueError):
    """Bad input data: the message names the case, file or column and what is wrong."""


class GeometryError(InputError):
    """An image and a mask do not share a grid (size, spacing, origin or direction)."""


class SpacingError(InputError):
    """A physical (mm) operation was asked for on an image without known pixel spacing."""


class IntensityError(InputError):
    """An image's grey levels do not suit the extraction settings (too few or too many bins)."""


class ManifestError(InputError):
    """A cohort manifest has one or more problems; ``problems`` lists every one of them."""

    def __init__(self, problems: list[str], path: object = None) -> None:
        self.problems = list(problems)
        self.path = path
        where = f" {path}" if path is not None else ""
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"manifest{where} has {len(self.problems)} problem(s):\n{lines}")


class ExtractionError(RuntimeError):
    """Feature extraction failed for a case/ROI (raised with ``errors="raise"``)."""


class ConvergenceError(ValueError):
    """A model fit did not converge; the message names the predictors involved."""


class SeparationError(ConvergenceError):
    """(Quasi-)complete separation in a logistic model; the message names the predictor(s)."""


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
