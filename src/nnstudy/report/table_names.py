"""The names of the report's tables: the one list the package and workflow/rules/report.smk read.

No imports: the workflow reads these lists while it parses the rules.
"""

# The derived tables (nnstudy.analysis.derived.derive), all written as CSV.
TABLES = (
    "datasets",
    "replication_check",
    "overview",
    "recommendations",
    "interaction_shares",
    "interaction_means",
    "ranks",
    "combination_ranks",
    "profiles",
    "profile_summary",
    "time_to_target",
    "time_to_target_summary",
    "chosen_learning_rates",
    "boundary_grid",
    "boundary_points",
    "boundary_models",
    "gradcheck_summary",
    "norms",
    "norm_summary",
    "regularizer_weight_norms",
    "run_labels",
    "failure_counts",
    "bias_variance",
    "stage_times",
    "versions",
    "verdicts",
    "verdict_details",
    "verdicts_without_failing",
    "failing_levels",
    "interaction_tests",
    "level_aggregates",
    "improvement",
    "critical_differences",
    "pairwise_wilcoxon",
    "power",
)

# The derived tables also written as Markdown and LaTeX (the tables the HTML report shows).
TEXT_TABLES = (
    "datasets",
    "replication_check",
    "overview",
    "recommendations",
    "interaction_shares",
    "combination_ranks",
    "profile_summary",
    "time_to_target_summary",
    "chosen_learning_rates",
    "gradcheck_summary",
    "norm_summary",
    "regularizer_weight_norms",
    "failure_counts",
    "bias_variance",
    "stage_times",
    "versions",
    "verdicts",
    "verdicts_without_failing",
    "failing_levels",
    "interaction_tests",
    "level_aggregates",
    "improvement",
    "critical_differences",
    "power",
)

# Derived from wall times, so they differ between runs; every other output is
# reproducible byte for byte.
TIMING_OUTPUTS = ("stage_times", "time_to_target", "time_to_target_summary")

# The tuning job's tables (issue 14): every trial of every tuning unit, and each unit's choice.
TUNING_TABLES = ("tuning_trials", "tuning_chosen")

# What the tuning budget buys (nnstudy.analysis.budget), from the tuning tables.
BUDGET_TABLES = ("budget_curves", "budget_summary", "best_optimizer_probability", "tuning_edges")

# The same runs analysed under two tuning protocols (nnstudy.analysis.protocols):
# the verdict flips and the level ranks.
PROTOCOL_TABLES = ("protocol_sensitivity", "protocol_ranks")
