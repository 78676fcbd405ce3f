from rfconsole.tui.widgets.sparkline import BARS, sparkline


def test_bars_scale_to_the_ceiling_and_keep_the_width() -> None:
    line = sparkline([0, 50, 100], width=5)
    assert line == "  " + BARS[0] + BARS[4] + BARS[-1]


def test_only_the_last_values_that_fit_are_drawn() -> None:
    assert sparkline([100] * 3 + [0] * 12, width=4) == " " * 4
    assert sparkline(list(range(0, 101, 10)), width=3) == BARS[6] + BARS[6] + BARS[-1]  # 80, 90, 100 %


def test_an_idle_history_is_blank() -> None:
    assert sparkline([0.0, 0.0], width=6) == " " * 6
