"""From result rows to tables: aggregation, statistics, comparisons and verdicts."""
