"""The one ETA rule (services.core.eta), used by the Jobs dock, the CLI bar, Analyse and training."""

from services.core.eta import RecentRate, format_eta, remaining_seconds


def test_remaining_is_elapsed_per_unit_times_units_left():
    assert remaining_seconds(25, 100, 10.0) == 30.0
    assert remaining_seconds(0.5, 1.0, 4.0) == 4.0


def test_remaining_unknown_until_work_is_done_and_after_the_end():
    assert remaining_seconds(0, 100, 5.0) is None
    assert remaining_seconds(10, None, 5.0) is None
    assert remaining_seconds(100, 100, 5.0) is None


def test_recent_rate_forgets_old_samples():
    rate = RecentRate()
    rate.add(0, now=0.0)
    assert rate.add(100, now=10.0) == 10.0
    # a stall, then a fast spell: the first 10 s fade out of the window
    rate.add(100, now=30.0)
    assert rate.add(300, now=32.0) == 100.0
    assert RecentRate.remaining(300, 500, 100.0) == 2.0
    assert RecentRate.remaining(500, 500, 100.0) is None


def test_format_eta():
    assert format_eta(42.4) == "42s"
    assert format_eta(185) == "3m 05s"
    assert format_eta(4020) == "1h 07m"
