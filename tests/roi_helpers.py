"""Helpers shared by the tests of images, masks, the ring and cases (not a test module)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import SimpleITK as sitk
from PIL import Image


def arr(image: sitk.Image) -> np.ndarray:
    return sitk.GetArrayFromImage(image)


def luma(rgb: np.ndarray) -> np.ndarray:
    """ITU-R BT.601 luma, Y = 0.299 R + 0.587 G + 0.114 B."""
    rgb = rgb.astype(float)
    return 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]


def disk_mask(r_mm: float, spacing: tuple[float, float], *, extra_mm: float = 8.0) -> sitk.Image:
    """A disk of radius r_mm centred on a grid reaching extra_mm beyond the 5 mm ring."""
    sx, sy = spacing
    half = r_mm + 5 + extra_mm
    nx, ny = int(round(2 * half / sx)), int(round(2 * half / sy))
    yy, xx = np.mgrid[:ny, :nx]
    x, y = (xx - nx / 2) * sx, (yy - ny / 2) * sy
    mask = sitk.GetImageFromArray((x**2 + y**2 <= r_mm**2).astype(np.uint8))
    mask.SetSpacing(spacing)
    return mask


def brute_force_distance(tumor: np.ndarray, spacing_xy: tuple[float, float]) -> np.ndarray:
    """Distance (mm) of every pixel centre to the nearest tumour pixel centre, by brute force."""
    sx, sy = spacing_xy
    ty, tx = np.nonzero(tumor)
    yy, xx = np.mgrid[: tumor.shape[0], : tumor.shape[1]]
    d2 = ((xx.ravel()[:, None] - tx[None, :]) * sx) ** 2 + (
        (yy.ravel()[:, None] - ty[None, :]) * sy
    ) ** 2
    return np.sqrt(d2.min(axis=1)).reshape(tumor.shape)


def rng_image(shape=(30, 40), seed=0, dtype=np.uint8, channels=None):
    rng = np.random.default_rng(seed)
    size = shape + ((channels,) if channels else ())
    return rng.integers(0, 256, size=size).astype(dtype)


def save_png(tmp_path, name, values):
    Image.fromarray(values).save(tmp_path / name)
    return tmp_path / name


def blob(value=1, shape=(30, 40)):
    m = np.zeros(shape, dtype=np.uint8)
    m[10:20, 5:15] = value
    return m


def read_breast_table(test_data_dir: Path) -> pd.DataFrame:
    """clinical-data.csv of the committed BrEaST cases, indexed by image file name."""
    return pd.read_csv(test_data_dir / "breast" / "clinical-data.csv", dtype=str).set_index(
        "Image_filename"
    )


def breast_spacing(table: pd.DataFrame, case: str) -> float:
    return float(table.loc[f"{case}.png", "Pixel_size"]) * 10.0  # cm -> mm
