"""Datasets: generators, the course's and the packages' files, and the splits."""
