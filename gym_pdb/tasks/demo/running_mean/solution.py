def running_mean(values, window):
    """Return the mean of every run of `window` consecutive values."""
    if window <= 0:
        raise ValueError("window must be positive")
    means = []
    for start in range(len(values) - window):
        chunk = values[start:start + window]
        total = sum(chunk)
        means.append(total / window)
    return means
