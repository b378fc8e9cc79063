"""Pieces of the dataset check that read files without decoding them."""
import io

import numpy as np
import pytest
from PIL import Image

from mmplug.datasets.check import _complete, _image_size, label_map_problem


def _encoded(fmt, mode='RGB', size=(40, 30)):
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(
        0, 255, (size[1], size[0], 3), dtype=np.uint8)).convert(mode).save(
            buffer, fmt)
    return buffer.getvalue()


@pytest.mark.parametrize('fmt', ['JPEG', 'PNG'])
def test_a_file_cut_short_is_found_from_its_end(fmt, tmp_path):
    data = _encoded(fmt)
    whole, cut, trailing = (tmp_path / n for n in ('a', 'b', 'c'))
    whole.write_bytes(data)
    cut.write_bytes(data[:len(data) * 2 // 3])
    trailing.write_bytes(data + b'\0\1' * 100)  # data after the image
    assert _complete(str(whole)) and not _complete(str(cut))
    assert not _complete(str(trailing))  # no end marker in the last bytes
    assert _image_size(str(whole), deep=False) == ((40, 30), None)
    size, err = _image_size(str(cut), deep=False)
    assert size is None and 'truncated' in err
    # decoded to tell it from a cut file: it is whole
    assert _image_size(str(trailing), deep=False) == ((40, 30), None)


def test_other_and_tiny_files_count_as_complete(tmp_path):
    bmp, tiny = tmp_path / 'a.bmp', tmp_path / 'tiny'
    bmp.write_bytes(_encoded('BMP'))
    tiny.write_bytes(b'\xff\xd8\xff\xd9')
    assert _complete(str(bmp)) and _complete(str(tiny))


@pytest.mark.parametrize('mode, fmt, problem', [
    ('L', 'PNG', None), ('P', 'PNG', None), ('I;16', 'PNG', None),
    ('RGB', 'PNG', 'a 3-channel (RGB) label map'),
    ('LA', 'PNG', 'a 2-channel (LA) label map'),
    ('L', 'JPEG', 'a JPEG label map'),
])
def test_label_map_problems(mode, fmt, problem, tmp_path):
    path = tmp_path / f'label.{fmt.lower()}'
    label = np.arange(12, dtype=np.uint8).reshape(3, 4)
    image = Image.fromarray(label).convert(mode) if mode != 'I;16' else \
        Image.fromarray(label.astype(np.uint16))
    image.save(path, fmt)
    assert Image.open(path).mode == mode
    found = label_map_problem(str(path))
    assert (found is None) if problem is None else found.startswith(problem)


def test_sixteen_bit_values_above_255(tmp_path):
    path = tmp_path / 'label.png'
    Image.fromarray(np.array([[0, 300]], dtype=np.uint16)).save(path)
    assert label_map_problem(str(path), decode=False) is None  # header only
    assert 'where 300 becomes 44' in label_map_problem(str(path))
