import pytest

from solution import running_mean


def test_windows_of_two():
    assert running_mean([1, 2, 3, 4], 2) == [1.5, 2.5, 3.5]


def test_window_as_long_as_the_list():
    assert running_mean([2, 4, 6], 3) == [4.0]


def test_window_longer_than_the_list():
    assert running_mean([1, 2], 3) == []


def test_bad_window():
    with pytest.raises(ValueError):
        running_mean([1, 2], 0)
