import pytest

from solution import Inventory


def test_add_and_remove_some():
    inv = Inventory()
    inv.add("apple", 3)
    inv.remove("apple", 2)
    assert inv.stock == {"apple": 1}


def test_item_gone_at_zero():
    inv = Inventory()
    inv.add("pear", 2)
    inv.add("fig")
    inv.remove("pear", 2)
    assert inv.names() == ["fig"]


def test_cannot_remove_more_than_stock():
    inv = Inventory()
    inv.add("kiwi")
    with pytest.raises(ValueError):
        inv.remove("kiwi", 2)
