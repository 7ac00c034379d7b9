"""Files from outside hold JSON too: a bits file's records, a safetensors header, a video's provenance tag, a model's
manifest and config. One nested 100,000 deep (or holding NaN) is refused by name with the error each reader
already gives for a damaged file, never a RecursionError."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import av
import numpy as np
import pytest

from engine.media.errors import MediaError
from engine.media.mp4 import PROVENANCE_TAG, read_metadata
from engine.pipeline.bits import MAGIC, read_bits
from engine.pipeline.errors import PipelineInputError
from engine.tensors.errors import CheckpointError
from engine.tensors.safetensors_file import SafetensorsFile
from engine.text.errors import TextEncoderError
from engine.text.folder import inspect_folder
from engine.weights.manifest import MANIFEST, ModelStoreError, load_manifest

DEEP = "[" * 100_000


def test_a_bits_file_whose_record_is_nested_too_deep_is_damaged(tmp_path: Path):
    text = DEEP.encode()
    path = tmp_path / "deep.bits"
    path.write_bytes(MAGIC + struct.pack("<IQ", len(text), 0) + text + struct.pack("<I", zlib.crc32(text)))
    with pytest.raises(PipelineInputError, match="deep.bits is damaged: record 0 is not JSON"):
        read_bits(path)


@pytest.mark.parametrize(("header", "says"), [(DEEP, "nested deeper than 64 levels"),
                                              ('{"x": {"dtype": "F32", "shape": [NaN]}}', "holds NaN")])
def test_a_safetensors_file_whose_header_is_nested_too_deep_is_not_one(tmp_path: Path, header: str, says: str):
    raw = header.encode()
    path = tmp_path / "evil.safetensors"
    path.write_bytes(struct.pack("<Q", len(raw)) + raw)
    with pytest.raises(CheckpointError, match=f"evil.safetensors is not a safetensors file: its header is not JSON "
                                              f"\\(the header .*{says}"):
        SafetensorsFile.open(path)


def test_a_video_whose_provenance_tag_is_nested_too_deep_is_named(tmp_path: Path):
    path = tmp_path / "tagged.mp4"
    with av.open(str(path), "w") as container:
        container.metadata[PROVENANCE_TAG] = DEEP
        stream = container.add_stream("mpeg4", rate=16)
        stream.width, stream.height, stream.pix_fmt = 16, 16, "yuv420p"
        frame = av.VideoFrame.from_ndarray(np.zeros((16, 16, 3), np.uint8), format="rgb24")
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    with pytest.raises(MediaError, match=f"tagged.mp4: its '{PROVENANCE_TAG}' tag is not JSON"):
        read_metadata(path)


def test_a_model_manifest_nested_too_deep_names_the_file(tmp_path: Path):
    (tmp_path / MANIFEST).write_text(DEEP)
    with pytest.raises(ModelStoreError, match=r"manifest.json is not a readable model manifest \(its text is nested "
                                              r"deeper than 64 levels"):
        load_manifest(tmp_path)


def test_a_text_encoder_config_nested_too_deep_names_the_file(tmp_path: Path):
    (tmp_path / "config.json").write_text('{"model_type": ' + DEEP)
    with pytest.raises(TextEncoderError, match="config.json is not readable JSON: its text is nested deeper"):
        inspect_folder(tmp_path)
