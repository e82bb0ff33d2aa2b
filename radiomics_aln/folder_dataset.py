"""Manifests from folders of images: ``<class>/<name>.png`` with ``<name>_mask.png`` beside it.

Many public ultrasound datasets ship no manifest: a folder per class, each image next to its
mask file(s), e.g. BUSI (``benign/benign (1).png``, ``benign/benign (1)_mask.png``,
``benign/benign (1)_mask_1.png``). :func:`manifest_from_folder` turns such a folder into a
manifest (the contract of :mod:`radiomics_aln.manifest`) and reports what it found
(:class:`FolderManifest`: ``.manifest``, ``.summary``, ``.issues``, ``.to_csv``).

The rules, each documented where it applies:

- **Class → outcome is never guessed.** ``classes={"benign": 0, "malignant": 1}`` says which
  class is the outcome 1. Without it, only class folders named ``0`` and ``1`` are accepted.
  Every other class folder must be named in ``exclude``; a folder in neither is an error.
- **Several mask files of one image are one ROI**: the union of their foreground, written as
  one ``tumor_mask`` cell joined by ``;`` (how :func:`radiomics_aln.masks.load_mask` combines
  several files). An empty mask file is left out of the ROI; an image whose mask files are all
  empty, or without mask, or with a mask of another size, is excluded and listed.
- **Spacing is never assumed.** PNG/JPEG files carry no pixel spacing: without ``spacing=`` the
  manifest's ``spacing`` column is empty and must be filled before extraction (which refuses
  such cases, naming them). ``spacing=`` writes one value for every image: your assertion that
  all images share it; nothing in the files can check it.
"""

from __future__ import annotations

import logging
import math
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from radiomics_aln._plotting import get_ax, series_colour
from radiomics_aln._validation import SPACING_RANGE_MM, check_spacing_limits, format_items
from radiomics_aln.exceptions import DataWarning, InputError
from radiomics_aln.images import RASTER_SUFFIXES, open_raster, parse_spacing, raster_channels
from radiomics_aln.manifest import write_manifest

__all__ = [
    "DEFAULT_MASK_PATTERN",
    "ISSUE_COLUMNS",
    "SUMMARY_COLUMNS",
    "FolderManifest",
    "manifest_from_folder",
]

logger = logging.getLogger(__name__)

#: Mask file names (without extension): ``<name>_mask`` and ``<name>_mask_<k>``.
DEFAULT_MASK_PATTERN = r"^(?P<name>.+)_mask(?:_(?P<k>\d+))?$"

#: Columns of :attr:`FolderManifest.summary`: one row per class folder.
SUMMARY_COLUMNS = (
    "class", "outcome", "status", "n_images", "n_cases", "n_several_masks", "n_no_mask",
    "n_empty_mask", "n_size_mismatch", "n_bad_file", "n_orphan_masks", "n_ignored",
)  # fmt: skip

#: Columns of :attr:`FolderManifest.issues`: one row per file (or folder) that needs a look.
ISSUE_COLUMNS = ("class", "case_id", "file", "issue", "action", "detail")

_OWN_COLUMNS = ("case_id", "patient_id", "class", "tumor_image", "tumor_mask", "spacing",
                "cohort")  # fmt: skip
_EXCLUDED = "image excluded"
_IGNORED = "ignored"


@dataclass
class FolderManifest:
    """A manifest built from a folder of class folders, and what was found there.

    Built by :func:`manifest_from_folder`; ``print()`` it for the report.

    Attributes
    ----------
    manifest : pandas.DataFrame
        One row per usable image, in the manifest contract (:mod:`radiomics_aln.manifest`):
        ``case_id``, ``patient_id``, ``class``, the outcome column, ``tumor_image``,
        ``tumor_mask`` (absolute paths; several masks joined by ``;``) and ``spacing`` (empty
        unless ``spacing=`` was given). ``patient_id`` and ``class`` are read as clinical
        columns; keep them out of models.
    summary : pandas.DataFrame
        One row per class folder, columns :data:`SUMMARY_COLUMNS`: its outcome (missing for an
        excluded class), ``status`` (``included`` / ``excluded``), images found, cases written,
        cases with several mask files, and images excluded or files ignored for each reason.
    issues : pandas.DataFrame
        One row per file that needs a look, columns :data:`ISSUE_COLUMNS`; ``issue`` is one of
        ``no_mask``, ``empty_mask``, ``size_mismatch``, ``bad_image``, ``bad_mask``,
        ``bad_name``, ``orphan_mask``, ``ignored_file``, ``excluded_class``; ``action`` says
        what was done (``image excluded``, ``left out of the ROI``, ``ignored``).
    root : Path
        The folder.
    classes : dict
        Class folder -> outcome (0/1), for the classes used.
    spacing : tuple of float or None
        The spacing written for every image, or None (the ``spacing`` column is empty).
    outcome : str
        Name of the outcome column.
    """

    manifest: pd.DataFrame
    summary: pd.DataFrame
    issues: pd.DataFrame
    root: Path
    classes: dict[str, int]
    spacing: tuple[float, ...] | None = None
    outcome: str = "outcome"
    excluded: list[str] = field(default_factory=list)

    @property
    def needs_spacing(self) -> bool:
        """True when the ``spacing`` column is empty and must be filled before extraction."""
        return self.spacing is None

    def to_csv(self, path: str | Path, *, relative: bool = True) -> Path:
        """Write the manifest as a CSV that :func:`radiomics_aln.read_manifest` accepts.

        Paths are written relative to the CSV's folder (``relative=False``: absolute), with
        :func:`radiomics_aln.manifest.write_manifest`. Returns the file written.
        """
        return write_manifest(self.manifest, path, relative=relative)

    def __repr__(self) -> str:
        counts = ", ".join(
            f"{r['class']} {r['n_cases']}" for _, r in self.summary.iterrows()
            if r["status"] == "included"
        )  # fmt: skip
        spacing = "spacing missing" if self.needs_spacing else "spacing given"
        return (
            f"FolderManifest({self.root}, {len(self.manifest)} cases: {counts}; "
            f"{len(self.issues)} issues; {spacing})"
        )

    def __str__(self) -> str:
        return self.report()

    def report(self, *, max_issues: int = 10) -> str:
        """The found-report as text: classes, counts, issues (the first ``max_issues``), spacing."""
        s = self.summary
        lines = [
            f"Folder {self.root}: {int(s['n_images'].sum())} images in {len(s)} class folders; "
            f"{len(self.manifest)} cases written"
        ]
        for _, r in s.iterrows():
            if r["status"] == "excluded":
                lines.append(f"  {r['class']}: excluded (exclude=), {r['n_images']} image(s)")
                continue
            extra = [
                f"{r[k]} {label}"
                for k, label in (
                    ("n_several_masks", "with several mask files, each joined as one ROI"),
                    ("n_no_mask", "without mask (excluded)"),
                    ("n_empty_mask", "with an empty mask file"),
                    ("n_size_mismatch", "with a mask of another size (excluded)"),
                    ("n_bad_file", "unreadable or unusable (excluded)"),
                    ("n_orphan_masks", "mask files without image (ignored)"),
                    ("n_ignored", "other files ignored"),
                )
                if r[k]
            ]
            lines.append(
                f"  {r['class']} -> {self.outcome} = {r['outcome']}: {r['n_images']} images, "
                f"{r['n_cases']} cases" + (f" ({'; '.join(extra)})" if extra else "")
            )
        listed = self.issues[self.issues["issue"] != "excluded_class"]
        if len(listed):
            lines.append(f"Issues ({len(listed)}):")
            for _, r in listed.head(max_issues).iterrows():
                lines.append(f"  {r['issue']}: {r['file']} ({r['action']}; {r['detail']})")
            if len(listed) > max_issues:
                lines.append(f"  ... and {len(listed) - max_issues} more (see .issues)")
        lines.append(self._spacing_text())
        return "\n".join(lines)

    def _spacing_text(self) -> str:
        if self.spacing is None:
            return (
                "Spacing: NOT GIVEN. The image files carry no pixel spacing, so the `spacing` "
                "column is empty: fill it (mm per pixel) in the manifest, or pass spacing= "
                "(radiomics-aln manifest-from-folder --spacing MM), before extracting features; "
                "extraction refuses cases without spacing"
            )
        value = ", ".join(f"{v:g}" for v in self.spacing)
        return (
            f"Spacing: {value} mm per pixel written for every image, as asserted by spacing= "
            "(the files carry none to check it against)"
        )

    def _repr_html_(self) -> str:
        from html import escape

        return (
            f"<p><b>FolderManifest</b> {escape(str(self.root))}: {len(self.manifest)} cases, "
            f"{len(self.issues)} issues</p>{self.summary.to_html(index=False)}"
            f"<p>{escape(self._spacing_text())}</p>"
        )

    def plot(self, ax: Any = None) -> Any:
        """Bar chart per class folder: cases written and images excluded. Returns the Axes."""
        ax = get_ax(ax)
        s = self.summary
        y = np.arange(len(s))
        cases = s["n_cases"].to_numpy()
        left_out = s["n_images"].to_numpy() - cases
        ax.barh(y, cases, color=series_colour(0), label="cases")
        ax.barh(y, left_out, left=cases, color=series_colour(1), label="images excluded")
        ax.set_yticks(y, [f"{c} ({o})" if o is not pd.NA else c for c, o in
                          zip(s["class"], s["outcome"], strict=True)])  # fmt: skip
        ax.set_xlabel("images")
        ax.legend(frameon=False)
        return ax


def manifest_from_folder(
    root: str | Path,
    *,
    classes: Mapping[str, int] | None = None,
    exclude: Sequence[str] = (),
    spacing: float | Sequence[float] | str | None = None,
    patient_id: str | Callable[[str], str] | None = None,
    mask_pattern: str = DEFAULT_MASK_PATTERN,
    outcome: str = "outcome",
    check_masks: bool = True,
    spacing_range: tuple[float, float] | None = SPACING_RANGE_MM,
) -> FolderManifest:
    """Build a manifest from ``root/<class>/<name>.png`` with ``<name>_mask*.png`` beside it.

    Parameters
    ----------
    root : str or Path
        The folder holding one folder per class. Files directly in ``root``, folders inside a
        class folder and files that are not PNG/JPEG/BMP/TIFF are listed as ignored; hidden
        entries (``.DS_Store``, ``.ipynb_checkpoints``) are skipped.
    classes : mapping of str to {0, 1}, optional
        Class folder -> outcome, e.g. ``{"benign": 0, "malignant": 1}``. Required unless the
        class folders are exactly ``0`` and ``1``: which class is the outcome is never guessed.
    exclude : sequence of str, default ()
        Class folders to leave out (e.g. BUSI's ``normal``, whose masks are empty). Every class
        folder must be in ``classes`` or in ``exclude``.
    spacing : float, (x, y) or str, optional
        mm per pixel written for **every** image (read by
        :func:`radiomics_aln.images.parse_spacing`): your assertion that all images share it.
        None leaves the ``spacing`` column empty: fill it before extraction.
    patient_id : str or callable, optional
        How the patient of an image is found from its name (the file name without extension):
        a regular expression whose group ``patient`` (or first group, or whole match) is the
        patient id, searched in the name, or a function name -> id. None: each image is its own
        patient (``patient_id`` = ``case_id`` = the name). A name it does not match is an error.
    mask_pattern : str, default :data:`DEFAULT_MASK_PATTERN`
        Regular expression matched against file names without extension; a match is a mask of
        the image named by its group ``name``, ordered by its optional group ``k``.
    outcome : str, default "outcome"
        Name of the outcome column.
    check_masks : bool, default True
        Open every image and mask: find empty masks, masks of another size than their image
        and unreadable files. False only pairs file names (fast; problems surface at
        extraction).
    spacing_range : (float, float) or None, default :data:`radiomics_aln.images.SPACING_RANGE_MM`
        Plausible mm per pixel for ``spacing``; None disables the check.

    Returns
    -------
    FolderManifest
        ``.manifest`` (DataFrame in the manifest contract), ``.summary`` (one row per class
        folder), ``.issues`` (one row per file needing a look), ``.to_csv(path)``; ``print()``
        shows the report.

    Raises
    ------
    InputError
        ``root`` is not a folder or holds no class folder; ``classes`` missing (folders other
        than 0/1) or naming a folder that does not exist, an outcome other than 0/1; a class
        folder neither in ``classes`` nor in ``exclude``; a bad ``mask_pattern``,
        ``patient_id`` or ``spacing``; a name ``patient_id`` does not match; two images with
        the same name (case ids must be unique); no usable image at all.

    Warns
    -----
    DataWarning
        When images of an included class are excluded (no mask, empty or other-sized masks,
        unreadable files): one warning with the counts; the files are in ``.issues``.

    See Also
    --------
    radiomics_aln.splits.split_cohort : a stratified, grouped train/test split of the result.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from PIL import Image
    >>> root = Path(tempfile.mkdtemp())
    >>> mask = np.zeros((20, 30), np.uint8)
    >>> mask[5:15, 5:20] = 255
    >>> for cls, n in (("benign", 2), ("malignant", 1), ("normal", 1)):
    ...     (root / cls).mkdir()
    ...     for i in range(1, n + 1):
    ...         Image.fromarray(np.full((20, 30), 90, np.uint8)).save(root / cls / f"{cls} ({i}).png")
    ...         drawn = mask if cls != "normal" else 0 * mask
    ...         Image.fromarray(drawn).save(root / cls / f"{cls} ({i})_mask.png")
    >>> Image.fromarray(mask).save(root / "malignant" / "malignant (1)_mask_1.png")
    >>> found = manifest_from_folder(
    ...     root, classes={"benign": 0, "malignant": 1}, exclude=["normal"], spacing=0.08
    ... )
    >>> found.manifest[["case_id", "outcome", "spacing"]]
           case_id  outcome  spacing
    0   benign (1)        0     0.08
    1   benign (2)        0     0.08
    2  malignant (1)      1     0.08
    >>> found.manifest["tumor_mask"].iloc[2].count(";")  # two mask files, one ROI
    1
    >>> found.summary[["class", "status", "n_images", "n_cases", "n_several_masks"]]
           class    status  n_images  n_cases  n_several_masks
    0     benign  included         2        2                0
    1  malignant  included         1        1                1
    2     normal  excluded         1        0                0
    """
    root = Path(root).expanduser()
    if not root.is_dir():
        raise InputError(f"root={str(root)!r} is not a folder (give the folder of class folders)")
    pattern = _mask_regex(mask_pattern)
    given = None if spacing is None else parse_spacing(spacing, pixel=False, where="spacing=")
    _check_spacing(given, spacing_range)
    if not isinstance(outcome, str) or not outcome or outcome in _OWN_COLUMNS:
        raise InputError(
            f"outcome={outcome!r} must name the outcome column, other than "
            f"{format_items(_OWN_COLUMNS)}"
        )
    folders, stray = _class_folders(root)
    mapping, excluded = _class_outcomes(root, folders, classes, exclude)
    scan = _Scan(root, pattern, check_masks)
    scan.issues.extend(stray)
    for cls in sorted(folders, key=_natural_key):
        if cls in excluded:
            scan.exclude_class(cls, folders[cls])
        else:
            scan.add_class(cls, folders[cls], mapping[cls])
    order = [c for c in mapping if c in folders] + [c for c in excluded]
    summary = scan.summary(order, mapping)
    if not scan.rows:
        raise InputError(
            f"no usable image in {root}: every image of {format_items(mapping)} was excluded "
            f"({format_items(sorted({i['issue'] for i in scan.issues}))}); see the mask "
            "pattern (mask_pattern=) and the files"
        )
    table = pd.DataFrame(scan.rows)
    _check_unique_names(table)
    table.insert(1, "patient_id", _patient_ids(table["case_id"].tolist(), patient_id))
    table.insert(3, outcome, table.pop("outcome_value").astype("int64"))
    if given is None:
        table["spacing"] = np.nan
    elif len(set(given)) == 1:
        table["spacing"] = given[0]
    else:
        table["spacing"] = ",".join(repr(v) for v in given)
    issues = pd.DataFrame(scan.issues, columns=list(ISSUE_COLUMNS))
    _warn_excluded(issues)
    logger.info("folder %s: %d cases, %d issues", root, len(table), len(issues))
    return FolderManifest(
        manifest=table,
        summary=summary,
        issues=issues,
        root=root,
        classes={c: mapping[c] for c in order if c in mapping},
        spacing=given,
        outcome=outcome,
        excluded=sorted(excluded, key=_natural_key),
    )


# --------------------------------------------------------------------------------------------
# arguments
# --------------------------------------------------------------------------------------------


def _natural_key(text: str) -> list[Any]:
    """Sort key that orders "benign (2)" before "benign (10)"."""
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", text)]


def _mask_regex(mask_pattern: Any) -> re.Pattern:
    if not isinstance(mask_pattern, str):
        raise InputError(f"mask_pattern={mask_pattern!r} must be a regular expression (text)")
    try:
        regex = re.compile(mask_pattern)
    except re.error as exc:
        raise InputError(f"mask_pattern={mask_pattern!r} is not a regular expression: {exc}") from None
    if "name" not in regex.groupindex:
        raise InputError(
            f"mask_pattern={mask_pattern!r} needs a group (?P<name>...) that names the image "
            f"of the mask, as the default {DEFAULT_MASK_PATTERN!r}"
        )
    return regex


def _check_spacing(given: Any, spacing_range: Any) -> None:
    limits = check_spacing_limits(spacing_range)
    if given is None or limits is None:
        return
    if not all(limits[0] <= v <= limits[1] for v in given):
        raise InputError(
            f"spacing={given} mm per pixel is outside the plausible range {limits[0]:g}-"
            f"{limits[1]:g} mm for 2D ultrasound (a unit error: cm, µm or dpi?); correct it, or "
            "widen the check with spacing_range=(low, high)"
        )


def _class_folders(root: Path) -> tuple[dict[str, Path], list[dict]]:
    """Class folders of ``root`` by name, and issue rows for the files directly in it."""
    folders, stray = {}, []
    for entry in sorted(root.iterdir(), key=lambda p: _natural_key(p.name)):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            folders[entry.name] = entry
        else:
            stray.append(_issue(None, None, entry, "ignored_file", _IGNORED,
                                "a file directly in the root folder, not in a class folder"))  # fmt: skip
    if not folders:
        raise InputError(
            f"{root} holds no class folder ({len(stray)} files directly in it); arrange the "
            "images as ROOT/<class>/<name>.png with ROOT/<class>/<name>_mask.png beside them"
        )
    return folders, stray


def _class_outcomes(
    root: Path, folders: Mapping[str, Path], classes: Any, exclude: Any
) -> tuple[dict[str, int], list[str]]:
    """Class -> outcome for the included classes, and the excluded class folders."""
    found = sorted(folders, key=_natural_key)
    if isinstance(exclude, str):
        exclude = [exclude]
    excluded = [str(e) for e in exclude]
    unknown = [e for e in excluded if e not in folders]
    if unknown:
        raise InputError(
            f"exclude names class folder(s) {format_items(unknown)} that are not in {root}; "
            f"its class folders are {format_items(found)}"
        )
    if classes is None:
        if sorted(set(found) - set(excluded)) != ["0", "1"]:
            raise InputError(
                f"classes= is required: the class folders of {root} are {format_items(found)}, "
                "and which of them is the outcome 1 is never guessed. Give e.g. "
                "classes={'benign': 0, 'malignant': 1} (CLI: --class benign=0 --class "
                "malignant=1) and name the others in exclude= (--exclude normal). Without "
                "classes=, only class folders named 0 and 1 are accepted"
            )
        classes = {"0": 0, "1": 1}
    if not isinstance(classes, Mapping) or not classes:
        raise InputError(
            f"classes={classes!r} must be a mapping of class folder -> outcome 0/1, e.g. "
            "{'benign': 0, 'malignant': 1}"
        )
    mapping: dict[str, int] = {}
    for name, value in classes.items():
        ok = isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)
        if not ok or value not in (0, 1):
            raise InputError(f"classes[{name!r}] = {value!r}: the outcome of a class is 0 or 1")
        mapping[str(name)] = int(value)
    missing = [c for c in mapping if c not in folders]
    both = [c for c in mapping if c in excluded]
    if missing or both:
        problem = (
            f"classes names folder(s) {format_items(missing)} not in {root}"
            if missing
            else f"class folder(s) {format_items(both)} are both in classes and in exclude"
        )
        raise InputError(f"{problem}; its class folders are {format_items(found)}")
    loose = [c for c in found if c not in mapping and c not in excluded]
    if loose:
        counts = [f"{c} ({sum(1 for _ in _files(folders[c]))} files)" for c in loose]
        raise InputError(
            f"class folder(s) {format_items(counts)} of {root} are neither in classes nor in "
            "exclude: give each an outcome in classes= (--class NAME=0|1) or leave it out with "
            "exclude= (--exclude NAME); a class is never given an outcome by default"
        )
    return mapping, excluded


def _files(folder: Path) -> list[Path]:
    return sorted(
        (p for p in folder.iterdir() if not p.name.startswith(".")),
        key=lambda p: _natural_key(p.name),
    )


def _patient_ids(names: list[str], patient_id: Any) -> list[str]:
    if patient_id is None:
        return list(names)
    if isinstance(patient_id, str):
        try:
            regex = re.compile(patient_id)
        except re.error as exc:
            raise InputError(f"patient_id={patient_id!r} is not a regular expression: {exc}") from None

        def derive(name: str) -> Any:
            m = regex.search(name)
            if m is None:
                return None
            if "patient" in regex.groupindex:
                return m.group("patient")
            return m.group(1) if regex.groups else m.group(0)

    elif callable(patient_id):
        derive = patient_id
    else:
        raise InputError(
            f"patient_id={patient_id!r} must be a regular expression, a function name -> id, "
            "or None (each image its own patient)"
        )
    ids, bad = [], []
    for name in names:
        value = derive(name)
        if value is None or (isinstance(value, float) and math.isnan(value)) or not str(value):
            bad.append(name)
        ids.append(None if value is None else str(value))
    if bad:
        raise InputError(
            f"patient_id={patient_id!r} gives no patient id for {len(bad)} image name(s): "
            f"{format_items(bad)}; a patient is never guessed: fix the pattern or the names"
        )
    return ids


def _check_unique_names(table: pd.DataFrame) -> None:
    dup = table["case_id"][table["case_id"].duplicated(keep=False)]
    if dup.empty:
        return
    where = [
        f"{name!r} in {format_items(table.loc[table['case_id'] == name, 'class'])}"
        for name in dict.fromkeys(dup)
    ]
    raise InputError(
        f"image names repeat across class folders: {format_items(where)}; the case id is the "
        "image name and must be unique: rename the files (e.g. prefix the class)"
    )


def _warn_excluded(issues: pd.DataFrame) -> None:
    gone = issues[issues["action"] == _EXCLUDED]
    if gone.empty:
        return
    per_issue = gone.drop_duplicates(["class", "case_id"])["issue"].value_counts()
    counts = ", ".join(f"{n} {issue}" for issue, n in per_issue.items())
    n_images = len(gone.drop_duplicates(["class", "case_id"]))
    warnings.warn(
        f"{n_images} image(s) of the included classes were excluded ({counts}); they are "
        "listed in .issues with the reason",
        DataWarning,
        stacklevel=3,
    )


def _issue(cls: Any, case_id: Any, file: Path, issue: str, action: str, detail: str) -> dict:
    return {"class": cls, "case_id": case_id, "file": str(file), "issue": issue,
            "action": action, "detail": detail}  # fmt: skip


# --------------------------------------------------------------------------------------------
# scanning the class folders
# --------------------------------------------------------------------------------------------


class _Scan:
    """Walks the class folders; collects manifest rows, issue rows and per-class counts."""

    def __init__(self, root: Path, pattern: re.Pattern, check_masks: bool) -> None:
        self.root, self.pattern, self.check_masks = root, pattern, check_masks
        self.rows: list[dict] = []
        self.issues: list[dict] = []
        self.counts: dict[str, dict[str, int]] = {}

    def _split(self, cls: str, folder: Path) -> tuple[dict[str, list[Path]], dict[str, list]]:
        """Images by name and masks by the name of their image, in a class folder."""
        images: dict[str, list[Path]] = {}
        masks: dict[str, list[tuple[int, Path]]] = {}
        for path in _files(folder):
            if path.is_dir():
                reason = "a folder inside a class folder (only files directly in it are read)"
            elif path.suffix.lower() not in RASTER_SUFFIXES:
                reason = "not a PNG/JPEG/BMP/TIFF image"
            else:
                m = self.pattern.fullmatch(path.stem)
                if m is None:
                    images.setdefault(path.stem, []).append(path)
                else:
                    k = m.groupdict().get("k")
                    masks.setdefault(m.group("name"), []).append((-1 if k is None else int(k), path))
                continue
            self.count(cls, "n_ignored")
            self.issues.append(_issue(cls, None, path, "ignored_file", _IGNORED, reason))
        return images, masks

    def count(self, cls: str, key: str, n: int = 1) -> None:
        self.counts.setdefault(cls, dict.fromkeys(SUMMARY_COLUMNS[3:], 0))[key] += n

    def exclude_class(self, cls: str, folder: Path) -> None:
        images, _ = self._split(cls, folder)
        self.count(cls, "n_images", sum(len(v) for v in images.values()))
        self.issues.append(_issue(cls, None, folder, "excluded_class", _IGNORED,
                                  "the class folder is in exclude="))  # fmt: skip

    def add_class(self, cls: str, folder: Path, outcome: int) -> None:
        images, masks = self._split(cls, folder)
        for name, found in masks.items():
            if name not in images:
                self.count(cls, "n_orphan_masks", len(found))
                for _, path in found:
                    self.issues.append(_issue(cls, None, path, "orphan_mask", _IGNORED,
                                              f"no image named {name!r} beside it"))  # fmt: skip
        for name in sorted(images, key=_natural_key):
            self.count(cls, "n_images", len(images[name]))
            mask_files = [p for _, p in sorted(masks.get(name, []), key=lambda kp: (kp[0], kp[1].name))]
            kept = self._case(cls, name, images[name], mask_files)
            if kept is None:
                continue
            self.count(cls, "n_cases")
            self.count(cls, "n_several_masks", int(len(kept) > 1))
            self.rows.append({
                "case_id": name, "class": cls, "outcome_value": outcome,
                "tumor_image": images[name][0].absolute().as_posix(),
                "tumor_mask": ";".join(p.absolute().as_posix() for p in kept),
            })  # fmt: skip

    def _case(self, cls: str, name: str, images: list[Path], masks: list[Path]) -> list[Path] | None:
        """The mask files kept for one image (None: the image is excluded, with issue rows)."""
        image = images[0]

        def exclude(issue: str, file: Path, detail: str, key: str) -> None:
            self.count(cls, key)
            self.issues.append(_issue(cls, name, file, issue, _EXCLUDED, detail))

        if len(images) > 1:
            exclude("bad_name", image, f"{len(images)} images named {name!r} "
                    f"({format_items(p.name for p in images)}): which one is meant?", "n_bad_file")  # fmt: skip
            return None
        bad = [p for p in (image, *masks) if ";" in p.name or p.name != p.name.strip()]
        if bad:
            exclude("bad_name", bad[0], "a file name with ';' or leading/trailing spaces cannot be "
                    "written in a manifest cell: rename it", "n_bad_file")  # fmt: skip
            return None
        if not masks:
            exclude("no_mask", image, f"no file matching the mask pattern for {name!r}", "n_no_mask")
            return None
        if not self.check_masks:
            return masks
        return self._check_masks(cls, name, image, masks, exclude)

    def _check_masks(self, cls: str, name: str, image: Path, masks: list[Path],
                     exclude: Callable[..., None]) -> list[Path] | None:  # fmt: skip
        """Open the image and its masks: sizes, emptiness and labels (as extraction reads them)."""
        import SimpleITK as sitk

        from radiomics_aln.masks import load_mask

        try:
            size = open_raster(image).size
        except InputError as exc:
            exclude("bad_image", image, str(exc), "n_bad_file")
            return None
        like = sitk.Image([int(size[0]), int(size[1])], sitk.sitkUInt8)
        kept, empty = [], []
        for mask in masks:
            try:
                raster = open_raster(mask)
                if raster.size != size:
                    exclude("size_mismatch", mask, f"mask {raster.size[0]}x{raster.size[1]} "
                            f"pixels, image {size[0]}x{size[1]} (width x height); masks are "
                            "never resized", "n_size_mismatch")  # fmt: skip
                    return None
                values, alpha, _ = raster_channels(raster, mask)
                if not np.any(values) and (alpha is None or not np.any(alpha)):
                    empty.append(mask)
                    continue
                load_mask(mask, like)  # several labels, several colours: as extraction refuses
            except InputError as exc:
                exclude("bad_mask", mask, str(exc).splitlines()[0], "n_bad_file")
                return None
            kept.append(mask)
        if empty:
            self.count(cls, "n_empty_mask")
            action = "left out of the ROI" if kept else _EXCLUDED
            detail = ("no foreground pixel; the other mask file(s) make the ROI" if kept
                      else "no foreground pixel in any mask file of the image")  # fmt: skip
            for mask in empty:
                self.issues.append(_issue(cls, name, mask, "empty_mask", action, detail))
        return kept or None

    def summary(self, order: list[str], mapping: Mapping[str, int]) -> pd.DataFrame:
        rows = []
        for cls in order:
            counts = self.counts.get(cls, dict.fromkeys(SUMMARY_COLUMNS[3:], 0))
            included = cls in mapping
            rows.append({"class": cls, "outcome": mapping[cls] if included else pd.NA,
                         "status": "included" if included else "excluded", **counts})  # fmt: skip
        out = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
        out["outcome"] = out["outcome"].astype("Int64")
        return out
