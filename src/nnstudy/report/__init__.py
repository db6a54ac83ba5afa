"""The report: figures, sections and the page, drawn from the tables alone."""
