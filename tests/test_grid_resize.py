"""Features and labels of a loss cell describe the same image pixel (grid_resize)."""
import pytest
import torch
import torch.nn.functional as F

from mmseg_pixcon.models.grid_resize import cell_sources, resize_features, resize_labels


def decoder_cell_positions(length: int, cells: int, align_corners: bool) -> torch.Tensor:
    """(cells,) image coordinate (pixels) each decoder cell stands for under a convention —
    mmseg's rule when it upsamples logits to the label map for cross-entropy."""
    i = torch.arange(cells, dtype=torch.float64)
    if align_corners:
        return i * (length - 1) / (cells - 1)
    return (i + 0.5) * length / cells - 0.5


def feature_and_label_coordinates(image, decoder, loss_grid, align_corners):
    """Row and column coordinate maps, one resized as features are, one as labels are."""
    (height, width), (h, w) = image, decoder
    rows = decoder_cell_positions(height, h, align_corners).view(h, 1).expand(h, w)
    cols = decoder_cell_positions(width, w, align_corners).view(1, w).expand(h, w)
    feats = resize_features(torch.stack([rows, cols])[None], loss_grid, align_corners)[0]
    pixel_rows = torch.arange(height).view(1, height, 1).expand(1, height, width)
    pixel_cols = torch.arange(width).view(1, 1, width).expand(1, height, width)
    labels = torch.stack([resize_labels(pixel_rows, loss_grid, align_corners)[0],
                          resize_labels(pixel_cols, loss_grid, align_corners)[0]])
    return feats, labels.double()


@pytest.mark.parametrize('align_corners', [False, True])
@pytest.mark.parametrize('image, decoder, loss_grid', [
    ((96, 192), (24, 48), (12, 24)),   # the synthetic Cityscapes config: stride 4, half grid
    ((96, 192), (24, 48), (24, 48)),   # no loss_resolution: labels straight to the decoder grid
    ((96, 96), (24, 24), (12, 12)),    # the synthetic VOC config
    ((512, 1024), (128, 256), (64, 128)),
    ((97, 61), (25, 16), (9, 7)),      # odd sizes, no integer strides
])
def test_feature_and_label_of_a_cell_agree_to_half_a_pixel(align_corners, image, decoder,
                                                           loss_grid):
    feats, labels = feature_and_label_coordinates(image, decoder, loss_grid, align_corners)
    assert (feats - labels).abs().max() <= 0.5 + 1e-9


def test_floor_nearest_with_aligned_corners_was_off_by_more_than_five_pixels():
    """The rule replaced here (features bilinear with aligned corners, labels ⌊i·H/h⌋) put a
    cell's label up to 5.5 pixels from its feature on the synthetic 96×192 config."""
    height, width = 96, 192
    cols = decoder_cell_positions(width, 48, False).view(1, 1, 1, 48).expand(1, 1, 24, 48)
    feats = F.interpolate(cols, size=(12, 24), mode='bilinear', align_corners=True)[0, 0]
    pixel_cols = torch.arange(width).view(1, 1, 1, width).expand(1, 1, height, width).double()
    labels = F.interpolate(pixel_cols, size=(12, 24), mode='nearest')[0, 0]
    assert (feats - labels).abs().max() == pytest.approx(5.5)


def test_labels_are_gathered_exactly():
    labels = torch.randint(0, 2**31 - 1, (2, 9, 14), dtype=torch.int64)
    labels[0, 4, 7] = 255
    small = resize_labels(labels, (3, 7))
    rows, cols = cell_sources(9, 3, False, labels.device), cell_sources(14, 7, False,
                                                                        labels.device)
    assert rows.tolist() == [1, 4, 7] and cols.tolist() == [1, 3, 5, 7, 9, 11, 13]
    assert torch.equal(small, labels[:, rows][:, :, cols])
    assert small.dtype == torch.int64
    assert torch.equal(resize_labels(labels.int(), (9, 14)), labels.int().long())
    with pytest.raises(ValueError, match='smaller'):
        resize_labels(labels, (10, 14))
