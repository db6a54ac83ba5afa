"""The report's look: colour-blind-safe palette, markers, line styles and matplotlib settings.

Shared by the study's figures (:mod:`nnstudy.report.figures`) and the
lectures' figures (:mod:`nnstudy.report.lecture_figures`).
"""

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
DASHES = ("-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)), (0, (1, 1)), (0, (8, 2)))
LABEL_COLOURS = {"converged": "#0072B2", "stalled at chance": "#E69F00", "diverged": "#D55E00"}
LABEL_HATCHES = {"converged": "", "stalled at chance": "//", "diverged": "xx"}
PNG_DPI = 110

STYLE = {
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "legend.fontsize": 7,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.5,
    "svg.fonttype": "none",
    "svg.hashsalt": "nnstudy",
    "figure.dpi": PNG_DPI,
}
