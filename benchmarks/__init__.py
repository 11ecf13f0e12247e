"""Speed and accuracy measured as ratios against references run in the same process."""
