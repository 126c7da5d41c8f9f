class Inventory:
    """Counts items in stock; an item whose count drops to zero is gone."""

    def __init__(self):
        self.stock = {}

    def add(self, name, count=1):
        self.stock[name] = self.stock.get(name, 0) + count

    def remove(self, name, count=1):
        have = self.stock.get(name, 0)
        if count > have:
            raise ValueError(f"only {have} {name} in stock")
        left = have - count
        if left == 0:
            del self.stock[name]
        else:
            self.stock[name] = left

    def names(self):
        return sorted(self.stock)
