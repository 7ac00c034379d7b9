"""Project files that cannot be loaded as they are: corrupt, truncated, from a newer studio, hand-edited into nonsense,
or from the pre-release layout that the migrations bring up to date."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sample_projects import FOOTAGE, sample_project

from desktop.project.file import ProjectFileError, load_project, save_project
from desktop.project.schema import MIGRATIONS, SCHEMA_VERSION, project_to_json


def write(tmp_path: Path, content: str | bytes) -> Path:
    path = tmp_path / "film.istar"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def sample_data() -> dict:
    return project_to_json(sample_project(), FOOTAGE)


def load_error(path: Path) -> ProjectFileError:
    with pytest.raises(ProjectFileError) as caught:
        load_project(path)
    assert str(caught.value).startswith(f"{path}: ")
    return caught.value


def test_corrupt_json_names_the_place(tmp_path):
    error = load_error(write(tmp_path, '{"schema": 1,\n "fps": 16,,\n}'))
    assert "is not valid JSON" in str(error) and "line 2" in str(error)


def test_a_truncated_file_says_so(tmp_path):
    path = tmp_path / "film.istar"
    save_project(sample_project(), path)
    path.write_bytes(path.read_bytes()[:-200])
    assert "truncated" in str(load_error(path))


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\xff", "not UTF-8 text"),
        ("[1, 2]", "not an InfinityStar Studio project"),
        ('{"fps": 16}', "not an InfinityStar Studio project"),
        ('{"schema": "one"}', "whole number"),
        ('{"schema": 1, "fps": NaN}', "NaN"),
        ("[" * 100_000, "not valid JSON"),
    ],
)
def test_files_that_are_no_project_say_what_they_are(tmp_path, content, problem):
    assert problem in str(load_error(write(tmp_path, content)))


def test_a_file_from_a_newer_studio_says_which_schema_it_needs(tmp_path):
    error = load_error(write(tmp_path, json.dumps(sample_data() | {"schema": SCHEMA_VERSION + 1})))
    assert str(error).endswith(f"made by a newer version of the studio (schema {SCHEMA_VERSION + 1}); this build "
                               f"reads up to {SCHEMA_VERSION}")


def test_an_unreadable_path_is_a_project_file_error(tmp_path):
    assert "cannot be read" in str(load_error(tmp_path / "gone.istar"))


def set_field(data: dict, field: str, value) -> None:
    """Set `tracks[1].clips[0].length`-style `field` in `data`."""
    *parents, last = [int(key) if key.isdigit() else key for key in field.replace("[", ".").replace("]", "").split(".")]
    for key in parents:
        data = data[key]
    data[last] = value


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("tracks[1].clips[2].start", 30, "overlaps clip c1 (frames 0..40) on Video 1"),
        ("tracks[1].clips[0].media_id", "ghost", "media ghost, which the project does not have"),
        ("tracks[1].clips[0].length", -4, "at least 1 frame"),
        ("tracks[1].clips[0].start", -1, "before the timeline begins"),
        ("tracks[1].clips[2].length", 40, "short.mp4 has 32 frames"),
        ("tracks[1].clips[0].media_id", "music", "music.wav is audio; it cannot go on video track Video 1"),
        ("tracks[1].clips[0].gain", -2, "not a volume"),
        ("tracks[1].clips[1].id", "top", "another clip already has id 'top'"),
        ("tracks[0].kind", "subtitles", "should be one of video, audio, not 'subtitles'"),
        ("tracks[1].id", "v2", "another track already has id 'v2'"),
        ("tracks[0].muted", "yes", "should be true or false"),
        ("tracks[1].clips[0].length", 12.5, "should be a whole number, not 12.5"),
        ("tracks[1].clips[0].gain", True, "should be a number, not True"),
        ("tracks[1].clips", {"c1": {}}, "should be a list"),
        ("tracks[2]", "Audio 1", "should be an object, not 'Audio 1'"),
        ("media[0].kind", "hologram", "should be one of video, audio, image"),
        ("media[0].duration", "5 s", "should be a number, not '5 s'"),
        ("media[0].duration", 10**400, "should be a number"),
        ("media[0].provenance", [1], "should be an object or null"),
        ("media[1].id", "vid", "another media item already has id 'vid'"),
        ("media[2].path", "", "should be a non-empty string"),
        ("fps", 0, "should be at least 1, not 0"),
        ("width", "1280", "should be a whole number"),
    ],
)
def test_hand_edited_nonsense_names_the_field(tmp_path, field, value, problem):
    data = sample_data()
    set_field(data, field, value)
    error = load_error(write(tmp_path, json.dumps(data)))
    assert error.field == field
    assert str(error).startswith(f"{tmp_path / 'film.istar'}: {field}: ")
    assert problem in str(error)


@pytest.mark.parametrize(
    ("markers", "field", "problem"),
    [
        ([16, "32"], "markers[1]", "should be a whole number, not '32'"),
        ([-1], "markers[0]", "should be at least 0, not -1"),
        ([16, 8, 16], "markers", "marks frame 16 twice"),
        ({"at": 16}, "markers", "should be a list of frames, not {'at': 16}"),
    ],
)
def test_markers_a_hand_edit_broke_are_named(tmp_path, markers, field, problem):
    error = load_error(write(tmp_path, json.dumps(sample_data() | {"markers": markers})))
    assert error.field == field and str(error).endswith(f"{field}: {problem}")


def test_markers_are_kept_in_order(tmp_path):
    project = sample_project(tmp_path)
    project.markers = [8, 40]
    save_project(project, tmp_path / "film.istar")
    data = json.loads((tmp_path / "film.istar").read_text())
    assert data["markers"] == [8, 40]
    data["markers"] = [40, 8]
    assert load_project(write(tmp_path, json.dumps(data))).markers == [8, 40]


def test_a_missing_field_is_named(tmp_path):
    data = sample_data()
    del data["media"][0]["path"]
    error = load_error(write(tmp_path, json.dumps(data)))
    assert (error.field, str(error).rsplit(": ", 1)[1]) == ("media[0].path", "is missing")


def test_clips_out_of_order_in_the_file_are_put_in_order(tmp_path):
    data = sample_data()
    data["tracks"][1]["clips"].reverse()
    assert load_project(write(tmp_path, json.dumps(data))) == sample_project(tmp_path)


def test_every_older_schema_has_a_migration():
    assert sorted(MIGRATIONS) == list(range(SCHEMA_VERSION))


def in_seconds(data: dict) -> dict:
    """`data` as the pre-release studio wrote it: schema 0, clip times in seconds."""
    for track in data["tracks"]:
        for clip in track["clips"]:
            for key in ("start", "length", "source_in"):
                clip[key] /= data["fps"]
    return data | {"schema": 0}


def test_a_pre_release_file_with_clip_times_in_seconds_is_migrated(tmp_path):
    v0 = in_seconds(sample_data())
    v0["tracks"][1]["clips"] = [
        {"id": "c1", "media_id": "vid", "start": 0.03, "length": 2.53, "source_in": 0.625},
        {"id": "c2", "media_id": "still", "start": 2.56, "length": 3.0},  # touches c1: must still after rounding
    ]
    project = load_project(write(tmp_path, json.dumps(v0)))
    assert project.track("v2") == sample_project(tmp_path).track("v2")
    c1, c2 = project.track("v1").clips
    assert (c1.start, c1.length, c1.source_in, c1.gain) == (0, 41, 10, 1.0)  # ends at 40.96 -> 41, not 0 + 40
    assert (c2.start, c2.length, c2.source_in) == (41, 48, 0)
    save_project(project, tmp_path / "film.istar")
    assert json.loads((tmp_path / "film.istar").read_text())["schema"] == SCHEMA_VERSION


def test_a_pre_release_file_with_a_broken_time_names_it(tmp_path):
    v0 = in_seconds(sample_data())
    v0["tracks"][1]["clips"][0]["length"] = "long"
    assert load_error(write(tmp_path, json.dumps(v0))).field == "tracks[1].clips[0].length"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def places(data, prefix=()):
    """Every place in nested JSON data, as a key path."""
    yield prefix
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, value in items:
        yield from places(value, (*prefix, key))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_mangled_file_loads_or_raises_project_file_error(tmp_path, data):
    content = sample_data()
    where = data.draw(st.sampled_from(list(places(content))[1:]))
    parent = content
    for key in where[:-1]:
        parent = parent[key]
    if data.draw(st.booleans()) and isinstance(parent, dict):
        del parent[where[-1]]
    else:
        parent[where[-1]] = data.draw(json_values)
    path = write(tmp_path, json.dumps(content))
    try:
        load_project(path)
    except ProjectFileError as e:
        assert str(e).startswith(str(path))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_any_bytes_load_or_raise_project_file_error(tmp_path, content):
    with pytest.raises(ProjectFileError):
        load_project(write(tmp_path, content))


def test_a_schema_1_file_opens_unchanged_and_is_saved_in_the_current_schema(tmp_path):
    """Schema 2 adds transforms, fades, dissolves and titles (schema 3 their wrapping, schema 4 markers, schema 5
    clip speeds), all defaulting to what a schema 1 file meant."""
    data = sample_data() | {"schema": 1}
    project = load_project(write(tmp_path, json.dumps(data)))
    clips = [c for t in project.tracks for c in t.clips]
    assert clips and all(c.transform.mode == "fit" and c.fade_in == c.fade_out == 0 and c.speed == 1 for c in clips)
    save_project(project, tmp_path / "again.istar")
    assert project.markers == []
    assert json.loads((tmp_path / "again.istar").read_text())["schema"] == SCHEMA_VERSION == 5
