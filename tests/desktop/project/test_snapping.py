"""Snapping a dragged frame to clip edges, markers, the playhead and frame 0."""

from sample_projects import sample_project

from desktop.project.snapping import snap, snap_points


def test_snap_points_are_clip_edges_markers_the_playhead_and_zero():
    project = sample_project()
    assert snap_points(project, playhead=70) == {0, 20, 36, 40, 88, 100, 132, 160, 70}
    assert 132 not in snap_points(project, ignore={"c3"})
    project.markers = [55, 120]
    assert {55, 120} <= snap_points(project) and {55, 120} <= snap_points(project, playhead=70)


def test_snap_goes_to_the_nearest_point_within_tolerance():
    project = sample_project()
    assert snap(project, 38, tolerance=3) == 36  # 36 is 2 away, 40 is 2 away: the earlier wins
    assert snap(project, 39, tolerance=3) == 40
    assert snap(project, 66, tolerance=3, playhead=68) == 68
    assert snap(project, 60, tolerance=3) == 60
    assert snap(project, 2, tolerance=2) == 0
    assert snap(project, 131, tolerance=3, ignore={"c3"}) == 131
    project.markers = [58]
    assert snap(project, 60, tolerance=3) == 58, "a marker catches a dragged edge"
