"""Tests of radiomics_aln.masks: labels, colours, components, grids; plot_rois."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk
from PIL import Image
from roi_helpers import (
    arr,
    blob,
    breast_spacing,
    read_breast_table,
    rng_image,
    save_png,
)

from radiomics_aln.exceptions import (
    GeometryError,
    InputError,
)
from radiomics_aln.images import load_image, load_image_with_fov, spacing_source
from radiomics_aln.masks import load_mask, plot_rois
from radiomics_aln.ring import (
    peritumoral_ring,
)


@pytest.fixture(scope="module")
def breast_table(test_data_dir):
    return read_breast_table(test_data_dir)


# ------------------------------------------------------------------------------------------
# masks
# ------------------------------------------------------------------------------------------


@pytest.fixture
def image_png(tmp_path):
    Image.fromarray(rng_image()).save(tmp_path / "img.png")
    return load_image(tmp_path / "img.png", spacing=0.2)


@pytest.mark.parametrize("value", [1, 255, 7])
def test_binary_masks_any_single_value(tmp_path, image_png, value):
    mask = load_mask(save_png(tmp_path, "m.png", blob(value)), like=image_png)
    assert mask.GetPixelID() == sitk.sitkUInt8
    np.testing.assert_array_equal(arr(mask), blob(1))
    assert mask.GetSpacing() == (0.2, 0.2) and spacing_source(mask) == "argument"


def test_rgba_mask_like_breast(tmp_path, image_png):
    m = blob(255)
    rgba = np.stack([m, m, m, m], axis=-1)
    rgba[0, 0, 3] = 75  # stray alpha, RGB still 0 (as in BrEaST case010)
    mask = load_mask(save_png(tmp_path, "m.png", rgba), like=image_png)
    np.testing.assert_array_equal(arr(mask), blob(1))


def test_colour_masks(tmp_path, image_png):
    red = np.zeros((30, 40, 3), dtype=np.uint8)
    red[10:20, 5:15] = (255, 0, 0)
    np.testing.assert_array_equal(
        arr(load_mask(save_png(tmp_path, "red.png", red), like=image_png)), blob(1)
    )
    red[0:5, 30:35] = (0, 255, 0)
    path = save_png(tmp_path, "two.png", red)
    with pytest.raises(InputError, match=r"two\.png is a colour image with 2 colours"):
        load_mask(path, like=image_png)
    green = arr(load_mask(path, like=image_png, label=(0, 255, 0)))
    assert green.sum() == 25 and green[0:5, 30:35].all()
    alpha_only = np.zeros((30, 40, 4), dtype=np.uint8)
    alpha_only[..., 3] = blob(255)
    got = arr(load_mask(save_png(tmp_path, "alpha.png", alpha_only), like=image_png))
    np.testing.assert_array_equal(got, blob(1))


def test_label_maps(tmp_path, image_png):
    labels = blob(1)
    labels[22:28, 20:30] = 2
    labels[0:3, 0:3] = 3
    path = save_png(tmp_path, "labels.png", labels)
    with pytest.raises(InputError, match=r"labels\.png has 3 labels \(1, 2, 3\).*label="):
        load_mask(path, like=image_png)
    np.testing.assert_array_equal(arr(load_mask(path, like=image_png, label=2)), labels == 2)
    both = arr(load_mask(path, like=image_png, label=[1, 2]))
    np.testing.assert_array_equal(both, np.isin(labels, [1, 2]))
    # On a grey label map a 3-tuple is a list of labels, not a colour.
    three = arr(load_mask(path, like=image_png, label=(1, 2, 3)))
    np.testing.assert_array_equal(three, labels > 0)
    boolean = arr(load_mask(labels == 2, like=image_png))  # boolean arrays are foregrounds
    np.testing.assert_array_equal(boolean, labels == 2)
    with pytest.raises(
        InputError, match=r"labels\.png has no pixels with label 5; its labels are 1, 2, 3"
    ):
        load_mask(path, like=image_png, label=5)
    with pytest.raises(InputError, match=r"has no pixels with label 1; its labels are 255"):
        load_mask(save_png(tmp_path, "m255.png", blob(255)), like=image_png, label=1)


def test_itksnap_style_nifti_label_map(tmp_path):
    """ITK-SNAP saves a 2D segmentation as a 3D one-slice NIfTI label map."""
    src = sitk.GetImageFromArray(rng_image().astype(np.int16)[None])
    src.SetSpacing((0.1, 0.2, 1.0))
    sitk.WriteImage(src, str(tmp_path / "img.nii.gz"))
    labels = np.zeros((1, 30, 40), dtype=np.uint16)
    labels[0, 5:10, 5:10] = 1
    labels[0, 20:25, 20:30] = 2
    seg = sitk.GetImageFromArray(labels)
    seg.SetSpacing((0.1, 0.2, 1.0))
    sitk.WriteImage(seg, str(tmp_path / "seg.nii.gz"))
    image = load_image(tmp_path / "img.nii.gz")
    mask = load_mask(tmp_path / "seg.nii.gz", like=image, label=2)
    assert mask.GetDimension() == 2
    np.testing.assert_array_equal(arr(mask), labels[0] == 2)


def test_several_mask_files_union_largest_and_min_area(tmp_path, image_png):
    a = blob(255)
    b = np.zeros_like(a)
    b[22:28, 20:36] = 255  # 96 px
    c = np.zeros_like(a)
    c[0, 39] = 255  # a speck of 1 px = 0.04 mm2
    pa, pb, pc = (save_png(tmp_path, n, v) for n, v in (("a.png", a), ("b.png", b), ("c.png", c)))
    union = arr(load_mask([pa, pb, pc], like=image_png))
    np.testing.assert_array_equal(union, ((a | b | c) > 0).astype(np.uint8))
    joined = arr(load_mask(f"{pa}; {pb};{pc}", like=image_png))  # manifest style
    np.testing.assert_array_equal(joined, union)
    largest = arr(load_mask([pa, pb, pc], like=image_png, combine="largest"))
    np.testing.assert_array_equal(largest, a > 0)  # 100 px beats 96 px
    no_speck = arr(load_mask([pa, pb, pc], like=image_png, min_area_mm2=0.1))
    np.testing.assert_array_equal(no_speck, ((a | b) > 0).astype(np.uint8))
    with pytest.raises(InputError, match=r"every connected component is smaller"):
        load_mask(pc, like=image_png, min_area_mm2=1.0)
    with pytest.raises(InputError, match="combine='both'"):
        load_mask(pa, like=image_png, combine="both")


def test_mask_errors_name_files(tmp_path, image_png):
    with pytest.raises(InputError, match=r"mask file not found: .*gone\.png"):
        load_mask(tmp_path / "gone.png", like=image_png)
    with pytest.raises(InputError, match=r"empty\.png is empty \(no foreground pixels\)"):
        load_mask(save_png(tmp_path, "empty.png", np.zeros((30, 40), np.uint8)), like=image_png)
    small = save_png(tmp_path, "small.png", np.ones((20, 40), np.uint8))
    with pytest.raises(
        GeometryError, match=r"small\.png is 40x20 pixels \(x, y\) but image .*img\.png is 40x30"
    ):
        load_mask(small, like=image_png)
    transposed = save_png(tmp_path, "t.png", np.ones((40, 30), np.uint8))
    with pytest.raises(GeometryError, match="looks transposed"):
        load_mask(transposed, like=image_png)
    (tmp_path / "junk.png").write_bytes(b"garbage")
    with pytest.raises(InputError, match=r"junk\.png"):
        load_mask(tmp_path / "junk.png", like=image_png)
    with pytest.raises(InputError, match="like= must be the SimpleITK image"):
        load_mask(small, like=np.zeros((30, 40)))


def test_mask_non_finite_and_non_integer_values(tmp_path):
    ref = sitk.GetImageFromArray(np.zeros((10, 10), dtype=np.float32))
    sitk.WriteImage(ref, str(tmp_path / "img.nrrd"))
    image = load_image(tmp_path / "img.nrrd")
    soft = np.zeros((10, 10), dtype=np.float32)
    soft[2:5, 2:5] = 0.7
    sitk.WriteImage(sitk.GetImageFromArray(soft), str(tmp_path / "soft.nrrd"))
    with pytest.raises(InputError, match=r"soft\.nrrd has non-integer values \(e\.g\. 0\.7\)"):
        load_mask(tmp_path / "soft.nrrd", like=image)
    soft[0, 0] = np.nan
    sitk.WriteImage(sitk.GetImageFromArray(soft), str(tmp_path / "nan.nrrd"))
    with pytest.raises(InputError, match=r"nan\.nrrd has 1 non-finite value"):
        load_mask(tmp_path / "nan.nrrd", like=image)


def test_mask_spacing_and_origin_checked_against_image(tmp_path):
    pixels = np.zeros((10, 12), dtype=np.float32)
    src = sitk.GetImageFromArray(pixels)
    src.SetSpacing((0.1, 0.2))
    sitk.WriteImage(src, str(tmp_path / "img.nrrd"))
    image = load_image(tmp_path / "img.nrrd")
    m = np.zeros((10, 12), dtype=np.uint8)
    m[3:6, 3:6] = 1
    bad = sitk.GetImageFromArray(m)
    bad.SetSpacing((0.2, 0.1))
    sitk.WriteImage(bad, str(tmp_path / "spacing.nrrd"))
    with pytest.raises(
        GeometryError,
        match=r"spacing\.nrrd and image .*img\.nrrd are on different grids: mask vs image "
        r"spacing \(0\.2, 0\.1\) vs \(0\.1, 0\.2\).*check_geometry='size'",
    ):
        load_mask(tmp_path / "spacing.nrrd", like=image)
    moved = sitk.GetImageFromArray(m)
    moved.SetSpacing((0.1, 0.2))
    moved.SetOrigin((5.0, 0.0))
    sitk.WriteImage(moved, str(tmp_path / "origin.nrrd"))
    with pytest.raises(GeometryError, match=r"origin\.nrrd .* origin \(5, 0\) vs \(0, 0\)"):
        load_mask(tmp_path / "origin.nrrd", like=image)
    # Overridden on purpose: the mask takes the image's grid.
    mask = load_mask(tmp_path / "origin.nrrd", like=image, check_geometry="size")
    assert mask.GetOrigin() == image.GetOrigin()
    # A PNG mask carries no geometry: only its size is checked.
    Image.fromarray(m * 255).save(tmp_path / "m.png")
    assert load_mask(tmp_path / "m.png", like=image).GetSpacing() == (0.1, 0.2)


def test_plot_rois_draws_on_given_axes(test_data_dir, breast_table):
    import matplotlib.pyplot as plt

    folder = test_data_dir / "breast"
    image, fov = load_image_with_fov(
        folder / "case175.png", spacing=breast_spacing(breast_table, "case175")
    )
    tumor = load_mask(folder / "case175_tumor.png", like=image)
    ring = peritumoral_ring(tumor, within=fov, min_coverage=None)
    fig, ax = plt.subplots()
    out = plot_rois(image, {"fov": fov, "tumor": tumor, "peritumoral": ring}, ax=ax, title="x")
    assert out is ax and ax.get_title() == "x"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["fov", "tumor", "peritumoral"]
    x0, x1 = ax.get_xlim()
    assert x1 - x0 == pytest.approx(image.GetSize()[0] * image.GetSpacing()[0], rel=1e-6)


def test_plot_rois_colour_blind_safe_and_tumour_outline_on_top():
    # the ring's inner edge is the tumour's outline: drawn later, it used to hide the tumour;
    # red/green (tumour vs tumour+ring) is not readable with deuteranopia
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_hex

    img = sitk.GetImageFromArray(np.random.default_rng(0).random((80, 100)))
    img.SetSpacing((0.2, 0.2))
    arr = np.zeros((80, 100), np.uint8)
    arr[30:50, 40:60] = 1
    tumor = sitk.GetImageFromArray(arr)
    tumor.CopyInformation(img)
    ring = peritumoral_ring(tumor, width_mm=2.0)
    rois = {"tumor": tumor, "peritumoral": ring, "tumor_peritumoral": tumor | ring}
    fig, ax = plt.subplots()
    plot_rois(img, rois, ax=ax)
    legend = {
        t.get_text(): to_hex(h.get_color())
        for t, h in zip(ax.get_legend().get_texts(), ax.get_legend().legend_handles, strict=True)
    }
    assert legend == {
        "tumor": "#d55e00",
        "peritumoral": "#f0e442",
        "tumor_peritumoral": "#56b4e9",
    }
    # the last artist drawn is the tumour's outline, the thinnest line
    last = ax.collections[-1]
    assert to_hex(last.get_edgecolor()[0]) == "#d55e00"
    widths = [float(c.get_linewidth()[0]) for c in ax.collections[-3:]]
    assert widths == sorted(widths, reverse=True)
