"""The scale benchmark: `make bench` or `python -m bench [--groups N]`.

Not part of the test suite. It builds one big company (100,000 groups by default) in a
fresh database and prints how long the operations the issues ask about take, with the
number of SQL queries each ran: the tree and its pages, the pool check, the usage report
against one hand-written SQL query on the same data (bench/usage.py), and the expiry and
reminder sweeps over 1,000,000 blocks with 1% and 10% due (bench/sweeps.py). It never
asserts a timing: the numbers are for people.
"""
