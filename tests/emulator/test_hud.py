import numpy as np

from mobilestyle.emulator.hud import PANE_SIZE, SIDE_BY_SIDE_PANE_SIZE, HudInfo, compose, hud_lines

INFO = HudInfo(model="mosaic", backend="openvino", fps=12.34, fps_target=15, latency_ms=61.2, frames_in=200,
               frames_dropped=50, source="clip.mp4")


def test_hud_lines_show_fps_latency_drops_backend_and_model():
    text = "\n".join(hud_lines(INFO))
    for expected in ("mosaic", "openvino", "12.3 (target 15)", "61 ms", "50 of 200 (25%)", "clip.mp4"):
        assert expected in text


def test_the_hud_is_drawn_over_the_top_left_of_the_stylized_frame_only():
    stylized = np.zeros((1080, 1920, 3), np.uint8)
    stylized[..., 1] = 180
    plain, with_hud = compose(stylized, None, None), compose(stylized, None, INFO)
    assert plain.shape == (PANE_SIZE[1], PANE_SIZE[0], 3)
    changed = np.argwhere(np.any(plain != with_hud, axis=-1))
    assert len(changed) > 1000
    top_panel = changed[changed[:, 0] < PANE_SIZE[1] // 2]
    assert top_panel[:, 1].max() < PANE_SIZE[0] // 2
    assert np.array_equal(plain[PANE_SIZE[1] // 3 : -100, PANE_SIZE[0] // 2 :], with_hud[PANE_SIZE[1] // 3 : -100, PANE_SIZE[0] // 2 :])


def test_side_by_side_puts_the_camera_frame_on_the_left():
    stylized = np.full((1080, 1920, 3), 200, np.uint8)
    camera = np.zeros((480, 853, 3), np.uint8)
    canvas = compose(stylized, camera, None)
    width, height = SIDE_BY_SIDE_PANE_SIZE
    assert canvas.shape == (height, 2 * width, 3)
    assert canvas[:, :width].max() == 0 and canvas[:, width:].min() == 200
