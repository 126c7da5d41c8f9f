from solution import find


def test_finds_first_and_middle():
    assert find([1, 3, 5, 7, 9], 1) == 0
    assert find([1, 3, 5, 7, 9], 5) == 2


def test_finds_last():
    assert find([1, 3, 5, 7, 9], 9) == 4


def test_absent():
    assert find([1, 3, 5, 7, 9], 4) == -1
    assert find([], 4) == -1
